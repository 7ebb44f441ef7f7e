//! The consumer pages of a signed-in owner: list, add, show, change the
//! handle, set a new secret, enable or disable, delete, and download the
//! tool configuration (spec §10.4 with QN-3, QN-4, QN-5 and QN-8 fixed).
//!
//! Every page is limited to the owner's silo: a consumer id of another
//! silo, like one that does not exist or does not parse, is 404, so ids
//! cannot be probed. Secrets are shown exactly once, on the page answering
//! the request that made them (`Cache-Control: no-store` on every admin
//! page), and stored only sealed by the application cipher.

use axum::extract::{Form, Path, Query};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use lti_core::{ConsumerId, ConsumerRecord, NewConsumer, SealedSecret, StoreError};
use serde::Deserialize;

use super::auth::SignedIn;
use super::forms::{self, ConsumerForm, EnabledForm, FieldErrors, HandleForm, SecretForm};
use super::views::{
    ConsumerPageExtras, ConsumerView, DeletePage, ListPage, consumer_page, consumer_url, html, nav,
    new_consumer_page, secret_page,
};
use crate::error::LtiRejection;
use crate::session::{CsrfToken, see_other};
use crate::state::LtiState;

/// `?done=…` after a change that redirects back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Done {
    done: String,
}

/// The consumer `id` names, if it belongs to the owner's silo; 404 for
/// anything else (malformed, missing, or another silo's).
async fn owned_consumer(
    state: &LtiState,
    signed_in: &SignedIn,
    id: &str,
) -> Result<ConsumerRecord, LtiRejection> {
    let id: i64 = id.parse().map_err(|_| LtiRejection::NotFound)?;
    match state.store().find_consumer(ConsumerId(id)).await? {
        Some(consumer) if consumer.silo == signed_in.silo.id => Ok(consumer),
        Some(_) => {
            tracing::warn!(
                owner = signed_in.owner.id.0,
                consumer = id,
                "admin: an owner asked for another silo's consumer"
            );
            Err(LtiRejection::NotFound)
        }
        None => Err(LtiRejection::NotFound),
    }
}

fn seal(state: &LtiState, secret: &str) -> Result<SealedSecret, LtiRejection> {
    let text = state
        .cipher()
        .encrypt_str(secret, state.now())
        .map_err(|err| LtiRejection::Internal(format!("sealing a consumer secret: {err}")))?;
    Ok(SealedSecret::from_cipher_text(text))
}

fn generated(value: Option<String>) -> Result<String, LtiRejection> {
    match value {
        Some(value) => Ok(value),
        None => forms::generate().map_err(LtiRejection::Internal),
    }
}

/// `GET /admin/`: the silo's consumers.
pub(crate) async fn list(
    state: LtiState,
    signed_in: SignedIn,
    csrf: CsrfToken,
    Query(done): Query<Done>,
) -> Result<Response, LtiRejection> {
    let consumers = state
        .store()
        .list_consumers(signed_in.silo.id)
        .await?
        .iter()
        .map(|consumer| ConsumerView::new(&state, consumer))
        .collect();
    let notice = (done.done == "deleted").then(|| "The consumer was deleted.".to_owned());
    Ok(html(
        StatusCode::OK,
        &ListPage {
            nav: nav(&state, &signed_in, &csrf),
            consumers,
            add_url: state.root().join("admin/consumers/new"),
            notice,
        },
    ))
}

/// `GET /admin/consumers/new`: the add form.
pub(crate) async fn new_form(state: LtiState, signed_in: SignedIn, csrf: CsrfToken) -> Response {
    let form = ConsumerForm {
        handle: String::new(),
        key: String::new(),
        secret: String::new(),
    };
    new_consumer_page(
        &state,
        &signed_in,
        &csrf,
        StatusCode::OK,
        &form,
        FieldErrors::default(),
    )
}

/// `POST /admin/consumers`: creates a consumer in the owner's silo and
/// shows its secret, once. Invalid values or a taken key re-show the form
/// (400) and store nothing. The secret typed is never echoed back.
pub(crate) async fn create(
    state: LtiState,
    signed_in: SignedIn,
    csrf: CsrfToken,
    Form(form): Form<ConsumerForm>,
) -> Result<Response, LtiRejection> {
    let mut errors = FieldErrors::default();
    let handle = errors.check("handle", forms::handle(&form.handle));
    let key = errors.check("key", forms::key(&form.key));
    let secret = errors.check("secret", forms::secret(&form.secret));
    let (Some(handle), Some(key), Some(secret)) = (handle, key, secret) else {
        return Ok(new_consumer_page(
            &state,
            &signed_in,
            &csrf,
            StatusCode::BAD_REQUEST,
            &form,
            errors,
        ));
    };
    let key = generated(key)?;
    let secret = generated(secret)?;
    let created = state
        .store()
        .create_consumer(NewConsumer {
            silo: signed_in.silo.id,
            handle,
            key,
            secret: seal(&state, &secret)?,
            now: state.now(),
        })
        .await;
    let consumer = match created {
        Ok(consumer) => consumer,
        Err(StoreError::Conflict(_)) => {
            errors.add(
                "key",
                "A consumer with this key exists: choose another key.",
            );
            return Ok(new_consumer_page(
                &state,
                &signed_in,
                &csrf,
                StatusCode::BAD_REQUEST,
                &form,
                errors,
            ));
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(
        owner = signed_in.owner.id.0,
        consumer_key = consumer.key,
        "admin: consumer added"
    );
    Ok(secret_page(
        &state,
        &signed_in,
        &csrf,
        "Consumer added",
        &consumer,
        secret,
    ))
}

/// `GET /admin/consumers/{id}/`: one consumer (never its secret).
pub(crate) async fn show(
    state: LtiState,
    signed_in: SignedIn,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    let notice = match done.done.as_str() {
        "handle" => Some("The handle was saved."),
        "enabled" => Some("Launches from this consumer are allowed again."),
        "disabled" => Some("Launches from this consumer are now refused."),
        _ => None,
    };
    let extras = ConsumerPageExtras {
        notice: notice.map(str::to_owned),
        ..ConsumerPageExtras::new(&consumer)
    };
    Ok(consumer_page(
        &state,
        &signed_in,
        &csrf,
        StatusCode::OK,
        &consumer,
        extras,
    ))
}

/// `POST /admin/consumers/{id}/handle`: changes the handle (QN-4: the key
/// stays).
pub(crate) async fn set_handle(
    state: LtiState,
    signed_in: SignedIn,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Form(form): Form<HandleForm>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    let handle = match forms::handle(&form.handle) {
        Ok(handle) => handle,
        Err(message) => {
            let mut extras = ConsumerPageExtras {
                handle_value: form.handle,
                ..ConsumerPageExtras::new(&consumer)
            };
            extras.errors.add("handle", message);
            return Ok(consumer_page(
                &state,
                &signed_in,
                &csrf,
                StatusCode::BAD_REQUEST,
                &consumer,
                extras,
            ));
        }
    };
    state
        .store()
        .update_consumer_handle(consumer.id, &handle)
        .await?;
    Ok(see_other(&consumer_url(&state, &consumer, "?done=handle")))
}

/// `POST /admin/consumers/{id}/secret`: a new secret (generated when
/// blank), shown once.
pub(crate) async fn set_secret(
    state: LtiState,
    signed_in: SignedIn,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Form(form): Form<SecretForm>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    let secret = match forms::secret(&form.secret) {
        Ok(secret) => generated(secret)?,
        Err(message) => {
            let mut extras = ConsumerPageExtras::new(&consumer);
            extras.errors.add("secret", message);
            return Ok(consumer_page(
                &state,
                &signed_in,
                &csrf,
                StatusCode::BAD_REQUEST,
                &consumer,
                extras,
            ));
        }
    };
    state
        .store()
        .set_consumer_secret(consumer.id, &seal(&state, &secret)?)
        .await?;
    tracing::info!(
        owner = signed_in.owner.id.0,
        consumer_key = consumer.key,
        "admin: consumer secret replaced"
    );
    Ok(secret_page(
        &state,
        &signed_in,
        &csrf,
        "New secret set",
        &consumer,
        secret,
    ))
}

/// `POST /admin/consumers/{id}/enabled` with `enabled=true|false`.
pub(crate) async fn set_enabled(
    state: LtiState,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EnabledForm>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    let enabled = form
        .value()
        .ok_or_else(|| LtiRejection::BadRequest("enabled must be true or false.".into()))?;
    state
        .store()
        .set_consumer_enabled(consumer.id, enabled)
        .await?;
    let done = if enabled { "enabled" } else { "disabled" };
    Ok(see_other(&consumer_url(
        &state,
        &consumer,
        &format!("?done={done}"),
    )))
}

/// `GET /admin/consumers/{id}/delete`: the confirmation page, saying what
/// the delete takes with it.
pub(crate) async fn confirm_delete(
    state: LtiState,
    signed_in: SignedIn,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    let usage = state.store().consumer_usage(consumer.id).await?;
    Ok(html(
        StatusCode::OK,
        &DeletePage {
            nav: nav(&state, &signed_in, &csrf),
            consumer: ConsumerView::new(&state, &consumer),
            usage,
        },
    ))
}

/// `POST /admin/consumers/{id}/delete`: deletes the consumer and, by
/// cascade, its contexts, resources, users, visits and nonces.
pub(crate) async fn delete(
    state: LtiState,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    state.store().delete_consumer(consumer.id).await?;
    tracing::info!(
        owner = signed_in.owner.id.0,
        consumer_key = consumer.key,
        "admin: consumer deleted"
    );
    Ok(see_other(&state.root().join("admin/?done=deleted")))
}

/// `GET /admin/consumers/{id}/config.xml`: the `cartridge_basiclti_link`
/// to import into the LMS, as a download.
pub(crate) async fn config_xml(
    state: LtiState,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, LtiRejection> {
    let consumer = owned_consumer(&state, &signed_in, &id).await?;
    let xml = crate::cartridge::cartridge_xml(
        "LTI tool",
        &format!("LTI tool for {}", consumer.handle),
        state.root(),
    );
    let mut response = xml.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"tool-config-{}.xml\"", consumer.id.0);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
