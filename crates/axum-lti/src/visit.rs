//! The [`Visit`] extractor: Pyslet's `load_visit` (spec §6.3).

use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use http::Method;
use http::request::Parts;
use lti_core::{
    ConsumerRecord, ContextRecord, LaunchParams, Permissions, ResourceId, ResourceRecord, RoleList,
    UserRecord, VisitBundle, VisitRecord,
};

use crate::error::LtiRejection;
use crate::session::Session;
use crate::state::LtiState;

/// What a resource page handler receives: the visit of this browser session
/// to the resource in the URL, with the resource, its context, the user,
/// the consumer, the permissions frozen at launch and the launch parameters.
///
/// Extracting it from a request under `/resource/{id}/…`:
/// * a malformed path or id gives **404**;
/// * a browser that has not yet shown it returns cookies is sent through the
///   cookie test (GET and HEAD) and comes back;
/// * no visit of this session for that resource gives **403**, whether the
///   resource exists or not, so ids cannot be probed (spec §6.3, QL-11).
///
/// ```no_run
/// use axum_lti::Visit;
/// async fn page(visit: Visit) -> String {
///     format!("Hello {}, you are in {}", visit.display_name(), visit.resource().link_id)
/// }
/// ```
#[derive(Clone)]
pub struct Visit {
    inner: Arc<VisitInner>,
}

struct VisitInner {
    bundle: VisitBundle,
    /// Built from the visit's parameters when first asked for: most pages
    /// never look at them, and copying 30-odd strings per page view shows
    /// in the profile (PERFORMANCE.md).
    launch: OnceLock<LaunchParams>,
    /// Parsed from the visit's `roles` parameter when first asked for.
    roles: OnceLock<RoleList>,
    session: Session,
}

impl std::fmt::Debug for Visit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visit")
            .field("resource", &self.resource_id())
            .field("permissions", &self.permissions())
            .finish_non_exhaustive()
    }
}

impl Visit {
    /// The visit record.
    pub fn visit(&self) -> &VisitRecord {
        &self.inner.bundle.visit
    }

    /// The resource link launched.
    pub fn resource(&self) -> &ResourceRecord {
        &self.inner.bundle.resource
    }

    /// The resource's id, as in the URL.
    pub fn resource_id(&self) -> ResourceId {
        self.inner.bundle.resource.id
    }

    /// The resource's context (course), if the launch named one.
    pub fn context(&self) -> Option<&ContextRecord> {
        self.inner.bundle.context.as_ref()
    }

    /// The user, unless the launch was anonymous.
    pub fn user(&self) -> Option<&UserRecord> {
        self.inner.bundle.user.as_ref()
    }

    /// The tool consumer (LMS) the launch came from.
    pub fn consumer(&self) -> &ConsumerRecord {
        &self.inner.bundle.consumer
    }

    /// The permissions granted at launch.
    pub fn permissions(&self) -> Permissions {
        self.inner.bundle.visit.permissions
    }

    /// True when the visit may read.
    pub fn can_read(&self) -> bool {
        self.permissions().contains(Permissions::READ)
    }

    /// True when the visit may write.
    pub fn can_write(&self) -> bool {
        self.permissions().contains(Permissions::WRITE)
    }

    /// True when the visit may configure the resource.
    pub fn can_configure(&self) -> bool {
        self.permissions().contains(Permissions::CONFIGURE)
    }

    /// Fails with 403 unless the visit has all of `needed`.
    pub fn require(&self, needed: Permissions) -> Result<(), LtiRejection> {
        if self.permissions().contains(needed) {
            Ok(())
        } else {
            Err(LtiRejection::NoPermission)
        }
    }

    /// All launch parameters (`custom_*`, `ext_*`, `lis_*`,
    /// `launch_presentation_*`…), without the OAuth signature.
    pub fn launch(&self) -> &LaunchParams {
        self.inner
            .launch
            .get_or_init(|| LaunchParams::new(self.inner.bundle.visit.parameters.pairs().to_vec()))
    }

    /// The launch's roles (unknown ones left out).
    pub fn roles(&self) -> &RoleList {
        self.inner
            .roles
            .get_or_init(|| self.inner.bundle.visit.parameters.roles())
    }

    /// The session the visit belongs to.
    pub fn session(&self) -> &Session {
        &self.inner.session
    }

    /// The user's name for display: full name, else given and family name,
    /// else given name, else email, else empty (spec §6.4, with absent
    /// values stored as NULL so the fallbacks work, QL-8).
    pub fn display_name(&self) -> String {
        let Some(user) = self.user() else {
            return String::new();
        };
        fn nonempty(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.trim().is_empty())
        }
        if let Some(full) = nonempty(&user.full_name) {
            return full.to_owned();
        }
        match (nonempty(&user.given_name), nonempty(&user.family_name)) {
            (Some(given), Some(family)) => format!("{given} {family}"),
            (Some(given), None) => given.to_owned(),
            _ => nonempty(&user.email).unwrap_or_default().to_owned(),
        }
    }

    /// The resource's title, or `Resource: <link id>` when it has none.
    pub fn title(&self) -> String {
        match self.resource().title.as_deref().filter(|t| !t.is_empty()) {
            Some(title) => title.to_owned(),
            None => format!("Resource: {}", self.resource().link_id),
        }
    }

    /// The absolute URL of a page of this resource, e.g. `url("notes")` →
    /// `https://tool.example/resource/0000ABCD/notes`.
    pub fn url(&self, state: &LtiState, relative: &str) -> String {
        state.root().join(&format!(
            "resource/{}/{}",
            self.resource_id(),
            relative.trim_start_matches('/')
        ))
    }
}

/// The resource id in a path `/resource/<hex id>/…`: fewer than four
/// segments or a malformed id is `None` (404, spec §6.3).
pub(crate) fn resource_id_from_path(path: &str) -> Option<ResourceId> {
    let mut segments = path.split('/');
    let (Some(""), Some("resource"), Some(id), Some(_)) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return None;
    };
    id.parse().ok()
}

impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(visit) = parts.extensions.get::<Visit>() {
            return Ok(visit.clone());
        }
        let resource = resource_id_from_path(parts.uri.path()).ok_or(LtiRejection::NotFound)?;
        let session = Session::from_request_parts(parts, state).await?;
        let lti = LtiState::from_extensions(&parts.extensions)?;
        if !session.cookies_work() {
            if parts.method == Method::GET || parts.method == Method::HEAD {
                let here = match parts.uri.query() {
                    Some(q) => lti.root().join(&format!("{}?{q}", parts.uri.path())),
                    None => lti.root().join(parts.uri.path()),
                };
                let response =
                    crate::session::redirect_via_cookie_test(&lti, &session, &parts.headers, &here);
                return Err(LtiRejection::Redirect(Box::new(response)));
            }
            return Err(LtiRejection::NoVisit);
        }
        let Some(session_id) = session.existing_id() else {
            return Err(LtiRejection::NoVisit);
        };
        let bundle = lti
            .store()
            .find_visit(&session_id, resource)
            .await?
            .ok_or(LtiRejection::NoVisit)?;
        let visit = Visit {
            inner: Arc::new(VisitInner {
                bundle,
                launch: OnceLock::new(),
                roles: OnceLock::new(),
                session,
            }),
        };
        parts.extensions.insert(visit.clone());
        Ok(visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_come_from_the_fourth_segment() {
        assert_eq!(
            resource_id_from_path("/resource/0000ABCD/").map(|r| r.to_string()),
            Some("0000ABCD".into())
        );
        assert!(resource_id_from_path("/resource/0000abcd/notes/1").is_some());
        assert!(resource_id_from_path("/resource/0000ABCD").is_none());
        assert!(resource_id_from_path("/resource/").is_none());
        assert!(resource_id_from_path("/resource/XYZ/").is_none());
        assert!(resource_id_from_path("/resource//").is_none());
        assert!(resource_id_from_path("/other/0000ABCD/").is_none());
    }
}
