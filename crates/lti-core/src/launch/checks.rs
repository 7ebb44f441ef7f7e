//! The LTI message checks of a basic launch (spec §5.4: L-1, L-2, L-3).
//!
//! The messages are written for the person who sees the error page, and are
//! also what the tool sends back as `lti_errormsg` (LTI 1.1 return URL).
//! Values echoed from the request are shortened and stripped of control
//! characters; pages must still escape them.

use super::LaunchParams;
use crate::roles::shorten_for_display;

/// The `lti_message_type` of a basic launch (LTI 1.1, spec §5.4 L-1).
pub const BASIC_LAUNCH_MESSAGE_TYPE: &str = "basic-lti-launch-request";

/// The `lti_version` of LTI 1.0 and 1.1 launches (spec §5.4 L-2). LTI 1.1
/// kept `LTI-1p0`; there is no `LTI-1p1`.
pub const LTI_VERSION_1P0: &str = "LTI-1p0";

/// How many characters of a bad value an error message repeats.
const ECHO_LIMIT: usize = 60;

/// Why a launch is not a valid LTI 1.x basic launch (spec §5.4).
///
/// The [`Display`](std::fmt::Display) text is a complete sentence for an
/// error page or `lti_errormsg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// No `lti_message_type` (L-1).
    #[error(
        "The request has no lti_message_type, so it is not an LTI launch. Start the tool from \
         a link in your learning platform."
    )]
    MissingMessageType,
    /// An LTI 1.3 (OpenID Connect) message reached the LTI 1.1 launch
    /// endpoint: it carries `id_token`, or `iss` and `login_hint`, and no
    /// `lti_message_type`. The platform has the tool registered as LTI 1.3,
    /// often because an LTI 1.3 tool on the same domain took over its links
    /// (hypothesis/lms #4189).
    #[error(
        "The learning platform sent an LTI 1.3 launch, but this tool is set up for LTI 1.1 \
         (consumer key and secret). Ask the platform's administrator to configure the tool as \
         an LTI 1.1 tool."
    )]
    Lti13Message,
    /// `lti_message_type` is not `basic-lti-launch-request` (L-1), e.g.
    /// `ContentItemSelectionRequest` sent to the launch URL.
    #[error(
        "This tool accepts LTI basic launches (lti_message_type \"basic-lti-launch-request\"), \
         but the learning platform sent lti_message_type \"{found}\"."
    )]
    WrongMessageType {
        /// The value sent, shortened for display.
        found: String,
    },
    /// No `lti_version` (L-2).
    #[error(
        "The launch has no lti_version, so the tool cannot tell which version of LTI the \
         learning platform is using. LTI 1.0 and 1.1 launches send lti_version \"LTI-1p0\"."
    )]
    MissingVersion,
    /// `lti_version` is not `LTI-1p0` (L-2).
    #[error(
        "This tool accepts LTI 1.0 and 1.1 launches (lti_version \"LTI-1p0\"), but the \
         learning platform sent lti_version \"{found}\". Configure the tool in the learning \
         platform as an LTI 1.1 tool."
    )]
    UnsupportedVersion {
        /// The value sent, shortened for display.
        found: String,
    },
    /// No `resource_link_id`, or a blank one (L-3).
    #[error(
        "The launch has no resource_link_id, so the tool cannot tell which link was used. Ask \
         the learning platform's administrator to check how the link to this tool is set up."
    )]
    MissingResourceLinkId,
}

impl LaunchParams {
    /// Checks that this is an LTI 1.0/1.1 basic launch, in the order of
    /// spec §5.4:
    ///
    /// * L-1: `lti_message_type` equals `basic-lti-launch-request`,
    ///   ignoring ASCII case (Pyslet lower-cases it);
    /// * L-2: `lti_version` equals `LTI-1p0` exactly. LTI 1.1 kept that
    ///   value, and the IMS certification suite (tests 1.5–1.7, as run in
    ///   hypothesis/lms #1113, #1114, #1117) expects an invalid, wrong or
    ///   missing version to be refused, so `LTI-1p1` (which no version of
    ///   LTI defines) and LTI 2.0's `LTI-2p0` (a different message
    ///   contract, also what Moodle sends for LTI 2 registrations) are
    ///   refused with a message that names the value;
    /// * L-3: `resource_link_id` is present and not blank.
    ///
    /// OAuth must have been checked before: these errors are meant for an
    /// authenticated consumer.
    ///
    /// # Errors
    ///
    /// The first [`LaunchError`] found.
    pub fn check_basic_launch(&self) -> Result<(), LaunchError> {
        match self.get_nonblank("lti_message_type") {
            None if self.looks_like_lti13() => return Err(LaunchError::Lti13Message),
            None => return Err(LaunchError::MissingMessageType),
            Some(t) if !t.eq_ignore_ascii_case(BASIC_LAUNCH_MESSAGE_TYPE) => {
                return Err(LaunchError::WrongMessageType {
                    found: shorten_for_display(t, ECHO_LIMIT),
                });
            }
            Some(_) => {}
        }
        match self.get_nonblank("lti_version") {
            None => return Err(LaunchError::MissingVersion),
            Some(v) if v != LTI_VERSION_1P0 => {
                return Err(LaunchError::UnsupportedVersion {
                    found: shorten_for_display(v, ECHO_LIMIT),
                });
            }
            Some(_) => {}
        }
        if self.resource_link_id().is_none() {
            return Err(LaunchError::MissingResourceLinkId);
        }
        Ok(())
    }

    /// Whether the request looks like an LTI 1.3 message (an OpenID Connect
    /// login initiation or an `id_token` launch) rather than LTI 1.x: no
    /// `lti_message_type`, and either `id_token` or both `iss` and
    /// `login_hint`. Lets the launch handler explain the mix-up instead of
    /// reporting a bad OAuth signature.
    #[must_use]
    pub fn looks_like_lti13(&self) -> bool {
        self.get_nonblank("lti_message_type").is_none()
            && (self.get_nonblank("id_token").is_some()
                || (self.get_nonblank("iss").is_some()
                    && self.get_nonblank("login_hint").is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(extra: &[(&str, &str)]) -> LaunchParams {
        let mut pairs = vec![
            ("lti_message_type", BASIC_LAUNCH_MESSAGE_TYPE),
            ("lti_version", LTI_VERSION_1P0),
            ("resource_link_id", "rl1"),
        ];
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name, value));
        }
        pairs.into_iter().collect()
    }

    #[test]
    fn wrong_values_are_echoed_short_and_clean() {
        let long = format!("x\r\n{}", "y".repeat(500));
        let err = launch(&[("lti_version", &long)])
            .check_basic_launch()
            .expect_err("bad version");
        let message = err.to_string();
        assert!(!message.contains('\n'));
        assert!(message.len() < 400, "{message}");
    }

    #[test]
    fn lti13_requests_are_recognised() {
        let oidc: LaunchParams = [
            ("iss", "https://canvas.instructure.com"),
            ("login_hint", "abc"),
            ("target_link_uri", "https://tool.example/launch"),
        ]
        .into_iter()
        .collect();
        assert_eq!(oidc.check_basic_launch(), Err(LaunchError::Lti13Message));
        let id_token: LaunchParams = [("id_token", "eyJ..."), ("state", "s")]
            .into_iter()
            .collect();
        assert!(id_token.looks_like_lti13());
        assert!(!launch(&[("id_token", "x")]).looks_like_lti13());
    }

    #[test]
    fn content_item_request_is_not_a_basic_launch() {
        assert_eq!(
            launch(&[("lti_message_type", "ContentItemSelectionRequest")]).check_basic_launch(),
            Err(LaunchError::WrongMessageType {
                found: "ContentItemSelectionRequest".to_owned()
            })
        );
    }
}
