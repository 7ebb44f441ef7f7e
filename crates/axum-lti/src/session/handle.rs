//! The per-request session handle that the session layer puts in request
//! extensions and the [`Session`] extractor hands to handlers.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::data::{SessionData, new_session_id};
use crate::error::LtiRejection;
use crate::state::LtiState;

/// The browser session of the current request.
///
/// Sessions live in a signed cookie (DESIGN.md §3 "Sessions"); what a
/// session may do lives in the visits that reference its id. The handle is
/// cheap to clone; all clones see the same session. Changes are written back
/// as a `Set-Cookie` when the response leaves the session layer.
///
/// As an extractor it loads the session from the request's cookies, applying
/// the timeouts and establishing a session that has come back in a cookie
/// (spec §4.3): establishment gives the session a new id (fixation
/// defence) and moves its visits to it.
///
/// ```no_run
/// use axum_lti::Session;
/// async fn handler(session: Session) -> String {
///     session.insert("theme", "dark");
///     format!("your session id ends in {}", &session.id()[35..])
/// }
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Mutex<SessionState>>,
}

#[derive(Debug)]
pub(crate) struct SessionState {
    /// The session in use, once loaded or created.
    pub(crate) data: Option<SessionData>,
    /// The request's session cookie, signature verified (no age check).
    pub(crate) incoming: Option<SessionData>,
    /// The request carried the test cookie.
    pub(crate) test_cookie_present: bool,
    /// `load` has run.
    pub(crate) loaded: bool,
    /// The session cookie must be (re)issued.
    pub(crate) dirty: bool,
    /// The session got a new id during this request already.
    pub(crate) rotated: bool,
    /// The session cookie must be cleared.
    pub(crate) clear: bool,
    /// The test cookie must be set.
    pub(crate) set_test_cookie: bool,
    /// The request time.
    pub(crate) now: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the session id: it is a bearer credential.
        let state = self.lock();
        f.debug_struct("Session")
            .field("established", &state.data.as_ref().map(|d| d.established))
            .field("cookies_work", &state.test_cookie_present)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(incoming: Option<SessionData>, test_cookie_present: bool, now: i64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(SessionState {
                data: None,
                incoming,
                test_cookie_present,
                loaded: false,
                dirty: false,
                rotated: false,
                clear: false,
                set_test_cookie: false,
                now,
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SessionState> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session id, creating a new (unestablished) session if there is
    /// none yet. Treat it as a secret: it is a bearer credential.
    pub fn id(&self) -> String {
        let mut state = self.lock();
        let now = state.now;
        if state.data.is_none() {
            state.data = Some(SessionData::new(now));
            state.dirty = true;
        }
        state
            .data
            .as_ref()
            .map(|d| d.id.clone())
            .unwrap_or_default()
    }

    /// The session id if a session is in use.
    pub fn existing_id(&self) -> Option<String> {
        self.lock().data.as_ref().map(|d| d.id.clone())
    }

    /// True when the session has come back in a cookie at least once.
    pub fn is_established(&self) -> bool {
        self.lock().data.as_ref().is_some_and(|d| d.established)
    }

    /// True when the request carried the test cookie, i.e. this browser
    /// returns the tool's cookies here.
    pub fn cookies_work(&self) -> bool {
        self.lock().test_cookie_present
    }

    /// A value of the session's payload (tool data kept in the cookie).
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().data.as_ref()?.payload.get(key).cloned()
    }

    /// Stores a small value in the session payload (it travels in the
    /// cookie, so keep it short and not secret: it is signed, not
    /// encrypted).
    pub fn insert(&self, key: impl Into<String>, value: impl Into<String>) {
        self.id();
        let mut state = self.lock();
        if let Some(data) = state.data.as_mut() {
            data.payload.insert(key.into(), value.into());
        }
        state.dirty = true;
    }

    /// Removes a value from the session payload.
    pub fn remove(&self, key: &str) -> Option<String> {
        let mut state = self.lock();
        let old = state.data.as_mut()?.payload.remove(key);
        state.dirty |= old.is_some();
        old
    }

    /// Ends the session: the cookie is cleared. Its visits stay attached to
    /// the old id, which nobody holds any more; detach them with the store
    /// if they must not be reachable by a stolen cookie.
    pub fn end(&self) {
        let mut state = self.lock();
        state.data = None;
        state.dirty = false;
        state.clear = true;
    }

    /// Loads the session from the request's cookie per spec §4.3: only when
    /// the test cookie came too; dropped when timed out; established (new
    /// id, visits re-keyed) when it is an unestablished session coming back.
    pub(crate) async fn load(&self, state: &LtiState) -> Result<(), LtiRejection> {
        let (candidate, now) = {
            let mut s = self.lock();
            if s.loaded {
                return Ok(());
            }
            s.loaded = true;
            let candidate = if s.test_cookie_present {
                s.incoming.clone()
            } else {
                None
            };
            (candidate, s.now)
        };
        let Some(mut data) = candidate.filter(|d| state.session_alive(d, now)) else {
            return Ok(());
        };
        let established_now = !data.established;
        if established_now {
            let new_id = new_session_id();
            state
                .store()
                .rekey_session(&data.id, &new_id)
                .await
                .map_err(LtiRejection::from)?;
            tracing::debug!("session established");
            data.id = new_id;
            data.established = true;
        }
        // The cookie carries the last-seen time for the idle timeout.
        // Re-signing it on every request would cost an HMAC and a
        // Set-Cookie per page view; it is refreshed once it is a tenth of
        // the idle timeout old (at most a minute), which moves the timeout
        // by no more than that.
        let refresh =
            established_now || now.saturating_sub(data.last_seen) >= state.last_seen_refresh_secs();
        if refresh {
            data.last_seen = now;
        }
        let mut s = self.lock();
        if s.data.is_none() {
            s.rotated |= established_now;
            s.data = Some(data);
            s.dirty |= refresh;
        }
        Ok(())
    }

    /// Gives an established session a new id (after a launch, so an id
    /// planted before the launch is worthless) and moves its visits.
    pub(crate) async fn rotate(&self, state: &LtiState) -> Result<(), LtiRejection> {
        let old = {
            let s = self.lock();
            match s.data.as_ref() {
                Some(d) if d.established && !s.rotated => d.id.clone(),
                _ => return Ok(()),
            }
        };
        let new_id = new_session_id();
        state
            .store()
            .rekey_session(&old, &new_id)
            .await
            .map_err(LtiRejection::from)?;
        let mut s = self.lock();
        if let Some(d) = s.data.as_mut() {
            d.id = new_id;
        }
        s.dirty = true;
        s.rotated = true;
        Ok(())
    }

    /// Forgets a session that this request started and nothing stored
    /// (a launch refused after all), so no cookie is set for it. Only for a
    /// request that came without a session cookie.
    pub(crate) fn forget_unsaved(&self) {
        let mut s = self.lock();
        if s.incoming.is_none() {
            s.data = None;
            s.dirty = false;
        }
    }

    /// Replaces the session with one taken from a cookie-test URL (the
    /// `/wlaunch` new-window path, spec §4.5.3).
    pub(crate) fn adopt(&self, data: SessionData) {
        let mut s = self.lock();
        s.data = Some(data);
        s.loaded = true;
        s.dirty = true;
    }

    /// Asks for the test cookie to be set on the response.
    pub(crate) fn set_test_cookie(&self) {
        self.lock().set_test_cookie = true;
    }

    /// Asks for the session cookie to be cleared (tampering detected).
    pub(crate) fn clear_cookie(&self) {
        let mut s = self.lock();
        s.data = None;
        s.dirty = false;
        s.clear = true;
    }

    /// The current session string (for the cookie test's `s`).
    pub(crate) fn encoded(&self) -> Option<String> {
        self.lock().data.as_ref().map(SessionData::encode)
    }

    /// The verified incoming cookie session, whatever its age.
    pub(crate) fn incoming(&self) -> Option<SessionData> {
        self.lock().incoming.clone()
    }

    /// True when the request brought a verified session cookie, whatever
    /// its age (without copying it, as [`incoming`](Self::incoming) does).
    pub(crate) fn came_with_cookie(&self) -> bool {
        self.lock().incoming.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(LtiRejection::MissingLayer)?;
        let state = LtiState::from_extensions(&parts.extensions)?;
        session.load(&state).await?;
        Ok(session)
    }
}

/// The session handle without loading it: for the cookie-test handlers,
/// which must inspect the cookie before anything is established.
pub(crate) struct RawSession(pub(crate) Session);

impl<S: Send + Sync> FromRequestParts<S> for RawSession {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .map(RawSession)
            .ok_or(LtiRejection::MissingLayer)
    }
}
