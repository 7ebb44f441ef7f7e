//! Owners, silo lookup by id and consumer usage counts (PostgreSQL).

use lti_core::{
    ConsumerId, ConsumerUsage, NewOwner, OwnerId, OwnerRecord, PasswordHash, SiloId, SiloRecord,
    StoreResult, normalize_email,
};

use super::PgStore;
use crate::error::map_sqlx_error;
use crate::owners::{OwnerRow, UsageRow, owner_found, validate_new_owner};
use crate::rows::{SiloRow, require};

impl PgStore {
    pub(crate) async fn find_silo(&self, id: SiloId) -> StoreResult<Option<SiloRecord>> {
        const SQL: &str = "SELECT id, slug FROM silos WHERE id = $1";
        let row: Option<SiloRow> = sqlx::query_as(SQL)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn consumer_usage(&self, id: ConsumerId) -> StoreResult<ConsumerUsage> {
        const SQL: &str = "\
            SELECT \
              (SELECT COUNT(*) FROM contexts WHERE consumer_id = $1) AS contexts, \
              (SELECT COUNT(*) FROM resources WHERE consumer_id = $1) AS resources, \
              (SELECT COUNT(*) FROM users WHERE consumer_id = $1) AS users, \
              (SELECT COUNT(*) FROM visits v JOIN resources r ON r.id = v.resource_id \
               WHERE r.consumer_id = $1) AS visits";
        let row: UsageRow = sqlx::query_as(SQL)
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.into_usage(id))
    }

    pub(crate) async fn create_owner(&self, new: NewOwner) -> StoreResult<OwnerRecord> {
        const SQL: &str = "\
            INSERT INTO owners (silo_id, email, password_hash, session_epoch, created, updated) \
            VALUES ($1, $2, $3, 0, $4, $4) \
            RETURNING id, silo_id, email, password_hash, session_epoch, created, updated";
        let email = validate_new_owner(&new)?;
        let row: OwnerRow = sqlx::query_as(SQL)
            .bind(new.silo.0)
            .bind(&email)
            .bind(new.password.as_phc())
            .bind(new.now)
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.into())
    }

    pub(crate) async fn find_owner_by_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<OwnerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, email, password_hash, session_epoch, created, updated \
            FROM owners WHERE email = $1";
        let row: Option<OwnerRow> = sqlx::query_as(SQL)
            .bind(normalize_email(email))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn find_owner(&self, id: OwnerId) -> StoreResult<Option<OwnerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, email, password_hash, session_epoch, created, updated \
            FROM owners WHERE id = $1";
        let row: Option<OwnerRow> = sqlx::query_as(SQL)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn list_owners(&self, silo: SiloId) -> StoreResult<Vec<OwnerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, email, password_hash, session_epoch, created, updated \
            FROM owners WHERE silo_id = $1 ORDER BY email";
        let rows: Vec<OwnerRow> = sqlx::query_as(SQL)
            .bind(silo.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn set_owner_password(
        &self,
        id: OwnerId,
        password: &PasswordHash,
        now: i64,
    ) -> StoreResult<()> {
        const SQL: &str = "\
            UPDATE owners SET password_hash = $2, session_epoch = session_epoch + 1, updated = $3 \
            WHERE id = $1";
        require(password.as_phc(), "owner password hash")?;
        let done = sqlx::query(SQL)
            .bind(id.0)
            .bind(password.as_phc())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        owner_found(done.rows_affected(), id)
    }

    pub(crate) async fn end_owner_sessions(&self, id: OwnerId, now: i64) -> StoreResult<i64> {
        const SQL: &str = "\
            UPDATE owners SET session_epoch = session_epoch + 1, updated = $2 \
            WHERE id = $1 RETURNING session_epoch";
        let epoch: Option<i64> = sqlx::query_scalar(SQL)
            .bind(id.0)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        owner_found(u64::from(epoch.is_some()), id)?;
        Ok(epoch.unwrap_or_default())
    }

    pub(crate) async fn delete_owner(&self, id: OwnerId) -> StoreResult<bool> {
        const SQL: &str = "DELETE FROM owners WHERE id = $1";
        let done = sqlx::query(SQL)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected() > 0)
    }
}
