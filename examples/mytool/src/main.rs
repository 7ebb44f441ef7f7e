//! mytool, the Hello LTI tool: `cargo run -p mytool -- --create-silo -m`.
//!
//! The resource page greets the launching user and shows the context,
//! resource, roles and permissions. Instructors (WRITE) post notes through a
//! CSRF-protected form; everyone with READ sees them. Notes live in memory.
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::{Form, Router, routing::get};
use axum_lti::{CsrfToken, LtiRejection, Permissions, ResourceId, Visit};

type Notes = Arc<Mutex<HashMap<ResourceId, Vec<String>>>>;

#[derive(Template)]
#[template(path = "page.html")]
struct Page {
    title: String,
    name: String,
    context: String,
    resource: String,
    roles: String,
    permissions: String,
    notes: Vec<String>,
    can_read: bool,
    can_write: bool,
    csrf_field: String,
    csrf_value: String,
}

async fn page(visit: Visit, csrf: CsrfToken, State(notes): State<Notes>) -> Html<String> {
    let roles: Vec<String> = visit.roles().iter().map(ToString::to_string).collect();
    let notes = notes.lock().map(|n| n.get(&visit.resource_id()).cloned());
    Html(axum_lti::render(&Page {
        title: visit.title(),
        name: visit.display_name(),
        context: visit
            .context()
            .and_then(|c| c.title.clone())
            .unwrap_or_else(|| "—".into()),
        resource: visit.resource().link_id.clone(),
        roles: roles.join(", "),
        permissions: format!("{} ({})", visit.permissions(), visit.permissions().bits()),
        notes: notes.ok().flatten().unwrap_or_default(),
        can_read: visit.can_read(),
        can_write: visit.can_write(),
        csrf_field: csrf.field().to_owned(),
        csrf_value: csrf.value().to_owned(),
    }))
}

#[derive(serde::Deserialize)]
struct NoteForm {
    note: String,
}

async fn post_note(
    visit: Visit,
    State(notes): State<Notes>,
    Form(form): Form<NoteForm>,
) -> Result<Redirect, LtiRejection> {
    visit.require(Permissions::WRITE)?;
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > 1000 {
        return Err(LtiRejection::BadRequest(
            "A note has 1 to 1000 characters.".into(),
        ));
    }
    let mut notes = notes
        .lock()
        .map_err(|_| LtiRejection::Internal("notes lock".into()))?;
    notes
        .entry(visit.resource_id())
        .or_default()
        .push(note.to_owned());
    Ok(Redirect::to("./"))
}

#[tokio::main]
async fn main() -> ExitCode {
    axum_lti::cli::run(|_tool| {
        let routes = get(page).post(post_note);
        Router::new()
            .route("/resource/{id}/", routes)
            .with_state(Notes::default())
    })
    .await
}
