//! The [`Store`] trait: everything the framework keeps in a database.
//!
//! `lti-core` only describes the operations and the records they trade in;
//! `lti-store` implements them for SQLite and PostgreSQL. The trait is
//! object safe (`Arc<dyn Store>`) so the backend is picked at run time.
//!
//! Secrets never reach the store in the clear: a consumer secret travels as
//! a [`SealedSecret`], the application cipher's text form, produced and
//! opened by the caller (DESIGN.md §3 "Secrets").
//!
//! Times are UTC unix seconds supplied by the caller's `Clock`; no SQL ever
//! calls `now()` (DESIGN.md §3 "Data").

use std::fmt;

use async_trait::async_trait;

use crate::{
    ConsumerUsage, NewOwner, OwnerId, OwnerRecord, PasswordHash, Permissions, ResourceId,
    StoredParams,
};

/// Seconds during which a nonce may not be reused: 90 minutes (spec §5.3).
pub const NONCE_WINDOW_SECS: i64 = 90 * 60;

/// A silo's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiloId(pub i64);

/// A consumer's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsumerId(pub i64);

/// A context's (course's) database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextKey(pub i64);

/// A user's database id (not the LMS's `user_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey(pub i64);

/// A visit's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VisitId(pub i64);

/// A consumer secret in the application cipher's text form
/// (`<keynum>:<base64(nonce ‖ ciphertext ‖ tag)>`).
///
/// The store keeps and returns it as it is; only the holder of the
/// application cipher can open it. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(String);

impl SealedSecret {
    /// Wraps cipher text, as produced by the application cipher or read back
    /// from the database.
    pub fn from_cipher_text(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The cipher text, for storing or decrypting.
    pub fn as_cipher_text(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

/// A silo: the tenant boundary that owns one or more consumers (spec §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiloRecord {
    /// Database id.
    pub id: SiloId,
    /// Unique short name.
    pub slug: String,
}

/// A tool consumer (an LMS and its OAuth credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Database id.
    pub id: ConsumerId,
    /// The silo it belongs to.
    pub silo: SiloId,
    /// A human name for the consumer.
    pub handle: String,
    /// The OAuth consumer key, unique across all silos.
    pub key: String,
    /// The OAuth consumer secret, sealed by the application cipher.
    pub secret: SealedSecret,
    /// Disabled consumers cannot launch.
    pub enabled: bool,
    /// When it was created (unix seconds).
    pub created: i64,
}

/// What is needed to create a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsumer {
    /// The silo to create it in.
    pub silo: SiloId,
    /// A human name.
    pub handle: String,
    /// The OAuth consumer key (must be unique).
    pub key: String,
    /// The sealed secret.
    pub secret: SealedSecret,
    /// Creation time (unix seconds).
    pub now: i64,
}

/// An LTI context (a course or group) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRecord {
    /// Database id.
    pub key: ContextKey,
    /// The consumer it belongs to.
    pub consumer: ConsumerId,
    /// The LMS's `context_id`.
    pub context_id: String,
    /// `context_title`, if ever given.
    pub title: Option<String>,
    /// `context_label`, if ever given.
    pub label: Option<String>,
    /// Space-separated sorted context type URNs, if any.
    pub types: Option<String>,
}

/// An LTI resource link as stored: the unit of launch and of URL routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRecord {
    /// Database id, shown in URLs as upper-case hex.
    pub id: ResourceId,
    /// The consumer it belongs to.
    pub consumer: ConsumerId,
    /// The context it was first launched from; never changes (spec §5.4).
    pub context: Option<ContextKey>,
    /// The LMS's `resource_link_id`.
    pub link_id: String,
    /// `resource_link_title`, if ever given.
    pub title: Option<String>,
    /// `resource_link_description`, if ever given.
    pub description: Option<String>,
}

/// An LMS user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Database id.
    pub key: UserKey,
    /// The consumer it belongs to.
    pub consumer: ConsumerId,
    /// The LMS's `user_id`.
    pub user_id: String,
    /// `lis_person_name_given`.
    pub given_name: Option<String>,
    /// `lis_person_name_family`.
    pub family_name: Option<String>,
    /// `lis_person_name_full`.
    pub full_name: Option<String>,
    /// `lis_person_contact_email_primary`.
    pub email: Option<String>,
}

/// A visit: "this browser session launched this resource" (spec §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRecord {
    /// Database id.
    pub id: VisitId,
    /// The resource launched.
    pub resource: ResourceId,
    /// The user who launched it, if the launch named one.
    pub user: Option<UserKey>,
    /// The session it belongs to; `None` once detached.
    pub session: Option<String>,
    /// Permissions frozen at launch.
    pub permissions: Permissions,
    /// When it was launched (unix seconds).
    pub launched: i64,
    /// The browser's User-Agent, truncated.
    pub user_agent: Option<String>,
    /// All launch parameters except the OAuth signature, in order, decoded
    /// from their stored form when first asked for.
    pub parameters: StoredParams,
}

/// A visit together with everything a resource page needs, found in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitBundle {
    /// The visit.
    pub visit: VisitRecord,
    /// Its resource.
    pub resource: ResourceRecord,
    /// The resource's context, if any.
    pub context: Option<ContextRecord>,
    /// The visit's user, if any.
    pub user: Option<UserRecord>,
    /// The resource's consumer.
    pub consumer: ConsumerRecord,
}

/// Context values from a launch. Empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextData {
    /// `context_id` (required, non-empty).
    pub context_id: String,
    /// `context_title`.
    pub title: Option<String>,
    /// `context_label`.
    pub label: Option<String>,
    /// Sorted context type URNs joined by spaces.
    pub types: Option<String>,
}

/// Resource link values from a launch. Empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceData {
    /// `resource_link_id` (required, non-empty).
    pub link_id: String,
    /// `resource_link_title`.
    pub title: Option<String>,
    /// `resource_link_description`.
    pub description: Option<String>,
}

/// User values from a launch. Empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserData {
    /// `user_id` (required, non-empty).
    pub user_id: String,
    /// `lis_person_name_given`.
    pub given_name: Option<String>,
    /// `lis_person_name_family`.
    pub family_name: Option<String>,
    /// `lis_person_name_full`.
    pub full_name: Option<String>,
    /// `lis_person_contact_email_primary`.
    pub email: Option<String>,
}

/// Everything a successful launch writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchRecord {
    /// The authenticated consumer.
    pub consumer: ConsumerId,
    /// The launch's context, if it named one.
    pub context: Option<ContextData>,
    /// The launched resource link.
    pub resource: ResourceData,
    /// The launching user, if the launch named one.
    pub user: Option<UserData>,
    /// The session the new visit belongs to.
    pub session: String,
    /// True when `session` was made for this launch and can have no visits
    /// yet (the browser brought no session): the detach step of spec §5.5
    /// has nothing to detach and is skipped. False is always safe.
    pub new_session: bool,
    /// Permissions computed from the launch's roles.
    pub permissions: Permissions,
    /// The browser's User-Agent.
    pub user_agent: Option<String>,
    /// The launch parameters to keep with the visit.
    pub parameters: Vec<(String, String)>,
    /// Launch time (unix seconds).
    pub now: i64,
}

/// What a launch wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOutcome {
    /// The new visit.
    pub visit: VisitId,
    /// The resource (new or existing).
    pub resource: ResourceId,
    /// The context, if any.
    pub context: Option<ContextKey>,
    /// The user, if any.
    pub user: Option<UserKey>,
    /// How many earlier visits of the session were detached (spec §5.5).
    pub detached: u64,
}

/// One stored link of the application key rotation chain (a row of
/// `app_keys`): the application cipher's [`AppKeyRecord`](crate::AppKeyRecord).
pub type StoredAppKey = crate::AppKeyRecord;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique constraint was violated (duplicate consumer key, silo slug…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database could not be reached or is overloaded; try again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A value was rejected before reaching the database.
    #[error("invalid value: {0}")]
    Invalid(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    /// True when the caller should answer 503 and try again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Persistent state of an LTI tool provider.
///
/// Implemented by `lti-store` for SQLite and PostgreSQL. Every method is one
/// atomic unit: either all of it is stored or none of it.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- silos ---

    /// Creates a silo; a duplicate slug is a [`StoreError::Conflict`].
    async fn create_silo(&self, slug: &str) -> StoreResult<SiloRecord>;
    /// All silos, ordered by slug.
    async fn list_silos(&self) -> StoreResult<Vec<SiloRecord>>;
    /// The silo with this slug.
    async fn find_silo_by_slug(&self, slug: &str) -> StoreResult<Option<SiloRecord>>;
    /// Deletes a silo and, by cascade, its consumers and their data.
    async fn delete_silo(&self, silo: SiloId) -> StoreResult<bool>;
    /// The silo with this id.
    async fn find_silo(&self, id: SiloId) -> StoreResult<Option<SiloRecord>>;

    // --- consumers ---

    /// Creates a consumer; a duplicate key is a [`StoreError::Conflict`].
    async fn create_consumer(&self, new: NewConsumer) -> StoreResult<ConsumerRecord>;
    /// The consumer with this OAuth key, enabled or not.
    async fn find_consumer_by_key(&self, key: &str) -> StoreResult<Option<ConsumerRecord>>;
    /// The consumer with this id.
    async fn find_consumer(&self, id: ConsumerId) -> StoreResult<Option<ConsumerRecord>>;
    /// The consumers of a silo, ordered by key.
    async fn list_consumers(&self, silo: SiloId) -> StoreResult<Vec<ConsumerRecord>>;
    /// Changes a consumer's handle.
    async fn update_consumer_handle(&self, id: ConsumerId, handle: &str) -> StoreResult<()>;
    /// Replaces a consumer's secret.
    async fn set_consumer_secret(&self, id: ConsumerId, secret: &SealedSecret) -> StoreResult<()>;
    /// Enables or disables a consumer.
    async fn set_consumer_enabled(&self, id: ConsumerId, enabled: bool) -> StoreResult<()>;
    /// Deletes a consumer and, by cascade, its contexts, resources, users,
    /// visits and nonces. False when there was none.
    async fn delete_consumer(&self, id: ConsumerId) -> StoreResult<bool>;
    /// How many contexts, resources, users and visits a consumer has (what
    /// [`delete_consumer`](Self::delete_consumer) would delete with it).
    async fn consumer_usage(&self, id: ConsumerId) -> StoreResult<ConsumerUsage>;

    // --- owners (the admin console's accounts) ---

    /// Creates an owner, its email normalized
    /// ([`normalize_email`](crate::normalize_email)); a duplicate email is a
    /// [`StoreError::Conflict`], an unknown silo [`StoreError::NotFound`].
    async fn create_owner(&self, new: NewOwner) -> StoreResult<OwnerRecord>;
    /// The owner with this email (normalized before the lookup).
    async fn find_owner_by_email(&self, email: &str) -> StoreResult<Option<OwnerRecord>>;
    /// The owner with this id.
    async fn find_owner(&self, id: OwnerId) -> StoreResult<Option<OwnerRecord>>;
    /// The owners of a silo, ordered by email.
    async fn list_owners(&self, silo: SiloId) -> StoreResult<Vec<OwnerRecord>>;
    /// Replaces an owner's password hash and moves its session epoch on
    /// (a new password ends every admin session); `now` becomes `updated`.
    async fn set_owner_password(
        &self,
        id: OwnerId,
        password: &PasswordHash,
        now: i64,
    ) -> StoreResult<()>;
    /// Moves an owner's session epoch on, ending every admin session opened
    /// before (log out); returns the new epoch.
    async fn end_owner_sessions(&self, id: OwnerId, now: i64) -> StoreResult<i64>;
    /// Deletes an owner. False when there was none.
    async fn delete_owner(&self, id: OwnerId) -> StoreResult<bool>;

    // --- nonces ---

    /// Records a nonce for a consumer. True when it was not seen in the last
    /// [`NONCE_WINDOW_SECS`] seconds (the launch may proceed); false for a
    /// replay. Atomic: of any number of concurrent calls with one nonce,
    /// exactly one returns true.
    async fn record_nonce(&self, consumer: ConsumerId, nonce: &str, now: i64) -> StoreResult<bool>;
    /// Deletes nonces last seen more than [`NONCE_WINDOW_SECS`] before `now`.
    async fn prune_nonces(&self, now: i64) -> StoreResult<u64>;

    // --- contexts, resources, users (spec §5.4 update rules) ---

    /// Gets or creates a context; updates title, label and types when a new
    /// value is non-empty and different.
    async fn upsert_context(
        &self,
        consumer: ConsumerId,
        data: &ContextData,
    ) -> StoreResult<ContextRecord>;
    /// Gets or creates a resource link; updates title and description when a
    /// new value is non-empty and different; never changes its context.
    async fn upsert_resource(
        &self,
        consumer: ConsumerId,
        context: Option<ContextKey>,
        data: &ResourceData,
    ) -> StoreResult<ResourceRecord>;
    /// Gets or creates a user; updates each field when a new value is
    /// non-empty and different.
    async fn upsert_user(&self, consumer: ConsumerId, data: &UserData) -> StoreResult<UserRecord>;
    /// The resource with this id.
    async fn find_resource(&self, id: ResourceId) -> StoreResult<Option<ResourceRecord>>;

    // --- visits ---

    /// Writes a launch in one transaction: context, resource and user
    /// upserts, the detach rules of spec §5.5 for the session, and the new
    /// visit.
    async fn record_launch(&self, launch: LaunchRecord) -> StoreResult<LaunchOutcome>;
    /// Records the launch's nonce and, only when it is fresh (as
    /// [`record_nonce`](Self::record_nonce) decides), the launch, as one
    /// atomic unit. `Ok(None)` is a replay: nothing was stored. Of any
    /// number of concurrent calls with one nonce, at most one stores its
    /// launch.
    ///
    /// The default runs the two methods one after the other (the nonce
    /// stays recorded if the launch then fails); the stores override it to
    /// do both in one transaction and one round trip.
    async fn record_fresh_launch(
        &self,
        nonce: &str,
        launch: LaunchRecord,
    ) -> StoreResult<Option<LaunchOutcome>> {
        if !self
            .record_nonce(launch.consumer, nonce, launch.now)
            .await?
        {
            return Ok(None);
        }
        self.record_launch(launch).await.map(Some)
    }
    /// The visit of `session` for `resource`, with its resource, context,
    /// user and consumer, or `None`.
    async fn find_visit(
        &self,
        session: &str,
        resource: ResourceId,
    ) -> StoreResult<Option<VisitBundle>>;
    /// The visits attached to a session, oldest first.
    async fn session_visits(&self, session: &str) -> StoreResult<Vec<VisitRecord>>;
    /// Moves a session's visits to a new session id (establishment rotates
    /// the id, spec §5.6). Returns how many moved.
    async fn rekey_session(&self, old: &str, new: &str) -> StoreResult<u64>;
    /// Merges the visits of session `from` into session `into`, applying the
    /// spec §5.5 detach rules to `into`'s visits for each merged visit.
    /// Returns how many visits moved.
    async fn merge_sessions(&self, from: &str, into: &str) -> StoreResult<u64>;
    /// Detaches every visit of a session (log out).
    async fn detach_session(&self, session: &str) -> StoreResult<u64>;
    /// Deletes detached visits launched before `launched_before`.
    async fn prune_detached_visits(&self, launched_before: i64) -> StoreResult<u64>;

    // --- application keys ---

    /// The stored rotation chain.
    async fn app_keys(&self) -> StoreResult<Vec<StoredAppKey>>;
    /// Stores a link of the rotation chain. When a record for that key
    /// number exists already (another instance rotated first), the stored
    /// one is kept and returned.
    async fn save_app_key(&self, key: &StoredAppKey) -> StoreResult<StoredAppKey>;
}
