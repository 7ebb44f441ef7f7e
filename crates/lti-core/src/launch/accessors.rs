//! Typed accessors for the LTI 1.1 basic launch parameters (LTI 1.1
//! Implementation Guide, "Basic Launch Data").
//!
//! Every text accessor returns the first non-blank value as sent, or `None`
//! when the parameter is missing or blank (L-8 / QL-8).

use super::{LaunchParams, is_absolute_http_url};
use crate::roles::{RoleList, parse_context_types};

/// Defines one `Option<&str>` accessor per parameter, named after it.
macro_rules! text_params {
    ($( $(#[doc = $doc:literal])+ $name:ident; )+) => {
        impl LaunchParams {
            $(
                $(#[doc = $doc])+
                #[must_use]
                pub fn $name(&self) -> Option<&str> {
                    self.get_nonblank(stringify!($name))
                }
            )+
        }
    };
}

text_params! {
    /// `lti_message_type`: `basic-lti-launch-request` for a launch (L-1).
    lti_message_type;
    /// `lti_version`: `LTI-1p0` for LTI 1.0 and 1.1 launches (L-2).
    lti_version;
    /// `resource_link_id`: the consumer's opaque id of the link launched;
    /// required (L-3).
    resource_link_id;
    /// `resource_link_title`: the link's title.
    resource_link_title;
    /// `resource_link_description`: the link's description.
    resource_link_description;
    /// `user_id`: the consumer's opaque id of the user.
    user_id;
    /// `user_image`: the URL of the user's picture.
    user_image;
    /// `lis_person_name_given`: the user's given name.
    lis_person_name_given;
    /// `lis_person_name_family`: the user's family name.
    lis_person_name_family;
    /// `lis_person_name_full`: the user's full name.
    lis_person_name_full;
    /// `lis_person_contact_email_primary`: the user's e-mail address.
    lis_person_contact_email_primary;
    /// `lis_person_sourcedid`: the user's id in the student information
    /// system.
    lis_person_sourcedid;
    /// `context_id`: the consumer's opaque id of the context (course).
    context_id;
    /// `context_title`: the context's title.
    context_title;
    /// `context_label`: the context's short label, e.g. a course code.
    context_label;
    /// `launch_presentation_locale`: the user's locale, e.g. `en-US`.
    launch_presentation_locale;
    /// `launch_presentation_document_target`: `frame`, `iframe` or `window`.
    launch_presentation_document_target;
    /// `launch_presentation_css_url`: a style sheet the tool may use.
    launch_presentation_css_url;
    /// `tool_consumer_info_product_family_code`: the consumer's product,
    /// e.g. `canvas`, `moodle`.
    tool_consumer_info_product_family_code;
    /// `tool_consumer_info_version`: the consumer product's version.
    tool_consumer_info_version;
    /// `tool_consumer_instance_guid`: the consumer instance's unique id.
    tool_consumer_instance_guid;
    /// `tool_consumer_instance_name`: the consumer instance's name.
    tool_consumer_instance_name;
    /// `tool_consumer_instance_description`: the consumer instance's
    /// description.
    tool_consumer_instance_description;
    /// `tool_consumer_instance_url`: the consumer instance's home page.
    tool_consumer_instance_url;
    /// `tool_consumer_instance_contact_email`: the consumer's contact
    /// address.
    tool_consumer_instance_contact_email;
    /// `lis_outcome_service_url`: where to send grades (Basic Outcomes).
    lis_outcome_service_url;
    /// `lis_result_sourcedid`: the gradebook cell of this user and link;
    /// opaque, kept exactly as sent.
    lis_result_sourcedid;
    /// `oauth_consumer_key`: the consumer key that signed the launch.
    oauth_consumer_key;
}

impl LaunchParams {
    /// `roles`, parsed (see [`RoleList`]). Missing or blank gives an empty
    /// list.
    #[must_use]
    pub fn roles(&self) -> RoleList {
        Self::roles_of(&self.params)
    }

    /// [`roles`](Self::roles) of parameters not wrapped in a
    /// `LaunchParams`, such as those stored with a visit, without copying
    /// them.
    #[must_use]
    pub fn roles_of(params: &[(String, String)]) -> RoleList {
        RoleList::parse(super::first_nonblank(params, "roles").unwrap_or_default())
    }

    /// `role_scope_mentor`: the `user_id`s of the users this user mentors
    /// (LTI 1.1), split on `,` and trimmed, blanks dropped.
    #[must_use]
    pub fn role_scope_mentor(&self) -> Vec<&str> {
        self.get_nonblank("role_scope_mentor")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `context_type`, parsed into sorted type URIs (see
    /// [`parse_context_types`]). Missing gives an empty list (QL-6).
    #[must_use]
    pub fn context_type(&self) -> Vec<String> {
        self.get_nonblank("context_type")
            .map(parse_context_types)
            .unwrap_or_default()
    }

    /// `launch_presentation_width` in pixels, when it is a plain number.
    #[must_use]
    pub fn launch_presentation_width(&self) -> Option<u32> {
        self.pixels("launch_presentation_width")
    }

    /// `launch_presentation_height` in pixels, when it is a plain number.
    #[must_use]
    pub fn launch_presentation_height(&self) -> Option<u32> {
        self.pixels("launch_presentation_height")
    }

    /// `launch_presentation_return_url`, but only when it is an absolute
    /// `http` or `https` URL (see [`is_absolute_http_url`]): the tool
    /// redirects the browser there, so `javascript:` and other schemes, and
    /// relative or malformed URLs, are never returned. Read the raw value
    /// with [`get`](Self::get).
    #[must_use]
    pub fn launch_presentation_return_url(&self) -> Option<&str> {
        self.get_nonblank("launch_presentation_return_url")
            .filter(|url| is_absolute_http_url(url))
    }

    fn pixels(&self, name: &str) -> Option<u32> {
        self.get_nonblank(name)?.trim().parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::{LaunchParams, Role};

    #[test]
    fn list_accessors() {
        let p: LaunchParams = [
            ("roles", "Learner, Mentor"),
            ("role_scope_mentor", "u1, u2,,"),
            ("context_type", "Group"),
            ("launch_presentation_width", "640"),
            ("launch_presentation_height", "100%"),
        ]
        .into_iter()
        .collect();
        assert_eq!(p.roles().roles(), &[Role::LEARNER, Role::MENTOR]);
        assert_eq!(p.role_scope_mentor(), ["u1", "u2"]);
        assert_eq!(p.context_type(), ["urn:lti:context-type:ims/lis/Group"]);
        assert_eq!(p.launch_presentation_width(), Some(640));
        assert_eq!(p.launch_presentation_height(), None);
    }

    #[test]
    fn missing_lists_are_empty() {
        let p = LaunchParams::default();
        assert!(p.roles().is_empty());
        assert!(p.roles().ignored().is_empty());
        assert!(p.role_scope_mentor().is_empty());
        assert!(p.context_type().is_empty());
    }

    #[test]
    fn return_url_only_http() {
        for (url, ok) in [
            ("https://lms.example.edu/return?x=1", true),
            ("javascript:alert(1)", false),
            ("/relative", false),
        ] {
            let p: LaunchParams = [("launch_presentation_return_url", url)]
                .into_iter()
                .collect();
            assert_eq!(p.launch_presentation_return_url().is_some(), ok, "{url}");
        }
    }
}
