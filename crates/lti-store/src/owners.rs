//! The owner row shared by both backends, and the value rules applied to
//! owners before anything reaches SQL (the backends' `owners` modules hold
//! the SQL).

use lti_core::{
    ConsumerId, ConsumerUsage, NewOwner, OwnerId, OwnerRecord, PasswordHash, SiloId, StoreError,
    StoreResult, normalize_email,
};

use crate::rows::require;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OwnerRow {
    pub(crate) id: i64,
    pub(crate) silo_id: i64,
    pub(crate) email: String,
    pub(crate) password_hash: String,
    pub(crate) session_epoch: i64,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

impl From<OwnerRow> for OwnerRecord {
    fn from(row: OwnerRow) -> Self {
        Self {
            id: OwnerId(row.id),
            silo: SiloId(row.silo_id),
            email: row.email,
            password: PasswordHash::from_phc(row.password_hash),
            session_epoch: row.session_epoch,
            created: row.created,
            updated: row.updated,
        }
    }
}

/// The four counts of [`ConsumerUsage`], as one row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UsageRow {
    pub(crate) contexts: i64,
    pub(crate) resources: i64,
    pub(crate) users: i64,
    pub(crate) visits: i64,
}

impl UsageRow {
    pub(crate) fn into_usage(self, consumer: ConsumerId) -> ConsumerUsage {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        ConsumerUsage {
            consumer,
            contexts: count(self.contexts),
            resources: count(self.resources),
            users: count(self.users),
            visits: count(self.visits),
        }
    }
}

/// Checks a new owner and returns its normalized email.
pub(crate) fn validate_new_owner(new: &NewOwner) -> StoreResult<String> {
    let email = normalize_email(&new.email);
    require(&email, "owner email")?;
    require(new.password.as_phc(), "owner password hash")?;
    Ok(email)
}

/// `NotFound` when an update of owner `id` changed no row.
pub(crate) fn owner_found(rows: u64, id: OwnerId) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(format!("owner {}", id.0)))
    } else {
        Ok(())
    }
}
