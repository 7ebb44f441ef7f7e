//! The cookie test: `/ctest`, `/wlaunch` and the redirect that starts it
//! (spec §4.5, with QW-7 and QW-10 fixed and a working merge, QL-10).
//!
//! A launch arrives in an LMS iframe, often cross-site. The tool sets its
//! cookies and redirects to `/ctest`, carrying the unestablished session in
//! the URL (`s`), bound to the return URL and the browser's User-Agent by a
//! MAC (`sig`). If the cookies come back, the session is established (new
//! id) and the browser goes on to the return URL. If not, the page offers a
//! link that opens `/wlaunch` in a new window, where the tool is first-party
//! and the session from the URL can be adopted (or merged into a session the
//! window already has).

use axum::body::Body;
use axum::extract::RawQuery;
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use lti_core::MacPurpose;

use super::Session;
use super::data::SessionData;
use super::handle::RawSession;
use crate::error::LtiRejection;
use crate::pages::{CookieFailurePage, CookieTestPage};
use crate::state::LtiState;

/// The message `sig` signs: the session string, the return URL and the
/// User-Agent, each length-prefixed so no two triples share a message.
fn test_message(s: &str, return_url: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "ctest:{}:{s}:{}:{return_url}:{}:{user_agent}",
        s.len(),
        return_url.len(),
        user_agent.len()
    )
    .into_bytes()
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A 303 See Other to an absolute URL. Bytes a URI may not hold as they
/// are (non-ASCII, as in an IRI return URL an LMS sends, spaces) are
/// percent-encoded (RFC 3987 §3.1), so every target can be sent.
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(&uri_escape(location)) {
        Ok(value) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::SEE_OTHER;
            response.headers_mut().insert(header::LOCATION, value);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => LtiRejection::Internal("unrepresentable redirect target".into()).into_response(),
    }
}

/// `url` with every byte outside visible ASCII percent-encoded.
fn uri_escape(url: &str) -> std::borrow::Cow<'_, str> {
    if url.bytes().all(|b| b.is_ascii_graphic()) {
        return std::borrow::Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len() + 16);
    for byte in url.bytes() {
        if byte.is_ascii_graphic() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        q.append_pair(name, value);
    }
    q.finish()
}

/// Sends the browser through the cookie test on its way to `return_url`
/// (spec §4.5.1): sets the test cookie and answers 303 to
/// `<root>ctest?return=…&s=…&sig=…`. The session must exist.
pub(crate) fn start_cookie_test(
    state: &LtiState,
    session: &Session,
    headers: &HeaderMap,
    return_url: &str,
) -> Response {
    session.id();
    session.set_test_cookie();
    let s = session.encoded().unwrap_or_default();
    let sig = state
        .cipher()
        .sign(
            MacPurpose::SessionCookie,
            &test_message(&s, return_url, user_agent(headers)),
            state.now(),
        )
        .to_string();
    let location = format!(
        "{}?{}",
        state.root().join("ctest"),
        query_string(&[("return", return_url), ("s", &s), ("sig", &sig)])
    );
    see_other(&location)
}

/// Redirects to `return_url` directly when the browser returns cookies,
/// otherwise through the cookie test.
pub(crate) fn redirect_via_cookie_test(
    state: &LtiState,
    session: &Session,
    headers: &HeaderMap,
    return_url: &str,
) -> Response {
    if session.cookies_work() {
        see_other(return_url)
    } else {
        start_cookie_test(state, session, headers, return_url)
    }
}

/// The cookie test's query: `return`, `s`, `sig`, optional `framed`.
struct TestQuery {
    return_url: String,
    s: String,
    sig: String,
    framed: bool,
}

impl TestQuery {
    fn parse(raw: Option<&str>) -> Result<Self, LtiRejection> {
        let (mut return_url, mut s, mut sig, mut framed) = (None, None, None, false);
        for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match &*name {
                "return" if return_url.is_none() => return_url = Some(value.into_owned()),
                "s" if s.is_none() => s = Some(value.into_owned()),
                "sig" if sig.is_none() => sig = Some(value.into_owned()),
                "framed" => framed = value == "1",
                _ => {}
            }
        }
        match (return_url, s, sig) {
            (Some(return_url), Some(s), Some(sig)) => Ok(Self {
                return_url,
                s,
                sig,
                framed,
            }),
            _ => Err(LtiRejection::BadRequest(
                "This cookie-test link is incomplete: it needs the return, s and sig parameters. \
                 Launch the tool again from your course."
                    .into(),
            )),
        }
    }

    fn pairs(&self) -> [(&str, &str); 3] {
        [
            ("return", self.return_url.as_str()),
            ("s", self.s.as_str()),
            ("sig", self.sig.as_str()),
        ]
    }

    /// The unestablished session the query carries, when `sig` binds it to
    /// the return URL and this browser, and it is still young enough.
    fn verified_session(&self, state: &LtiState, headers: &HeaderMap) -> Option<SessionData> {
        let message = test_message(&self.s, &self.return_url, user_agent(headers));
        if !state
            .cipher()
            .verify_text(MacPurpose::SessionCookie, &message, &self.sig)
        {
            return None;
        }
        SessionData::decode(&self.s).filter(|d| !d.established)
    }
}

fn refuse(session: &Session, path: &str, event: &str, message: &str) -> Response {
    tracing::warn!(path, "{event}");
    session.clear_cookie();
    LtiRejection::BadRequest(message.into()).into_response()
}

const TAMPERED: &str = "This cookie-test link is not valid for this browser. Launch the tool \
                        again from your course.";
const EXPIRED: &str = "This cookie-test link has expired. Launch the tool again from your course.";

/// `GET /ctest` (spec §4.5.2).
pub(crate) async fn ctest(
    state: LtiState,
    RawSession(session): RawSession,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = match TestQuery::parse(raw.as_deref()) {
        Ok(query) => query,
        Err(rejection) => return rejection.into_response(),
    };
    if !session.cookies_work() {
        return if query.framed {
            let host = state.root().host().to_owned();
            Html(state.pages().cookie_failure(&CookieFailurePage { host })).into_response()
        } else {
            let wlaunch_url = format!(
                "{}?{}",
                state.root().join("wlaunch"),
                query_string(&query.pairs())
            );
            let valid_minutes = (state.settings().session.unestablished_secs + 59) / 60;
            Html(state.pages().cookie_test(&CookieTestPage {
                wlaunch_url,
                valid_minutes,
            }))
            .into_response()
        };
    }
    let Some(url_session) = query.verified_session(&state, &headers) else {
        return refuse(&session, "/ctest", "query tampering detected", TAMPERED);
    };
    let Some(cookie_session) = session.incoming().filter(|d| !d.established) else {
        return refuse(&session, "/ctest", "cookie tampering detected", TAMPERED);
    };
    if cookie_session.id != url_session.id {
        return refuse(
            &session,
            "/ctest",
            "session mismatch, possible fixation attack",
            TAMPERED,
        );
    }
    if !state.root().contains_url(&query.return_url) {
        return refuse(
            &session,
            "/ctest",
            "external redirect refused, possible phishing attack",
            TAMPERED,
        );
    }
    if !state.session_alive(&cookie_session, state.now()) {
        return refuse(&session, "/ctest", "cookie test too slow", EXPIRED);
    }
    if let Err(rejection) = session.load(&state).await {
        return rejection.into_response();
    }
    see_other(&query.return_url)
}

/// `GET /wlaunch`: the new-window path (spec §4.5.3).
pub(crate) async fn wlaunch(
    state: LtiState,
    RawSession(session): RawSession,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = match TestQuery::parse(raw.as_deref()) {
        Ok(query) => query,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(url_session) = query.verified_session(&state, &headers) else {
        return refuse(&session, "/wlaunch", "query tampering detected", TAMPERED);
    };
    if !state.root().contains_url(&query.return_url) {
        tracing::warn!(
            path = "/wlaunch",
            "external redirect refused, possible phishing attack"
        );
        return LtiRejection::BadRequest(TAMPERED.into()).into_response();
    }
    if !state.session_alive(&url_session, state.now()) {
        return refuse(&session, "/wlaunch", "new-window link too old", EXPIRED);
    }
    if !session.cookies_work() {
        // First visit of this window: take the session over from the URL
        // and test the cookies once more, marked as framed.
        session.adopt(url_session);
        session.set_test_cookie();
        let mut pairs = query.pairs().to_vec();
        pairs.push(("framed", "1"));
        let location = format!("{}?{}", state.root().join("ctest"), query_string(&pairs));
        return see_other(&location);
    }
    // The window already has the tool's cookies: keep its session and move
    // the framed session's visits into it.
    if let Err(rejection) = session.load(&state).await {
        return rejection.into_response();
    }
    let current = session.id();
    if current != url_session.id
        && let Err(err) = state
            .store()
            .merge_sessions(&url_session.id, &current)
            .await
    {
        return LtiRejection::from(err).into_response();
    }
    see_other(&query.return_url)
}
