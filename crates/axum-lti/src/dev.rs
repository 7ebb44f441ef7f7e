//! The built-in test consumer: a small LMS for local development.
//!
//! `GET /dev/` shows a form (consumer, user, roles, context, resource,
//! custom parameters); `POST /dev/launch` signs the launch with the chosen
//! consumer's secret and answers a page that shows the exact parameters and
//! signature base string and submits them to the tool's own `/launch`, in
//! an iframe or a new window. Nothing is bypassed: the launch is verified
//! like any other. `GET /dev/return` plays the LMS's return URL.
//!
//! Mounted only when asked for ([`ToolProviderApp::with_test_consumer`],
//! `--dev`, implied by `-m`), since it signs launches with stored secrets.
//!
//! [`ToolProviderApp::with_test_consumer`]: crate::ToolProviderApp::with_test_consumer

use askama::Template;
use axum::Router;
use axum::extract::{Form, RawQuery};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use lti_oauth::{RequestSigner, SignedRequest, form_encode};
use serde::Deserialize;

use crate::error::LtiRejection;
use crate::pages::render;
use crate::session::CsrfToken;
use crate::state::LtiState;

/// The test consumer's routes, relative to the application root.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/dev/", get(consumer_page))
        .route("/dev/launch", post(sign_launch))
        .route("/dev/return", get(returned))
}

struct ConsumerPage {
    action: String,
    consumers: Vec<String>,
    csrf_field: String,
    csrf_value: String,
}

#[derive(Template)]
#[template(path = "dev_consumer.html")]
struct ConsumerTemplate {
    page: ConsumerPage,
}

async fn consumer_page(state: LtiState, csrf: CsrfToken) -> Result<Html<String>, LtiRejection> {
    let store = state.store();
    let mut consumers = Vec::new();
    for silo in store.list_silos().await? {
        for consumer in store.list_consumers(silo.id).await? {
            if consumer.enabled {
                consumers.push(consumer.key);
            }
        }
    }
    Ok(Html(render(&ConsumerTemplate {
        page: ConsumerPage {
            action: state.root().join("dev/launch"),
            consumers,
            csrf_field: csrf.field().to_owned(),
            csrf_value: csrf.value().to_owned(),
        },
    })))
}

/// The test consumer's form.
#[derive(Debug, Deserialize)]
struct LaunchForm {
    consumer: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    given: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    roles: String,
    #[serde(default)]
    context_id: String,
    #[serde(default)]
    context_title: String,
    #[serde(default)]
    resource_link_id: String,
    #[serde(default)]
    resource_link_title: String,
    #[serde(default)]
    custom: String,
    #[serde(default)]
    target: String,
}

struct LaunchPage {
    back: String,
    launch_url: String,
    target: String,
    params: Vec<(String, String)>,
    base_string: String,
}

#[derive(Template)]
#[template(path = "dev_launch.html")]
struct LaunchTemplate {
    page: LaunchPage,
}

impl LaunchForm {
    /// The launch parameters the form describes (empty fields left out).
    fn parameters(&self, return_url: String) -> Vec<(String, String)> {
        let mut params = vec![
            (
                "lti_message_type".to_owned(),
                "basic-lti-launch-request".to_owned(),
            ),
            ("lti_version".to_owned(), "LTI-1p0".to_owned()),
            (
                "tool_consumer_info_product_family_code".to_owned(),
                "axum-lti-dev".to_owned(),
            ),
            ("launch_presentation_return_url".to_owned(), return_url),
            (
                "launch_presentation_document_target".to_owned(),
                if self.target == "window" {
                    "window"
                } else {
                    "iframe"
                }
                .to_owned(),
            ),
        ];
        let fields = [
            ("resource_link_id", &self.resource_link_id),
            ("resource_link_title", &self.resource_link_title),
            ("user_id", &self.user_id),
            ("lis_person_name_given", &self.given),
            ("lis_person_name_family", &self.family),
            ("lis_person_contact_email_primary", &self.email),
            ("roles", &self.roles),
            ("context_id", &self.context_id),
            ("context_title", &self.context_title),
        ];
        for (name, value) in fields {
            if !value.trim().is_empty() {
                params.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        let full = format!("{} {}", self.given.trim(), self.family.trim());
        if !full.trim().is_empty() {
            params.push(("lis_person_name_full".to_owned(), full.trim().to_owned()));
        }
        for line in self.custom.lines() {
            if let Some((name, value)) = line.split_once('=') {
                let name = name.trim().to_ascii_lowercase();
                if !name.is_empty() {
                    let name = if name.starts_with("custom_") {
                        name
                    } else {
                        format!("custom_{name}")
                    };
                    params.push((name, value.trim().to_owned()));
                }
            }
        }
        params
    }
}

async fn sign_launch(state: LtiState, Form(form): Form<LaunchForm>) -> Response {
    match signed_launch_page(&state, &form).await {
        Ok(page) => Html(page).into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

async fn signed_launch_page(state: &LtiState, form: &LaunchForm) -> Result<String, LtiRejection> {
    // PostgreSQL text cannot hold NUL: a lookup with one fails (a 500).
    if form.consumer.contains('\0') {
        return Err(LtiRejection::BadRequest(
            "A consumer key cannot contain a NUL character.".into(),
        ));
    }
    let consumer = state
        .store()
        .find_consumer_by_key(&form.consumer)
        .await?
        .ok_or_else(|| {
            LtiRejection::BadRequest(format!("No consumer has the key {:?}.", form.consumer))
        })?;
    let secret = state
        .cipher()
        .decrypt_str(consumer.secret.as_cipher_text())
        .map_err(|e| LtiRejection::Internal(format!("consumer secret: {e}")))?;
    let launch_url = state.root().join("launch");
    let nonce = lti_core::generate_key(128).map_err(|e| LtiRejection::Internal(e.to_string()))?;
    let params = RequestSigner::new(consumer.key.clone(), secret)
        .with_oauth_param("oauth_callback", "about:blank")
        .sign_params(
            "POST",
            &launch_url,
            form.parameters(state.root().join("dev/return")),
            &nonce,
            state.now(),
        )
        .map_err(|e| LtiRejection::BadRequest(format!("The launch cannot be signed: {e}.")))?;
    let body = form_encode(&params);
    let base_string = SignedRequest::from_parts("POST", &launch_url, Some(body.as_bytes()), None)
        .map(|r| r.base_string().to_owned())
        .map_err(|e| LtiRejection::BadRequest(format!("The launch is malformed: {e}.")))?;
    Ok(render(&LaunchTemplate {
        page: LaunchPage {
            back: state.root().join("dev/"),
            launch_url,
            target: if form.target == "window" {
                "_blank"
            } else {
                "tool"
            }
            .to_owned(),
            params,
            base_string,
        },
    }))
}

struct ReturnPage {
    back: String,
    messages: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "dev_return.html")]
struct ReturnTemplate {
    page: ReturnPage,
}

async fn returned(state: LtiState, RawQuery(query): RawQuery) -> Html<String> {
    let messages = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name.starts_with("lti_"))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    Html(render(&ReturnTemplate {
        page: ReturnPage {
            back: state.root().join("dev/"),
            messages,
        },
    }))
}
