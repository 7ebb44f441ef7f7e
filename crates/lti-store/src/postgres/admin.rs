//! Silos, consumers, nonces and application keys (PostgreSQL).

use lti_core::{
    ConsumerId, ConsumerRecord, NONCE_WINDOW_SECS, NewConsumer, SealedSecret, SiloId, SiloRecord,
    StoreError, StoreResult, StoredAppKey,
};

use super::PgStore;
use super::hot::hot_read;
use crate::error::map_sqlx_error;
use crate::rows::{AppKeyRow, ConsumerRow, SiloRow, require};

/// `record_nonce`: one statement, so concurrent calls serialise on the row: the
/// insert or the stale-row update changes one row for exactly one of
/// them. A row seen within the window is left alone and the call
/// reports a replay (spec §5.3: reuse is allowed only once
/// last_seen + 5400 s is earlier than now).
///
/// The statement commits without waiting for the WAL flush
/// (`synchronous_commit` off for its own transaction, set inside
/// the statement so it costs no round trip). A launch commits
/// twice, the nonce and then the launch, and each flush is an
/// `fdatasync`: on PostgreSQL the flushes were the launch rate's
/// limit (PERFORMANCE.md). The nonce row is visible to every other
/// session at once, so replays are caught across instances as
/// before; only its durability waits. The WAL is flushed in order,
/// so the launch's own synchronous commit, which follows, makes the
/// nonce durable with it. What a database crash can lose is the
/// nonce of a launch that recorded nothing within the last moments
/// (`wal_writer_delay`, 200 ms by default): a launch that was never
/// accepted, or one a tool's own route took without recording it.
pub(super) const RECORD_NONCE: &str = "\
    WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) \
    INSERT INTO nonces (consumer_id, nonce, last_seen) \
    SELECT $1, $2, $3 FROM relaxed \
    ON CONFLICT (consumer_id, nonce) DO UPDATE SET last_seen = excluded.last_seen \
    WHERE nonces.last_seen < $3 - $4";

impl PgStore {
    pub(crate) async fn create_silo(&self, slug: &str) -> StoreResult<SiloRecord> {
        const SQL: &str = "INSERT INTO silos (slug) VALUES ($1) RETURNING id, slug";
        require(slug, "silo slug")?;
        let row: SiloRow = sqlx::query_as(SQL)
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.into())
    }

    pub(crate) async fn list_silos(&self) -> StoreResult<Vec<SiloRecord>> {
        const SQL: &str = "SELECT id, slug FROM silos ORDER BY slug";
        let rows: Vec<SiloRow> = sqlx::query_as(SQL)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn find_silo_by_slug(&self, slug: &str) -> StoreResult<Option<SiloRecord>> {
        const SQL: &str = "SELECT id, slug FROM silos WHERE slug = $1";
        let row: Option<SiloRow> = sqlx::query_as(SQL)
            .bind(slug)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn delete_silo(&self, silo: SiloId) -> StoreResult<bool> {
        const SQL: &str = "DELETE FROM silos WHERE id = $1";
        let done = sqlx::query(SQL)
            .bind(silo.0)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn create_consumer(&self, new: NewConsumer) -> StoreResult<ConsumerRecord> {
        const SQL: &str = "\
            INSERT INTO consumers (silo_id, handle, key, secret, enabled, created) \
            VALUES ($1, $2, $3, $4, TRUE, $5) \
            RETURNING id, silo_id, handle, key, secret, enabled, created";
        require(&new.key, "consumer key")?;
        require(new.secret.as_cipher_text(), "consumer secret")?;
        let row: ConsumerRow = sqlx::query_as(SQL)
            .bind(new.silo.0)
            .bind(&new.handle)
            .bind(&new.key)
            .bind(new.secret.as_cipher_text())
            .bind(new.now)
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.into())
    }

    pub(crate) async fn find_consumer_by_key(
        &self,
        key: &str,
    ) -> StoreResult<Option<ConsumerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, handle, key, secret, enabled, created \
            FROM consumers WHERE key = $1";
        let row: Option<ConsumerRow> =
            hot_read!(self.hot, conn => sqlx::query_as(SQL).bind(key).fetch_optional(conn))?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn find_consumer(
        &self,
        id: ConsumerId,
    ) -> StoreResult<Option<ConsumerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, handle, key, secret, enabled, created \
            FROM consumers WHERE id = $1";
        let row: Option<ConsumerRow> = sqlx::query_as(SQL)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn list_consumers(&self, silo: SiloId) -> StoreResult<Vec<ConsumerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, handle, key, secret, enabled, created \
            FROM consumers WHERE silo_id = $1 ORDER BY key";
        let rows: Vec<ConsumerRow> = sqlx::query_as(SQL)
            .bind(silo.0)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn update_consumer_handle(
        &self,
        id: ConsumerId,
        handle: &str,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE consumers SET handle = $2 WHERE id = $1";
        let done = sqlx::query(SQL)
            .bind(id.0)
            .bind(handle)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        found(done.rows_affected(), id)
    }

    pub(crate) async fn set_consumer_secret(
        &self,
        id: ConsumerId,
        secret: &SealedSecret,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE consumers SET secret = $2 WHERE id = $1";
        require(secret.as_cipher_text(), "consumer secret")?;
        let done = sqlx::query(SQL)
            .bind(id.0)
            .bind(secret.as_cipher_text())
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        found(done.rows_affected(), id)
    }

    pub(crate) async fn set_consumer_enabled(
        &self,
        id: ConsumerId,
        enabled: bool,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE consumers SET enabled = $2 WHERE id = $1";
        let done = sqlx::query(SQL)
            .bind(id.0)
            .bind(enabled)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        found(done.rows_affected(), id)
    }

    pub(crate) async fn delete_consumer(&self, id: ConsumerId) -> StoreResult<bool> {
        const SQL: &str = "DELETE FROM consumers WHERE id = $1";
        let done = sqlx::query(SQL)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn record_nonce(
        &self,
        consumer: ConsumerId,
        nonce: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut hot = self.hot.acquire().await?;
        let result = sqlx::query(RECORD_NONCE)
            .bind(consumer.0)
            .bind(nonce)
            .bind(now)
            .bind(NONCE_WINDOW_SECS)
            .execute(&mut *hot)
            .await;
        let done = hot.settle(result).map_err(map_sqlx_error)?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn prune_nonces(&self, now: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM nonces WHERE last_seen < $1 - $2";
        let done = sqlx::query(SQL)
            .bind(now)
            .bind(NONCE_WINDOW_SECS)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn app_keys(&self) -> StoreResult<Vec<StoredAppKey>> {
        const SQL: &str = "SELECT keynum, wrapped, switch_over FROM app_keys ORDER BY keynum";
        let rows: Vec<AppKeyRow> = sqlx::query_as(SQL)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub(crate) async fn save_app_key(&self, key: &StoredAppKey) -> StoreResult<StoredAppKey> {
        // The no-op update makes RETURNING give the existing row when another
        // instance stored this key number first (spec §8.5: keep theirs).
        const SQL: &str = "\
            INSERT INTO app_keys (keynum, wrapped, switch_over) VALUES ($1, $2, $3) \
            ON CONFLICT (keynum) DO UPDATE SET keynum = app_keys.keynum \
            RETURNING keynum, wrapped, switch_over";
        let row: AppKeyRow = sqlx::query_as(SQL)
            .bind(i64::from(key.keynum))
            .bind(&key.wrapped)
            .bind(key.switch_over)
            .fetch_one(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        row.try_into()
    }
}

fn found(rows: u64, id: ConsumerId) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(format!("consumer {}", id.0)))
    } else {
        Ok(())
    }
}
