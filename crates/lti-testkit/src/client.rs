//! [`TestClient`]: drives an axum `Router` in process, like a browser that
//! never follows redirects by itself.

use std::sync::{Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use http::header::{COOKIE, HOST, USER_AGENT};
use http::{HeaderName, HeaderValue, Method, Request};
use tower::ServiceExt as _;

use crate::cookies::CookieJar;
use crate::response::TestResponse;
use crate::url::{path_only, split_target};

/// The User-Agent both clients send unless told otherwise. The cookie test
/// binds its signature to the User-Agent, so a fixed one makes flows
/// repeatable.
pub const DEFAULT_USER_AGENT: &str = "lti-testkit/0.1 (like a browser)";

/// The state both clients share: the cookie jar and the User-Agent.
#[derive(Debug)]
pub(crate) struct ClientCore {
    jar: Mutex<CookieJar>,
    user_agent: Mutex<Option<String>>,
}

/// A request ready for a transport: method, path-and-query, headers, body.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) path_and_query: String,
    pub(crate) authority: Option<String>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data: a panic elsewhere while holding the lock leaves it usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ClientCore {
    pub(crate) fn new() -> Self {
        Self {
            jar: Mutex::new(CookieJar::new()),
            user_agent: Mutex::new(Some(DEFAULT_USER_AGENT.to_owned())),
        }
    }

    pub(crate) fn jar(&self) -> MutexGuard<'_, CookieJar> {
        lock(&self.jar)
    }

    pub(crate) fn block_cookies(&self) {
        *lock(&self.jar) = CookieJar::blocked();
    }

    pub(crate) fn user_agent(&self) -> Option<String> {
        lock(&self.user_agent).clone()
    }

    pub(crate) fn set_user_agent(&self, user_agent: Option<&str>) {
        *lock(&self.user_agent) = user_agent.map(str::to_owned);
    }

    /// Builds the request: the caller's headers, then `User-Agent` and
    /// `Cookie` from the client unless the caller gave them.
    ///
    /// # Panics
    ///
    /// On a header name or value that is not valid HTTP: a mistake in the
    /// test.
    pub(crate) fn prepare(
        &self,
        method: Method,
        target: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Prepared {
        let (path_and_query, authority) = split_target(target);
        let mut list: Vec<(HeaderName, HeaderValue)> = headers
            .iter()
            .map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .unwrap_or_else(|e| panic!("invalid header name {name:?}: {e}"));
                let value = HeaderValue::from_str(value)
                    .unwrap_or_else(|e| panic!("invalid value for header {name}: {e}"));
                (name, value)
            })
            .collect();
        let given = |name: &HeaderName| list.iter().any(|(n, _)| n == name);
        let mut extra = Vec::new();
        if !given(&USER_AGENT)
            && let Some(ua) = self.user_agent()
        {
            let value = HeaderValue::from_str(&ua)
                .unwrap_or_else(|e| panic!("invalid User-Agent {ua:?}: {e}"));
            extra.push((USER_AGENT, value));
        }
        if !given(&COOKIE)
            && let Some(cookies) = self.jar().cookie_header(path_only(&path_and_query))
        {
            let value = HeaderValue::from_str(&cookies)
                .unwrap_or_else(|e| panic!("cookie jar holds an invalid cookie: {e}"));
            extra.push((COOKIE, value));
        }
        list.extend(extra);
        Prepared {
            method,
            path_and_query,
            authority,
            headers: list,
            body,
        }
    }

    /// Stores the response's cookies for the request's path.
    pub(crate) fn receive(&self, path_and_query: &str, response: &TestResponse) {
        self.jar()
            .store_response(response.headers(), path_only(path_and_query));
    }
}

impl Prepared {
    /// An `http::Request` for `uri` with a `Host` header (from an absolute
    /// target, else `default_host`) and the body made by `body`.
    pub(crate) fn into_request<B>(
        self,
        uri: &str,
        default_host: &str,
        body: impl FnOnce(Bytes) -> B,
    ) -> Request<B> {
        let host = self.authority.as_deref().unwrap_or(default_host);
        let mut builder = Request::builder().method(self.method).uri(uri);
        if !self.headers.iter().any(|(n, _)| n == HOST) {
            builder = builder.header(HOST, host);
        }
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(body(self.body))
            .unwrap_or_else(|e| panic!("invalid request target {uri:?}: {e}"))
    }
}

/// The methods [`TestClient`] and [`HttpClient`](crate::HttpClient) share,
/// written once. Each type provides `request`.
macro_rules! client_api {
    ($client:ty) => {
        impl $client {
            /// Sends a `GET` to a path (`/resource/0000ABCD/`) or an
            /// absolute URL (`http://localhost:8080/ctest?…`, as found in a
            /// `Location`).
            pub async fn get(&self, target: &str) -> $crate::TestResponse {
                self.request(::http::Method::GET, target, &[], ::axum::body::Bytes::new())
                    .await
            }

            /// Sends a `POST` with an `application/x-www-form-urlencoded`
            /// body (see [`form_body`](crate::form_body)).
            pub async fn post_form(
                &self,
                target: &str,
                body: impl Into<String>,
            ) -> $crate::TestResponse {
                self.request(
                    ::http::Method::POST,
                    target,
                    &[("content-type", "application/x-www-form-urlencoded")],
                    ::axum::body::Bytes::from(body.into()),
                )
                .await
            }

            /// Posts a signed launch to its launch URL.
            pub async fn launch(&self, launch: &$crate::LaunchBuilder) -> $crate::TestResponse {
                self.post_form(launch.launch_url(), launch.body()).await
            }

            /// Follows a redirect once: `GET` of the response's `Location`.
            ///
            /// # Panics
            ///
            /// When the response has no `Location`.
            pub async fn follow(&self, response: &$crate::TestResponse) -> $crate::TestResponse {
                let Some(location) = response.location() else {
                    panic!(
                        "follow: the response ({}) has no Location header",
                        response.status()
                    );
                };
                let location = location.to_owned();
                self.get(&location).await
            }

            /// The value of a cookie in the jar.
            pub fn cookie(&self, name: &str) -> Option<String> {
                self.core.jar().get(name).map(str::to_owned)
            }

            /// A copy of the cookie jar.
            pub fn jar(&self) -> $crate::CookieJar {
                self.core.jar().clone()
            }

            /// Changes the cookie jar, e.g. to plant a forged cookie.
            pub fn with_jar<R>(&self, change: impl FnOnce(&mut $crate::CookieJar) -> R) -> R {
                change(&mut self.core.jar())
            }

            /// Puts a cookie with `Path=/` into the jar.
            pub fn set_cookie(&self, name: &str, value: &str) {
                self.core.jar().insert(name, value, "/");
            }

            /// Removes every cookie of this name from the jar.
            pub fn remove_cookie(&self, name: &str) {
                self.core.jar().remove(name);
            }

            /// The User-Agent sent, if any.
            pub fn user_agent(&self) -> Option<String> {
                self.core.user_agent()
            }

            /// Changes the User-Agent from now on (`None`: send none).
            pub fn set_user_agent(&self, user_agent: Option<&str>) {
                self.core.set_user_agent(user_agent);
            }

            /// Sends this User-Agent instead of
            /// [`DEFAULT_USER_AGENT`](crate::DEFAULT_USER_AGENT).
            #[must_use]
            pub fn with_user_agent(self, user_agent: &str) -> Self {
                self.core.set_user_agent(Some(user_agent));
                self
            }

            /// Never stores a cookie (the jar is emptied): a page inside an
            /// iframe whose third-party cookies the browser blocks.
            #[must_use]
            pub fn with_cookies_blocked(self) -> Self {
                self.core.block_cookies();
                self
            }
        }
    };
}
pub(crate) use client_api;

/// An in-process client for an axum [`Router`]: each request goes through
/// `tower::ServiceExt::oneshot`, no sockets involved.
///
/// Like a browser it keeps a [`CookieJar`] and sends a User-Agent; unlike
/// one it **never follows redirects**, so a test asserts every hop's
/// status, `Location` and `Set-Cookie`, and calls [`follow`](Self::follow)
/// to go on. Targets are paths or absolute URLs; the scheme and host of an
/// absolute URL are dropped (the request gets them as its `Host` header).
///
/// ```
/// use axum::{Router, routing::get};
/// use http::StatusCode;
/// use lti_testkit::TestClient;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = Router::new().route("/", get(|| async { ([("set-cookie", "a=1; Path=/")], "hi") }));
/// let client = TestClient::new(app);
/// let response = client.get("http://localhost:8080/").await;
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.text(), "hi");
/// assert_eq!(client.cookie("a").as_deref(), Some("1"));
///
/// let blocked = client.new_browser().with_cookies_blocked();
/// blocked.get("/").await;
/// assert_eq!(blocked.cookie("a"), None);
/// # });
/// ```
#[derive(Debug)]
pub struct TestClient {
    router: Router,
    core: ClientCore,
}

impl TestClient {
    /// A client with an empty jar and the default User-Agent.
    pub fn new(router: Router) -> Self {
        Self {
            router,
            core: ClientCore::new(),
        }
    }

    /// Another client for the same router with an empty jar and the same
    /// User-Agent: another browser, or a first-party window where the
    /// framed page's (third-party) cookies are not visible.
    #[must_use]
    pub fn new_browser(&self) -> Self {
        let client = Self::new(self.router.clone());
        client
            .core
            .set_user_agent(self.core.user_agent().as_deref());
        client
    }

    /// The router the client drives.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Sends any request. `headers` come first; the client adds
    /// `User-Agent` and `Cookie` (from the jar) unless given there, and
    /// `Host` from an absolute target (else `localhost`). The response's
    /// cookies go into the jar.
    ///
    /// # Panics
    ///
    /// On an invalid header or target (a mistake in the test) or a body
    /// that cannot be read.
    pub async fn request(
        &self,
        method: Method,
        target: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let prepared = self.core.prepare(method, target, headers, body.into());
        let path_and_query = prepared.path_and_query.clone();
        let request = prepared.into_request(&path_and_query, "localhost", Body::from);
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("reading the response body of {path_and_query}: {e}"));
        let response = TestResponse::new(parts.status, parts.headers, body);
        self.core.receive(&path_and_query, &response);
        response
    }
}

client_api!(TestClient);

/// A form body from name/value pairs (`application/x-www-form-urlencoded`).
///
/// ```
/// assert_eq!(lti_testkit::form_body(&[("a", "1 2"), ("b", "é")]), "a=1+2&b=%C3%A9");
/// ```
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}
