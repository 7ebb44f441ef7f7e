//! The session layer: reads the session and test cookies, enforces CSRF on
//! state-changing requests, hands the handler a [`Session`], and writes the
//! cookies back (spec §4.3, §4.4; DESIGN.md §3 "Sessions").

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, Request, header};
use tower::{Layer, Service};

use super::Session;
use super::cookies::cookie_values;
use super::csrf::check_csrf;
use super::data::SessionData;
use crate::error::{finish_rejection, page_for_bare_error};
use crate::state::LtiState;

/// Installs sessions in front of a router. [`ToolProviderApp`] adds it; use
/// it directly only to put your own routes behind the same sessions.
///
/// [`ToolProviderApp`]: crate::ToolProviderApp
#[derive(Clone, Debug)]
pub struct SessionLayer {
    state: LtiState,
    csrf_exempt: &'static [&'static str],
}

impl SessionLayer {
    /// A layer for the given state. `/launch` is exempt from CSRF checks:
    /// it is OAuth-signed instead.
    pub fn new(state: LtiState) -> Self {
        Self {
            state,
            csrf_exempt: &["/launch"],
        }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            state: self.state.clone(),
            csrf_exempt: self.csrf_exempt,
        }
    }
}

/// The service made by [`SessionLayer`].
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    state: LtiState,
    csrf_exempt: &'static [&'static str],
}

impl<S> Service<Request<Body>> for SessionService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Use the service that was driven to readiness; leave a clone behind.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        let exempt = self.csrf_exempt;
        Box::pin(async move { Ok(handle(state, inner, exempt, request).await) })
    }
}

fn is_state_changing(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

async fn handle<S>(
    state: LtiState,
    mut inner: S,
    exempt: &'static [&'static str],
    mut request: Request<Body>,
) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    // Behind a trusted proxy (and without a canonical root) the root, and
    // with it every URL and cookie attribute, comes from this request.
    let state = crate::proxy::request_state(&state, &request);
    let path = request.uri().path().to_owned();
    let settings = &state.settings().session;
    let now = state.now();

    let sent = cookie_values(request.headers(), &settings.cookie);
    let incoming = sent
        .iter()
        .find_map(|value| SessionData::from_cookie(value, state.cipher()));
    if incoming.is_none() && sent.iter().any(|v| !v.is_empty()) {
        tracing::warn!(
            path,
            "session tampering detected: bad session cookie ignored"
        );
    }
    let test_cookie = !cookie_values(request.headers(), &settings.test_cookie).is_empty();
    let session = Session::new(incoming, test_cookie, now);
    request.extensions_mut().insert(session.clone());
    request.extensions_mut().insert(state.clone());

    let response = if is_state_changing(request.method()) && !exempt.contains(&path.as_str()) {
        match check_csrf(&state, &session, request).await {
            Ok(request) => call(&mut inner, request).await,
            Err(rejection) => rejection.into_response(),
        }
    } else {
        call(&mut inner, request).await
    };
    let response = page_for_bare_error(state.pages(), &path, response).await;
    let response = finish_rejection(state.pages(), &path, response);
    write_cookies(&state, &session, response)
}

async fn call<S>(inner: &mut S, request: Request<Body>) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    match inner.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Adds the `Set-Cookie` headers the session asks for. Nothing is written
/// after a server error, so a failed request cannot half-change a session.
fn write_cookies(state: &LtiState, session: &Session, mut response: Response) -> Response {
    if response.status().is_server_error() {
        return response;
    }
    let settings = &state.settings().session;
    let policy = state.cookies();
    let s = session.lock();
    let mut cookies = Vec::new();
    if s.clear {
        cookies.push(policy.clear_session(&settings.cookie));
    } else if let Some(data) = s.data.as_ref().filter(|_| s.dirty) {
        cookies.push(policy.session(&settings.cookie, &data.to_cookie(state.cipher(), s.now)));
    }
    if s.set_test_cookie {
        cookies.push(policy.test(&settings.test_cookie, settings.test_cookie_max_age_secs));
    }
    drop(s);
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
