//! Checking a launch request, in the order of DESIGN.md §3 "Launch":
//! parse → consumer → signature and timestamp → nonce → LTI checks.

use axum::body::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode, header};
use lti_core::{ConsumerRecord, LaunchParams, check_timestamp};
use lti_oauth::{ErrorClass, OAuthError, SignedRequest};

use super::doctor::{self, Findings};
use crate::error::LtiRejection;
use crate::proxy::Arrival;
use crate::state::LtiState;

/// A secret used to verify launches for unknown or disabled consumer keys,
/// so that path does the same work as the known-key path (spec §5.2 O-9).
const DUMMY_SECRET: &str = "axum-lti dummy secret for unknown consumer keys";

/// When a launch's nonce is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// While the launch is checked, before anything else is stored: a
    /// [`Launch`](super::Launch) a handler extracts has its nonce spent.
    Now,
    /// With the launch itself, in the store's one unit of work
    /// ([`Store::record_fresh_launch`](lti_core::Store::record_fresh_launch)):
    /// the framework's `/launch` route, which always records the launch.
    WithLaunch,
}

/// An authenticated launch, before anything but its nonce is stored.
pub(crate) struct CheckedLaunch {
    pub(crate) consumer: ConsumerRecord,
    pub(crate) params: LaunchParams,
    /// The nonce still to be recorded ([`NonceCheck::WithLaunch`]).
    pub(crate) pending_nonce: Option<String>,
}

fn launch_failure(status: StatusCode, message: String, doctor: Option<Findings>) -> LtiRejection {
    LtiRejection::Launch {
        status,
        message,
        doctor,
    }
}

fn unauthorized(message: impl Into<String>, doctor: Option<Findings>) -> LtiRejection {
    launch_failure(StatusCode::UNAUTHORIZED, message.into(), doctor)
}

/// The answer to a launch whose nonce was seen before.
pub(crate) fn replayed() -> LtiRejection {
    unauthorized(
        "This launch was already used (its nonce was seen before). Launch again from the LMS.",
        None,
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The URL the consumer signed: canonical root + path + query (DESIGN.md §4).
pub(crate) fn signed_url(state: &LtiState, parts: &Parts) -> String {
    let path = parts.uri.path();
    match parts.uri.query() {
        Some(query) => format!("{}?{query}", state.root().join(path)),
        None => state.root().join(path),
    }
}

fn describe_oauth_error(err: &OAuthError) -> String {
    match err {
        OAuthError::MissingParameter { name } => format!(
            "The launch is not a signed LTI launch: the OAuth parameter {name} is missing or empty."
        ),
        OAuthError::UnsupportedSignatureMethod { method } => format!(
            "The signature method {method:?} is not accepted: use HMAC-SHA1 (or HMAC-SHA256)."
        ),
        OAuthError::UnsupportedVersion { version } => {
            format!("oauth_version must be 1.0, not {version:?}.")
        }
        OAuthError::DuplicateProtocolParameter { name } => {
            format!("The OAuth parameter {name} is given more than once.")
        }
        other => format!("The launch request is malformed: {other}."),
    }
}

/// Checks method, content type, signature, timestamp and (with
/// [`NonceCheck::Now`]) nonce; returns the consumer and the launch
/// parameters. The LTI message checks follow in [`check_message`].
pub(crate) async fn authenticate(
    state: &LtiState,
    parts: &Parts,
    body: &Bytes,
    nonce_check: NonceCheck,
) -> Result<CheckedLaunch, LtiRejection> {
    if parts.method != Method::POST {
        return Err(LtiRejection::MethodNotAllowed { allow: "POST" });
    }
    if !is_form(&parts.headers) {
        let found = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .chars()
            .take(80)
            .collect();
        return Err(LtiRejection::UnsupportedMediaType {
            expected: "application/x-www-form-urlencoded",
            found,
        });
    }
    let url = signed_url(state, parts);
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request =
        SignedRequest::from_parts("POST", &url, Some(body), authorization).map_err(|err| {
            let status = match err.class() {
                ErrorClass::BadRequest => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNAUTHORIZED,
            };
            launch_failure(status, describe_oauth_error(&err), None)
        })?;
    let max_id = state.settings().launch.max_id_len;
    if request.nonce().len() > max_id || request.consumer_key().len() > max_id {
        return Err(launch_failure(
            StatusCode::BAD_REQUEST,
            format!("oauth_nonce and oauth_consumer_key may be at most {max_id} bytes long."),
            None,
        ));
    }
    // PostgreSQL text cannot hold NUL: every query carrying one fails (a
    // 500 before this check). No LTI value needs it, so refuse the launch
    // before anything is looked up or stored, on every backend alike.
    if let Some(p) = request
        .parameters()
        .iter()
        .find(|p| p.name().contains('\0') || p.value().contains('\0'))
    {
        let name: String = p.name().chars().take(64).collect();
        return Err(launch_failure(
            StatusCode::BAD_REQUEST,
            format!("The launch parameter {name:?} contains a NUL character."),
            None,
        ));
    }

    let consumer = state
        .store()
        .find_consumer_by_key(request.consumer_key())
        .await?;
    let secret = match &consumer {
        Some(c) => match state.cipher().decrypt_str(c.secret.as_cipher_text()) {
            Ok(secret) => Some(secret),
            Err(err) => {
                return Err(LtiRejection::Internal(format!(
                    "the secret of consumer {:?} cannot be decrypted: {err}",
                    c.key
                )));
            }
        },
        None => None,
    };
    let verified = verify_signature(&request, secret.as_deref().unwrap_or(DUMMY_SECRET));
    let now = state.now();
    let skew = request.timestamp_secs().map(|ts| now - ts as i64);

    let Some(consumer) = consumer else {
        return Err(unauthorized(
            "The consumer key is not known to this tool. Check the key configured in the LMS.",
            None,
        ));
    };
    if !consumer.enabled {
        return Err(unauthorized(
            "This consumer key is disabled. Ask the tool's administrator to enable it.",
            None,
        ));
    }
    let Some(request) = verified else {
        let arrival = Arrival::from_headers(&parts.headers);
        let doctor = state.debug_launch().then(|| {
            doctor::diagnose_signature(
                state.root(),
                &url,
                &request,
                skew,
                parts.uri.query().is_some(),
                &arrival,
            )
        });
        tracing::warn!(
            consumer = %consumer.key,
            url = %url,
            skew_secs = skew.unwrap_or_default(),
            mismatch = %doctor::mismatch_summary(state.root(), &arrival),
            "launch refused: signature does not verify (check canonical_root against the launch URL the LMS uses)"
        );
        return Err(unauthorized(
            "The launch signature does not verify: the LMS and the tool disagree about the \
             launch URL or the consumer secret.",
            doctor,
        ));
    };

    let window = state.settings().launch.timestamp_window_secs;
    let window_u32 = u32::try_from(window).unwrap_or(u32::MAX);
    if let Err(err) = check_timestamp(request.timestamp(), now, window_u32) {
        let doctor = state
            .debug_launch()
            .then(|| doctor::diagnose_clock(skew.unwrap_or_default(), window));
        return Err(unauthorized(
            format!("The launch's timestamp is not acceptable: {err}."),
            doctor,
        ));
    }
    let pending_nonce = match nonce_check {
        NonceCheck::Now => {
            record_nonce(state, &consumer, request.nonce()).await?;
            None
        }
        NonceCheck::WithLaunch => Some(request.nonce().to_owned()),
    };
    let params = LaunchParams::new(
        request
            .parameters()
            .iter()
            .filter(|p| p.name() != "oauth_signature")
            .map(|p| (p.name().to_owned(), p.value().to_owned()))
            .collect(),
    );
    Ok(CheckedLaunch {
        consumer,
        params,
        pending_nonce,
    })
}

/// Records a nonce on its own; a replay is refused.
pub(crate) async fn record_nonce(
    state: &LtiState,
    consumer: &ConsumerRecord,
    nonce: &str,
) -> Result<(), LtiRejection> {
    let fresh = state
        .store()
        .record_nonce(consumer.id, nonce, state.now())
        .await?;
    if fresh { Ok(()) } else { Err(replayed()) }
}

/// Verifies the signature, retrying once without the query parameters that
/// Canvas copies into the body (they are signed only once; field survey
/// §2.2 #12). Returns the request whose parameters verified.
fn verify_signature(request: &SignedRequest, secret: &str) -> Option<SignedRequest> {
    count_signature_check();
    if request.verify(secret).is_ok() {
        return Some(request.clone());
    }
    let retry = request.without_canvas_query_duplicates()?;
    count_signature_check();
    retry.verify(secret).is_ok().then_some(retry)
}

thread_local! {
    /// Signature verifications (HMAC computations) run on this thread.
    static SIGNATURE_CHECKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count_signature_check() {
    SIGNATURE_CHECKS.with(|n| n.set(n.get() + 1));
}

/// How many launch signatures this thread has verified: the test hook that
/// shows an unknown or disabled consumer key costs the same signature work
/// as a known one (spec §5.2 O-9).
pub(crate) fn signature_checks_on_this_thread() -> u64 {
    SIGNATURE_CHECKS.with(std::cell::Cell::get)
}

/// The LTI checks L-1..L-3 and the id length limits. Protocol errors of an
/// authenticated launch go back to the LMS when it gave a return URL
/// (LTI 1.1 `lti_errormsg`/`lti_log`), otherwise they are a 400 page.
///
/// A launch whose nonce is still pending has it recorded before a protocol
/// error is answered, as if it had been recorded first (DESIGN.md §3
/// "Launch": the nonce before the LTI checks), so replaying it is refused
/// as a replay.
pub(crate) async fn check_message(
    state: &LtiState,
    launch: &CheckedLaunch,
) -> Result<(), LtiRejection> {
    let problem = match launch.params.check_basic_launch() {
        Err(err) => Some(err.to_string()),
        Ok(()) => {
            let max = state.settings().launch.max_id_len;
            [
                ("resource_link_id", launch.params.resource_link_id()),
                ("user_id", launch.params.user_id()),
                ("context_id", launch.params.context_id()),
            ]
            .into_iter()
            .find(|(_, value)| value.is_some_and(|v| v.len() > max))
            .map(|(name, _)| format!("{name} is longer than {max} bytes."))
        }
    };
    let Some(message) = problem else {
        return Ok(());
    };
    if let Some(nonce) = &launch.pending_nonce {
        record_nonce(state, &launch.consumer, nonce).await?;
    }
    tracing::warn!(consumer = %launch.consumer.key, reason = %message, "launch refused: protocol error");
    match launch.params.launch_presentation_return_url() {
        Some(return_url) => {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair(
                "lti_errormsg",
                &format!("The tool could not accept this launch: {message}"),
            );
            q.append_pair("lti_log", &format!("LTI launch refused: {message}"));
            let separator = if return_url.contains('?') { '&' } else { '?' };
            let location = format!("{return_url}{separator}{}", q.finish());
            Err(LtiRejection::Redirect(Box::new(crate::session::see_other(
                &location,
            ))))
        }
        None => Err(launch_failure(StatusCode::BAD_REQUEST, message, None)),
    }
}
