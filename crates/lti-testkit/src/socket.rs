//! [`HttpClient`]: the same client over real HTTP/1.1 sockets, for suites
//! that run a tool binary or `axum::serve` on `127.0.0.1:0`.

use std::net::SocketAddr;

use axum::body::Bytes;
use http::Method;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::client::{ClientCore, client_api};
use crate::response::TestResponse;

/// Why a request over a socket failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The request could not be sent or no response came (connection
    /// refused, reset, closed early).
    #[error("request {method} {url} failed: {source}")]
    Request {
        /// The method.
        method: Method,
        /// The URL connected to.
        url: String,
        /// The transport error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The response body could not be read to its end.
    #[error("reading the response body of {url} failed: {source}")]
    Body {
        /// The URL connected to.
        url: String,
        /// The transport error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A client that speaks HTTP/1.1 to a server at a socket address, with
/// the same API as [`TestClient`](crate::TestClient): a cookie jar, a
/// User-Agent, no automatic redirects, cookie blocking.
///
/// Every request connects to the configured address (keep-alive
/// connections are reused). An absolute target such as a `Location`
/// (`http://localhost:8080/ctest?…`) keeps its path and query and sends
/// its host as the `Host` header; a path sends the client's host (by
/// default the address itself). No TLS.
///
/// ```no_run
/// use lti_testkit::HttpClient;
///
/// # async fn demo(addr: std::net::SocketAddr) {
/// let client = HttpClient::new(addr).with_host("localhost:8080");
/// let response = client.get("/").await;
/// println!("{}", response.status());
/// # }
/// ```
#[derive(Debug)]
pub struct HttpClient {
    addr: SocketAddr,
    host: String,
    client: Client<HttpConnector, Full<Bytes>>,
    core: ClientCore,
}

impl HttpClient {
    /// A client for the server listening at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            host: addr.to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            core: ClientCore::new(),
        }
    }

    /// Sends this `Host` (e.g. `localhost:8080`) with relative targets.
    #[must_use]
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Another client for the same server with an empty jar and the same
    /// User-Agent and host: another browser or first-party window.
    #[must_use]
    pub fn new_browser(&self) -> Self {
        let client = Self {
            addr: self.addr,
            host: self.host.clone(),
            client: self.client.clone(),
            core: ClientCore::new(),
        };
        client
            .core
            .set_user_agent(self.core.user_agent().as_deref());
        client
    }

    /// Sends any request, as [`TestClient::request`](crate::TestClient::request)
    /// does, and reports transport failures instead of panicking.
    ///
    /// # Errors
    ///
    /// [`HttpClientError`] when the connection or the body fails.
    ///
    /// # Panics
    ///
    /// On an invalid header or target (a mistake in the test).
    pub async fn try_request(
        &self,
        method: Method,
        target: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<TestResponse, HttpClientError> {
        let prepared = self
            .core
            .prepare(method.clone(), target, headers, body.into());
        let path_and_query = prepared.path_and_query.clone();
        let url = format!("http://{}{}", self.addr, path_and_query);
        let request = prepared.into_request(&url, &self.host, Full::new);
        let response =
            self.client
                .request(request)
                .await
                .map_err(|source| HttpClientError::Request {
                    method,
                    url: url.clone(),
                    source: Box::new(source),
                })?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|source| HttpClientError::Body {
                url,
                source: Box::new(source),
            })?
            .to_bytes();
        let response = TestResponse::new(parts.status, parts.headers, body);
        self.core.receive(&path_and_query, &response);
        Ok(response)
    }

    /// Sends any request; see [`try_request`](Self::try_request).
    ///
    /// # Panics
    ///
    /// When the request fails at the transport level, with the reason.
    pub async fn request(
        &self,
        method: Method,
        target: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        match self.try_request(method, target, headers, body).await {
            Ok(response) => response,
            Err(err) => panic!("{err}"),
        }
    }
}

client_api!(HttpClient);
