//! `POST /launch` and the [`Launch`] extractor (spec §5; DESIGN.md §3
//! "Launch").

mod doctor;
mod verify;

pub(crate) use verify::signature_checks_on_this_thread;

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use lti_core::{
    ConsumerRecord, ContextData, LaunchOutcome, LaunchParams, LaunchRecord, Permissions,
    ResourceData, RoleList, UserData,
};

use crate::error::LtiRejection;
use crate::session::{RawSession, Session, redirect_via_cookie_test};
use crate::state::LtiState;

/// Largest User-Agent kept with a visit, in characters (QL-16).
const MAX_USER_AGENT_CHARS: usize = 256;

/// An authenticated, checked LTI launch: the OAuth signature verified with
/// the consumer's secret, the timestamp within its window, the nonce
/// recorded as used, the LTI message checks passed.
///
/// The framework's own `/launch` route uses it; a tool author can build a
/// launch route of their own:
///
/// ```no_run
/// use axum_lti::{Launch, Session};
/// use axum::response::Response;
/// use http::HeaderMap;
/// async fn my_launch(launch: Launch, session: Session, headers: HeaderMap) -> Response {
///     tracing::info!(course = ?launch.params().context_id(), "custom launch");
///     launch.complete(&session, &headers).await
/// }
/// ```
#[derive(Debug)]
pub struct Launch {
    state: LtiState,
    consumer: ConsumerRecord,
    params: LaunchParams,
    roles: RoleList,
    permissions: Permissions,
    /// The nonce when it is to be recorded with the launch
    /// ([`verify::NonceCheck::WithLaunch`]).
    pending_nonce: Option<String>,
}

impl Launch {
    /// The consumer (LMS) that signed the launch.
    pub fn consumer(&self) -> &ConsumerRecord {
        &self.consumer
    }

    /// All launch parameters except the OAuth signature.
    pub fn params(&self) -> &LaunchParams {
        &self.params
    }

    /// The launch's roles; unknown and malformed ones are left out.
    pub fn roles(&self) -> &RoleList {
        &self.roles
    }

    /// The permissions the permission model grants these roles.
    pub fn permissions(&self) -> Permissions {
        self.permissions
    }

    /// Stores the launch in one transaction (context, resource, user, the
    /// visit replacing superseded ones, spec §5.4–§5.5) for the session,
    /// giving an established session a new id first.
    pub async fn record(
        &self,
        session: &Session,
        headers: &HeaderMap,
    ) -> Result<LaunchOutcome, LtiRejection> {
        // A pending nonce goes into the launch's own unit of work, except
        // when the request brought a session: loading and rotating it may
        // write (re-key its visits), which a replay must not do, so the
        // nonce is spent first, as the extractor does.
        // Without a session cookie the launch's session is made here, with
        // a new random id that no visit can have.
        let new_session = !session.came_with_cookie();
        let mut pending_nonce = self.pending_nonce.as_deref();
        if let Some(nonce) = pending_nonce.filter(|_| !new_session) {
            verify::record_nonce(&self.state, &self.consumer, nonce).await?;
            pending_nonce = None;
        }
        session.load(&self.state).await?;
        session.rotate(&self.state).await?;
        let p = &self.params;
        let owned = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
        let context = p.context_id().map(|id| {
            let types = p.context_type();
            ContextData {
                context_id: id.to_owned(),
                title: owned(p.context_title()),
                label: owned(p.context_label()),
                types: (!types.is_empty()).then(|| types.join(" ")),
            }
        });
        let resource = ResourceData {
            link_id: p.resource_link_id().unwrap_or_default().to_owned(),
            title: owned(p.resource_link_title()),
            description: owned(p.resource_link_description()),
        };
        let user = p.user_id().map(|id| UserData {
            user_id: id.to_owned(),
            given_name: owned(p.lis_person_name_given()),
            family_name: owned(p.lis_person_name_family()),
            full_name: owned(p.lis_person_name_full()),
            email: owned(p.lis_person_contact_email_primary()),
        });
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
        let record = LaunchRecord {
            consumer: self.consumer.id,
            context,
            resource,
            user,
            session: session.id(),
            new_session,
            permissions: self.permissions,
            user_agent,
            parameters: p
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            now: self.state.now(),
        };
        let store = self.state.store();
        let outcome = match pending_nonce {
            None => store.record_launch(record).await?,
            Some(nonce) => match store.record_fresh_launch(nonce, record).await? {
                Some(outcome) => outcome,
                None => {
                    // A replay: the session this launch started is not kept.
                    session.forget_unsaved();
                    return Err(verify::replayed());
                }
            },
        };
        tracing::info!(
            consumer = %self.consumer.key,
            resource = %outcome.resource,
            permissions = %self.permissions,
            "launch accepted"
        );
        Ok(outcome)
    }

    /// Records the launch and answers 303 to the resource page
    /// `<root>resource/<ID>/`, through the cookie test when this browser has
    /// not shown it returns cookies (spec §5.1 step 6).
    pub async fn complete(self, session: &Session, headers: &HeaderMap) -> Response {
        match self.record(session, headers).await {
            Ok(outcome) => {
                let target = self
                    .state
                    .root()
                    .join(&format!("resource/{}/", outcome.resource));
                redirect_via_cookie_test(&self.state, session, headers, &target)
            }
            Err(rejection) => rejection.into_response(),
        }
    }
}

impl Launch {
    /// Checks a launch request; `nonce_check` says whether its nonce is
    /// spent now or recorded with the launch.
    async fn check(
        request: Request,
        nonce_check: verify::NonceCheck,
    ) -> Result<Self, LtiRejection> {
        let (parts, body) = request.into_parts();
        let state = LtiState::from_extensions(&parts.extensions)?;
        if parts.method != http::Method::POST {
            return Err(LtiRejection::MethodNotAllowed { allow: "POST" });
        }
        let limit = state.settings().server.body_limit;
        let body = crate::body::read_limited(&parts.headers, body, limit).await?;
        let checked = verify::authenticate(&state, &parts, &body, nonce_check)
            .await
            .inspect_err(|err| {
                tracing::warn!(reason = %err, "launch refused");
            })?;
        verify::check_message(&state, &checked).await?;
        let roles = checked.params.roles();
        for ignored in roles.ignored() {
            tracing::warn!(
                consumer = %checked.consumer.key,
                role = ignored.raw(),
                reason = ?ignored.reason(),
                "ignored a role the tool does not understand"
            );
        }
        let permissions = state.permission_model().permissions(roles.roles());
        Ok(Launch {
            state,
            consumer: checked.consumer,
            params: checked.params,
            roles,
            permissions,
            pending_nonce: checked.pending_nonce,
        })
    }
}

/// Extracting a `Launch` spends its nonce: a replay is refused here, before
/// the handler runs.
impl<S: Send + Sync> FromRequest<S> for Launch {
    type Rejection = LtiRejection;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Launch::check(request, verify::NonceCheck::Now).await
    }
}

/// The framework's `/launch` handler: any method (others than POST get a
/// 405 page). It always records the launch, so the nonce is recorded with
/// it, in one unit of work (one statement on PostgreSQL).
pub(crate) async fn launch_handler(RawSession(session): RawSession, request: Request) -> Response {
    let headers = request.headers().clone();
    match Launch::check(request, verify::NonceCheck::WithLaunch).await {
        Ok(launch) => launch.complete(&session, &headers).await,
        Err(rejection) => rejection.into_response(),
    }
}
