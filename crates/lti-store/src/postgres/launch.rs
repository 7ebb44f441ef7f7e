//! Contexts, resources, users and visits (PostgreSQL).

use lti_core::{
    ConsumerId, ContextData, ContextKey, ContextRecord, LaunchOutcome, LaunchRecord, ResourceData,
    ResourceId, ResourceRecord, StoreError, StoreResult, UserData, UserKey, UserRecord,
    VisitBundle, VisitRecord,
};
use sqlx::postgres::PgConnection;

use super::hot::hot_read;
use super::record_launch::{LaunchRow, launch_once};
use super::{PgStore, begin_write, finish};
use crate::error::{map_sqlx_error, run_detached};
use crate::rows::{
    BundleRow, ContextRow, RESOURCE_ID_ATTEMPTS, ResourceRow, UserRow, VisitRow, non_empty,
    parameters_to_json, random_resource_id, require, resource_id_to_db, validate_context,
    validate_launch, validate_resource, validate_user,
};

impl PgStore {
    pub(crate) async fn upsert_context(
        &self,
        consumer: ConsumerId,
        data: &ContextData,
    ) -> StoreResult<ContextRecord> {
        validate_context(data)?;
        let mut conn = self.pool.acquire().await.map_err(map_sqlx_error)?;
        upsert_context(&mut conn, consumer, data).await
    }

    pub(crate) async fn upsert_resource(
        &self,
        consumer: ConsumerId,
        context: Option<ContextKey>,
        data: &ResourceData,
    ) -> StoreResult<ResourceRecord> {
        validate_resource(data)?;
        let mut conn = self.pool.acquire().await.map_err(map_sqlx_error)?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match upsert_resource(&mut conn, consumer, context, data).await {
                Err(StoreError::Conflict(_)) if attempts < RESOURCE_ID_ATTEMPTS => continue,
                other => return other,
            }
        }
    }

    pub(crate) async fn upsert_user(
        &self,
        consumer: ConsumerId,
        data: &UserData,
    ) -> StoreResult<UserRecord> {
        validate_user(data)?;
        let mut conn = self.pool.acquire().await.map_err(map_sqlx_error)?;
        upsert_user(&mut conn, consumer, data).await
    }

    pub(crate) async fn find_resource(
        &self,
        id: ResourceId,
    ) -> StoreResult<Option<ResourceRecord>> {
        const SQL: &str = "\
            SELECT id, consumer_id, context_key, link_id, title, description \
            FROM resources WHERE id = $1";
        let row: Option<ResourceRow> = sqlx::query_as(SQL)
            .bind(resource_id_to_db(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        row.map(TryInto::try_into).transpose()
    }

    pub(crate) async fn record_launch(&self, launch: LaunchRecord) -> StoreResult<LaunchOutcome> {
        self.launch_statement(None, launch)
            .await?
            .ok_or_else(|| StoreError::Backend("a launch with no nonce was refused".to_owned()))
    }

    pub(crate) async fn record_fresh_launch(
        &self,
        nonce: &str,
        launch: LaunchRecord,
    ) -> StoreResult<Option<LaunchOutcome>> {
        self.launch_statement(Some(nonce.to_owned()), launch).await
    }

    /// Records a launch, and its nonce when given, in one statement
    /// ([`launch_once`]), retrying with another random resource id when the
    /// id collided. `None`: the nonce was a replay, nothing was stored.
    ///
    /// It runs on a task of its own ([`run_detached`]): a client that
    /// disconnects cannot drop the future between sending the statement
    /// and reading its answer, which would leave the connection with an
    /// unread reply. The statement itself is atomic, so there is no
    /// transaction to leave open.
    async fn launch_statement(
        &self,
        nonce: Option<String>,
        launch: LaunchRecord,
    ) -> StoreResult<Option<LaunchOutcome>> {
        validate_launch(&launch)?;
        let hot = self.hot.clone();
        let parameters = parameters_to_json(&launch.parameters)?;
        run_detached(async move {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let resource_id = random_resource_id()?;
                let mut conn = hot.acquire().await?;
                let result = launch_once(
                    &mut conn,
                    &launch,
                    resource_id,
                    &parameters,
                    nonce.as_deref(),
                )
                .await;
                let launched = conn
                    .settle(result)
                    .map_err(map_sqlx_error)
                    .and_then(LaunchRow::outcome);
                match launched {
                    // Only the resource insert can conflict: its random id
                    // collided (a conflict on the link itself is the
                    // upsert's `ON CONFLICT`). Try again with another.
                    Err(StoreError::Conflict(_)) if attempts < RESOURCE_ID_ATTEMPTS => continue,
                    other => return other,
                }
            }
        })
        .await
    }

    pub(crate) async fn find_visit(
        &self,
        session: &str,
        resource: ResourceId,
    ) -> StoreResult<Option<VisitBundle>> {
        const SQL: &str = "\
            SELECT v.id AS v_id, v.user_key AS v_user_key, v.session AS v_session, \
                v.permissions AS v_permissions, v.launched AS v_launched, \
                v.user_agent AS v_user_agent, v.parameters AS v_parameters, \
                r.id AS r_id, r.consumer_id AS r_consumer_id, r.context_key AS r_context_key, \
                r.link_id AS r_link_id, r.title AS r_title, r.description AS r_description, \
                c.id AS c_id, c.silo_id AS c_silo_id, c.handle AS c_handle, c.key AS c_key, \
                c.secret AS c_secret, c.enabled AS c_enabled, c.created AS c_created, \
                x.id AS x_id, x.context_id AS x_context_id, x.title AS x_title, \
                x.label AS x_label, x.types AS x_types, \
                u.id AS u_id, u.user_id AS u_user_id, u.given_name AS u_given_name, \
                u.family_name AS u_family_name, u.full_name AS u_full_name, u.email AS u_email \
            FROM visits v \
            JOIN resources r ON r.id = v.resource_id \
            JOIN consumers c ON c.id = r.consumer_id \
            LEFT JOIN contexts x ON x.id = r.context_key \
            LEFT JOIN users u ON u.id = v.user_key \
            WHERE v.session = $1 AND v.resource_id = $2 \
            ORDER BY v.id DESC LIMIT 1";
        let row: Option<BundleRow> = hot_read!(self.hot, conn => sqlx::query_as(SQL)
            .bind(session)
            .bind(resource_id_to_db(resource))
            .fetch_optional(conn))?;
        row.map(TryInto::try_into).transpose()
    }

    pub(crate) async fn session_visits(&self, session: &str) -> StoreResult<Vec<VisitRecord>> {
        const SQL: &str = "\
            SELECT id, resource_id, user_key, session, permissions, launched, user_agent, \
                parameters \
            FROM visits WHERE session = $1 ORDER BY launched, id";
        let rows: Vec<VisitRow> = sqlx::query_as(SQL)
            .bind(session)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub(crate) async fn rekey_session(&self, old: &str, new: &str) -> StoreResult<u64> {
        const SQL: &str = "UPDATE visits SET session = $2 WHERE session = $1";
        require(new, "session id")?;
        if old == new {
            return Ok(0);
        }
        let mut hot = self.hot.acquire().await?;
        let result = sqlx::query(SQL)
            .bind(old)
            .bind(new)
            .execute(&mut *hot)
            .await;
        let done = hot.settle(result).map_err(map_sqlx_error)?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn merge_sessions(&self, from: &str, into: &str) -> StoreResult<u64> {
        require(into, "session id")?;
        if from == into {
            return Ok(0);
        }
        let (pool, from, into) = (self.pool.clone(), from.to_owned(), into.to_owned());
        run_detached(async move {
            let mut tx = begin_write(&pool).await?;
            let result = merge_in(&mut tx, &from, &into).await;
            finish(tx, result).await
        })
        .await
    }

    pub(crate) async fn detach_session(&self, session: &str) -> StoreResult<u64> {
        const SQL: &str = "UPDATE visits SET session = NULL WHERE session = $1";
        let done = sqlx::query(SQL)
            .bind(session)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn prune_detached_visits(&self, launched_before: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM visits WHERE session IS NULL AND launched < $1";
        let done = sqlx::query(SQL)
            .bind(launched_before)
            .execute(&self.pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected())
    }
}

/// Gets or creates a context in one statement, so concurrent first launches
/// both succeed; a new value replaces the stored one only when non-empty
/// (spec §5.4).
async fn upsert_context(
    conn: &mut PgConnection,
    consumer: ConsumerId,
    data: &ContextData,
) -> StoreResult<ContextRecord> {
    const SQL: &str = "\
        INSERT INTO contexts (consumer_id, context_id, title, label, types) \
        VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (consumer_id, context_id) DO UPDATE SET \
            title = COALESCE(excluded.title, contexts.title), \
            label = COALESCE(excluded.label, contexts.label), \
            types = COALESCE(excluded.types, contexts.types) \
        RETURNING id, consumer_id, context_id, title, label, types";
    let row: ContextRow = sqlx::query_as(SQL)
        .bind(consumer.0)
        .bind(&data.context_id)
        .bind(non_empty(data.title.as_ref()))
        .bind(non_empty(data.label.as_ref()))
        .bind(non_empty(data.types.as_ref()))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    Ok(row.into())
}

/// Gets or creates a resource link. A new one gets a random id and the
/// given context; an existing one keeps its id and context for ever (spec
/// §5.4). A [`StoreError::Conflict`] means the random id was taken.
async fn upsert_resource(
    conn: &mut PgConnection,
    consumer: ConsumerId,
    context: Option<ContextKey>,
    data: &ResourceData,
) -> StoreResult<ResourceRecord> {
    const SQL: &str = "\
        INSERT INTO resources (id, consumer_id, context_key, link_id, title, description) \
        VALUES ($1, $2, $3, $4, $5, $6) \
        ON CONFLICT (consumer_id, link_id) DO UPDATE SET \
            title = COALESCE(excluded.title, resources.title), \
            description = COALESCE(excluded.description, resources.description) \
        RETURNING id, consumer_id, context_key, link_id, title, description";
    let row: ResourceRow = sqlx::query_as(SQL)
        .bind(random_resource_id()?)
        .bind(consumer.0)
        .bind(context.map(|key| key.0))
        .bind(&data.link_id)
        .bind(non_empty(data.title.as_ref()))
        .bind(non_empty(data.description.as_ref()))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    row.try_into()
}

/// Gets or creates a user; each field is replaced only by a non-empty value.
async fn upsert_user(
    conn: &mut PgConnection,
    consumer: ConsumerId,
    data: &UserData,
) -> StoreResult<UserRecord> {
    const SQL: &str = "\
        INSERT INTO users (consumer_id, user_id, given_name, family_name, full_name, email) \
        VALUES ($1, $2, $3, $4, $5, $6) \
        ON CONFLICT (consumer_id, user_id) DO UPDATE SET \
            given_name = COALESCE(excluded.given_name, users.given_name), \
            family_name = COALESCE(excluded.family_name, users.family_name), \
            full_name = COALESCE(excluded.full_name, users.full_name), \
            email = COALESCE(excluded.email, users.email) \
        RETURNING id, consumer_id, user_id, given_name, family_name, full_name, email";
    let row: UserRow = sqlx::query_as(SQL)
        .bind(consumer.0)
        .bind(&data.user_id)
        .bind(non_empty(data.given_name.as_ref()))
        .bind(non_empty(data.family_name.as_ref()))
        .bind(non_empty(data.full_name.as_ref()))
        .bind(non_empty(data.email.as_ref()))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    Ok(row.into())
}

/// Applies the spec §5.5 rules to the visits of `session` for a launch of
/// `resource` (of `consumer`) by `user`: detach the visit of the same
/// resource, and every visit of the same consumer by another user (a NULL
/// user differs from any user and equals NULL). Returns how many.
///
/// The consumer test is a correlated `EXISTS` (a primary-key probe per
/// visit of the session) rather than `IN (SELECT … WHERE consumer_id = …)`,
/// which would read every resource of the consumer on each launch.
///
/// `record_launch` runs the same condition inside its one statement
/// (`LAUNCH` in `record_launch.rs`): change both together.
async fn detach_superseded(
    conn: &mut PgConnection,
    session: &str,
    resource: i64,
    consumer: ConsumerId,
    user: Option<UserKey>,
) -> StoreResult<u64> {
    const SQL: &str = "\
        UPDATE visits SET session = NULL \
        WHERE session = $1 \
          AND (resource_id = $2 \
               OR (user_key IS DISTINCT FROM $3 \
                   AND EXISTS (SELECT 1 FROM resources r \
                               WHERE r.id = visits.resource_id AND r.consumer_id = $4)))";
    let done = sqlx::query(SQL)
        .bind(session)
        .bind(resource)
        .bind(user.map(|key| key.0))
        .bind(consumer.0)
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    Ok(done.rows_affected())
}

/// The body of [`PgStore::merge_sessions`], inside its transaction: each
/// visit of `from`, oldest first, detaches what it supersedes in `into`
/// (spec §5.5) and then moves there, as if launched in `into` in turn.
async fn merge_in(conn: &mut PgConnection, from: &str, into: &str) -> StoreResult<u64> {
    const VISITS_OF: &str = "\
        SELECT v.id, v.resource_id, v.user_key, r.consumer_id \
        FROM visits v JOIN resources r ON r.id = v.resource_id \
        WHERE v.session = $1 ORDER BY v.launched, v.id";
    const MOVE: &str = "UPDATE visits SET session = $2 WHERE id = $1";
    let visits: Vec<(i64, i64, Option<i64>, i64)> = sqlx::query_as(VISITS_OF)
        .bind(from)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    let mut moved = 0;
    for (visit, resource, user, consumer) in visits {
        detach_superseded(
            conn,
            into,
            resource,
            ConsumerId(consumer),
            user.map(UserKey),
        )
        .await?;
        let done = sqlx::query(MOVE)
            .bind(visit)
            .bind(into)
            .execute(&mut *conn)
            .await
            .map_err(map_sqlx_error)?;
        moved += done.rows_affected();
    }
    Ok(moved)
}
