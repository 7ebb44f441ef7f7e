//! A minimal W3C WebDriver client (the commands the browser suite uses),
//! talking JSON to chromedriver over the test kit's HTTP client.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use http::Method;
use lti_testkit::HttpClient;
use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session on a chromedriver.
#[derive(Debug)]
pub(crate) struct WebDriver {
    http: HttpClient,
    session: String,
}

async fn call(
    http: &HttpClient,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let headers: &[(&str, &str)] = if body.is_empty() {
        &[]
    } else {
        &[("content-type", "application/json")]
    };
    let response = http
        .try_request(method.clone(), path, headers, body)
        .await
        .with_context(|| format!("chromedriver {method} {path}"))?;
    let value: Value = serde_json::from_slice(response.body()).with_context(|| {
        format!(
            "chromedriver {method} {path}: not JSON: {}",
            response.text()
        )
    })?;
    if !response.status().is_success() {
        bail!(
            "chromedriver {method} {path}: {} {}",
            response.status(),
            value["value"]["message"]
                .as_str()
                .unwrap_or(&response.text())
        );
    }
    Ok(value["value"].clone())
}

impl WebDriver {
    /// A session attached to the Chromium whose DevTools listen at
    /// `debugger` (so the test, not chromedriver, owns the browser process
    /// and its flags). Page loads do not block commands
    /// (`pageLoadStrategy: none`): the suite polls instead, so a hung page
    /// cannot stall it.
    pub(crate) async fn attach(driver: SocketAddr, debugger: SocketAddr) -> anyhow::Result<Self> {
        let http = HttpClient::new(driver);
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "pageLoadStrategy": "none",
                    "goog:chromeOptions": { "debuggerAddress": debugger.to_string() }
                }
            }
        });
        let value = call(&http, Method::POST, "/session", Some(capabilities)).await?;
        let session = value["sessionId"]
            .as_str()
            .context("chromedriver gave no session id")?
            .to_owned();
        Ok(Self { http, session })
    }

    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let path = format!("/session/{}{path}", self.session);
        call(&self.http, method, &path, body).await
    }

    pub(crate) async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))
            .await?;
        Ok(())
    }

    pub(crate) async fn eval(&self, script: &str) -> anyhow::Result<Value> {
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub(crate) async fn find(&self, css: &str) -> anyhow::Result<Value> {
        let value = self
            .cmd(
                Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        if value.get(ELEMENT_KEY).is_none() {
            bail!("no element reference for {css}: {value}");
        }
        Ok(value)
    }

    pub(crate) async fn click(&self, element: &Value) -> anyhow::Result<()> {
        let id = element[ELEMENT_KEY].as_str().context("an element id")?;
        self.cmd(
            Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    /// Switches into the frame `element`, or back to the top with `None`.
    pub(crate) async fn frame(&self, element: Option<&Value>) -> anyhow::Result<()> {
        let id = element.cloned().unwrap_or(Value::Null);
        self.cmd(Method::POST, "/frame", Some(json!({ "id": id })))
            .await?;
        Ok(())
    }

    pub(crate) async fn window_handles(&self) -> anyhow::Result<Vec<String>> {
        let value = self.cmd(Method::GET, "/window/handles", None).await?;
        Ok(value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub(crate) async fn window_handle(&self) -> anyhow::Result<String> {
        let value = self.cmd(Method::GET, "/window", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn switch_window(&self, handle: &str) -> anyhow::Result<()> {
        self.cmd(Method::POST, "/window", Some(json!({ "handle": handle })))
            .await?;
        Ok(())
    }

    /// A PNG of the current top-level page.
    pub(crate) async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let value = self.cmd(Method::GET, "/screenshot", None).await?;
        let data = value.as_str().context("screenshot data")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
    }
}
