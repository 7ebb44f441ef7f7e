//! mytool, the Hello LTI tool: its routes (the binary is `src/main.rs`). The
//! resource page greets the launching user and shows the context, resource,
//! roles and permissions. Instructors (WRITE) post notes through a
//! CSRF-protected form; everyone with READ sees them. Notes live in memory.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::{Form, Router, routing::get};
use axum_lti::{CsrfToken, LtiRejection, Permissions, ResourceId, Visit};

type Notes = Arc<Mutex<HashMap<ResourceId, Vec<String>>>>;

#[derive(Template)]
#[template(path = "page.html")]
struct Page<'a> {
    visit: &'a Visit,
    roles: String,
    notes: Vec<String>,
    csrf: CsrfToken,
}

async fn page(visit: Visit, csrf: CsrfToken, State(notes): State<Notes>) -> Html<String> {
    let roles: Vec<String> = visit.roles().iter().map(ToString::to_string).collect();
    let notes = notes.lock().map(|n| n.get(&visit.resource_id()).cloned());
    Html(axum_lti::render(&Page {
        visit: &visit,
        roles: roles.join(", "),
        notes: notes.ok().flatten().unwrap_or_default(),
        csrf,
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
        let message = "A note has 1 to 1000 characters.";
        return Err(LtiRejection::BadRequest(message.into()));
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

/// The tool's routes: the resource page and its note form.
pub fn routes() -> Router {
    let page_routes = get(page).post(post_note);
    Router::new()
        .route("/resource/{id}/", page_routes)
        .with_state(Notes::default())
}
