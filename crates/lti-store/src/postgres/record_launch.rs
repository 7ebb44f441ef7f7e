//! A launch as one SQL statement (PostgreSQL).
//!
//! [`PgStore::record_launch`](super::PgStore) used to run `BEGIN`, three
//! upserts, the spec §5.5 detach, the visit insert and `COMMIT`: seven
//! network round trips, each a wake-up of the server backend. Here the same
//! writes are data-modifying CTEs of one statement, so a launch is one round
//! trip and is atomic without an explicit transaction (a statement commits
//! or rolls back as a whole, in autocommit).

use lti_core::{
    ContextKey, LaunchOutcome, LaunchRecord, NONCE_WINDOW_SECS, StoreError, StoreResult, UserKey,
    VisitId,
};
use sqlx::postgres::PgConnection;

use crate::rows::{non_empty, permissions_to_db, resource_id_from_db, truncate_user_agent};

/// The whole launch.
///
/// * `ctx`, `usr`: the context and the user are optional. Their upserts are
///   `INSERT … SELECT … WHERE $n IS NOT NULL`, so with no `context_id`
///   (`user_id`) they write nothing and return no row, and
///   `(SELECT id FROM ctx)` is NULL: one text for the four combinations,
///   hence one prepared statement per connection.
/// * Each upsert keeps the rules of the single upserts in `launch.rs`: a
///   non-empty value replaces the stored one (`COALESCE`, spec §5.4), and a
///   resource keeps its id and context for ever (`DO UPDATE` sets neither).
///   `ON CONFLICT … DO UPDATE` makes concurrent first launches of one link
///   all succeed and share the row; a collision of the random resource id
///   with another link's is a unique violation on the primary key, which
///   the caller retries with a new id.
/// * `detached`: spec §5.5, the same condition as `detach_superseded`.
///   Every sub-statement sees the snapshot taken when the statement began,
///   so the `UPDATE` cannot see the visit `visit` inserts (nor would it
///   see rows `ctx`/`res`/`usr` insert): it reads only visits that existed
///   before the launch, as the separate `UPDATE` did when it ran before the
///   `INSERT`. What it needs from this launch, the resource id and the user
///   key, it takes from the upserts' `RETURNING` through the CTEs. The
///   consumer test reads `resources` rows of earlier visits, which are in
///   the snapshot and whose `consumer_id` never changes.
/// * `visit`: `FROM res` takes the resource's id, new or existing. The
///   foreign keys to the context, resource and user inserted by the same
///   statement are checked at the end of the statement, when they exist.
///
/// * `n` (the nonce, only when `$20` is given): the statement of
///   `record_nonce` (`admin.rs`). Everything else is gated on `go`: no
///   nonce, or a nonce that `n` found fresh. A replay writes nothing and
///   returns `fresh = 0`. Two concurrent launches with one nonce meet on
///   the nonce row; the second sees the first's committed row, its `DO
///   UPDATE … WHERE` matches nothing, and it stores nothing. A launch that
///   fails (a taken resource id) rolls its nonce back with it.
///
/// Parameters: `$1` consumer; `$2`–`$5` context id, title, label, types;
/// `$6`–`$9` new resource id, link id, title, description; `$10`–`$14`
/// user id, given, family and full name, email; `$15`–`$19` session,
/// permissions, launch time, User-Agent, parameters (JSON); `$20` the
/// nonce or NULL, `$21` the nonce window in seconds.
///
/// The macro builds the text with or without the `detached` CTE:
/// [`LAUNCH`] and [`LAUNCH_NEW_SESSION`].
macro_rules! launch_statement {
    ($detached:literal, $detached_count:literal) => {
        concat!(
            "\
    WITH n AS ( \
        INSERT INTO nonces (consumer_id, nonce, last_seen) \
        SELECT $1, $20, $17 WHERE $20 IS NOT NULL \
        ON CONFLICT (consumer_id, nonce) DO UPDATE SET last_seen = excluded.last_seen \
        WHERE nonces.last_seen < $17 - $21 \
        RETURNING 1 \
    ), go AS ( \
        SELECT 1 WHERE $20 IS NULL OR EXISTS (SELECT 1 FROM n) \
    ), ctx AS ( \
        INSERT INTO contexts (consumer_id, context_id, title, label, types) \
        SELECT $1, $2, $3, $4, $5 FROM go WHERE $2 IS NOT NULL \
        ON CONFLICT (consumer_id, context_id) DO UPDATE SET \
            title = COALESCE(excluded.title, contexts.title), \
            label = COALESCE(excluded.label, contexts.label), \
            types = COALESCE(excluded.types, contexts.types) \
        RETURNING id \
    ), res AS ( \
        INSERT INTO resources (id, consumer_id, context_key, link_id, title, description) \
        SELECT $6, $1, (SELECT id FROM ctx), $7, $8, $9 FROM go \
        ON CONFLICT (consumer_id, link_id) DO UPDATE SET \
            title = COALESCE(excluded.title, resources.title), \
            description = COALESCE(excluded.description, resources.description) \
        RETURNING id \
    ), usr AS ( \
        INSERT INTO users (consumer_id, user_id, given_name, family_name, full_name, email) \
        SELECT $1, $10, $11, $12, $13, $14 FROM go WHERE $10 IS NOT NULL \
        ON CONFLICT (consumer_id, user_id) DO UPDATE SET \
            given_name = COALESCE(excluded.given_name, users.given_name), \
            family_name = COALESCE(excluded.family_name, users.family_name), \
            full_name = COALESCE(excluded.full_name, users.full_name), \
            email = COALESCE(excluded.email, users.email) \
        RETURNING id \
",
            $detached,
            "    ), visit AS ( \
        INSERT INTO visits \
            (resource_id, user_key, session, permissions, launched, user_agent, parameters) \
        SELECT res.id, (SELECT id FROM usr), $15, $16, $17, $18, $19 FROM res \
        RETURNING id \
    ) \
    SELECT (SELECT id FROM visit) AS visit, (SELECT id FROM res) AS resource, \
        (SELECT id FROM ctx) AS context, (SELECT id FROM usr) AS user_key, \
        ",
            $detached_count,
            " AS detached, (SELECT COUNT(*) FROM go) AS fresh"
        )
    };
}

/// [`launch_statement!`] for a session that may have visits.
const LAUNCH: &str = launch_statement!(
    "    ), detached AS ( \
        UPDATE visits SET session = NULL \
        WHERE session = $15 AND EXISTS (SELECT 1 FROM go) \
          AND (resource_id = (SELECT id FROM res) \
               OR (user_key IS DISTINCT FROM (SELECT id FROM usr) \
                   AND EXISTS (SELECT 1 FROM resources r \
                               WHERE r.id = visits.resource_id AND r.consumer_id = $1))) \
        RETURNING 1 \
",
    "(SELECT COUNT(*) FROM detached)"
);

/// [`launch_statement!`] for a session made for this launch
/// (`LaunchRecord::new_session`): it can have no visits, so there is
/// nothing to detach, and the statement leaves the `UPDATE` out. Even
/// when it would update no row, that `UPDATE` (the visits table and its
/// five indexes opened as a result relation, a bitmap scan, a subplan)
/// was a large part of the database's work per launch (PERFORMANCE.md,
/// step 10).
const LAUNCH_NEW_SESSION: &str = launch_statement!("", "0::int8");

/// What [`LAUNCH`] and [`LAUNCH_NEW_SESSION`] return. The ids are `Option` only because a scalar
/// subquery may be NULL; `res` and `visit` always return a row.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct LaunchRow {
    visit: Option<i64>,
    resource: Option<i64>,
    context: Option<i64>,
    user_key: Option<i64>,
    detached: i64,
    fresh: i64,
}

/// Runs [`LAUNCH`] once, with `resource_id` as the id of a new resource,
/// `parameters` the launch parameters as stored (JSON) and `nonce` the
/// launch's nonce when it is to be recorded with it. A unique violation (a
/// [`StoreError::Conflict`] once mapped) means that id was taken; nothing
/// was written.
pub(super) async fn launch_once(
    conn: &mut PgConnection,
    launch: &LaunchRecord,
    resource_id: i64,
    parameters: &str,
    nonce: Option<&str>,
) -> Result<LaunchRow, sqlx::Error> {
    let context = launch.context.as_ref();
    let user = launch.user.as_ref();
    let statement = if launch.new_session {
        LAUNCH_NEW_SESSION
    } else {
        LAUNCH
    };
    sqlx::query_as::<_, LaunchRow>(statement)
        .bind(launch.consumer.0)
        .bind(context.map(|c| c.context_id.as_str()))
        .bind(context.and_then(|c| non_empty(c.title.as_ref())))
        .bind(context.and_then(|c| non_empty(c.label.as_ref())))
        .bind(context.and_then(|c| non_empty(c.types.as_ref())))
        .bind(resource_id)
        .bind(&launch.resource.link_id)
        .bind(non_empty(launch.resource.title.as_ref()))
        .bind(non_empty(launch.resource.description.as_ref()))
        .bind(user.map(|u| u.user_id.as_str()))
        .bind(user.and_then(|u| non_empty(u.given_name.as_ref())))
        .bind(user.and_then(|u| non_empty(u.family_name.as_ref())))
        .bind(user.and_then(|u| non_empty(u.full_name.as_ref())))
        .bind(user.and_then(|u| non_empty(u.email.as_ref())))
        .bind(&launch.session)
        .bind(permissions_to_db(launch.permissions))
        .bind(launch.now)
        .bind(truncate_user_agent(launch.user_agent.as_deref()))
        .bind(parameters)
        .bind(nonce)
        .bind(NONCE_WINDOW_SECS)
        .fetch_one(&mut *conn)
        .await
}

impl LaunchRow {
    /// What the launch statement reports, as the store's outcome: `None`
    /// when its nonce was a replay and it stored nothing.
    pub(super) fn outcome(self) -> StoreResult<Option<LaunchOutcome>> {
        let row = self;
        if row.fresh == 0 {
            return Ok(None);
        }
        let missing =
            |what: &str| StoreError::Backend(format!("the launch statement returned no {what}"));
        let visit = row.visit.ok_or_else(|| missing("visit"))?;
        let resource = row.resource.ok_or_else(|| missing("resource"))?;
        Ok(Some(LaunchOutcome {
            visit: VisitId(visit),
            resource: resource_id_from_db(resource)?,
            context: row.context.map(ContextKey),
            user: row.user_key.map(UserKey),
            detached: u64::try_from(row.detached)
                .map_err(|_| StoreError::Backend(format!("detached {} visits", row.detached)))?,
        }))
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use lti_core::Store;

    use super::*;
    use crate::error::map_sqlx_error;
    use crate::testing::{
        Table, TestBackend, TestDb, TestResult, bare_launch, count_rows, new_consumer,
    };

    /// One launch statement on a connection of `pool`.
    async fn once(
        pool: &sqlx::PgPool,
        launch: &LaunchRecord,
        resource_id: i64,
    ) -> StoreResult<LaunchOutcome> {
        let mut conn = pool.acquire().await.map_err(map_sqlx_error)?;
        launch_once(&mut conn, launch, resource_id, "[]", None)
            .await
            .map_err(map_sqlx_error)
            .and_then(LaunchRow::outcome)?
            .ok_or_else(|| StoreError::Backend("no nonce, yet refused".into()))
    }

    fn launch(consumer: lti_core::ConsumerId, link: &str) -> LaunchRecord {
        bare_launch(consumer, "s", link)
    }

    /// A new link whose random id is already another link's: a conflict
    /// that writes nothing (the caller then retries with another id).
    #[tokio::test]
    async fn a_taken_resource_id_is_a_conflict_that_writes_nothing() -> TestResult {
        let Some(test_db) = TestDb::open(TestBackend::Postgres).await? else {
            return Ok(());
        };
        let db = test_db.db();
        let pool = db.postgres_pool().ok_or("not PostgreSQL")?;

        let consumer = new_consumer(db, "c", 0).await?.id;
        let first = once(pool, &launch(consumer, "a"), 42).await?;
        assert_eq!(first.resource.get(), 42);
        let taken = once(pool, &launch(consumer, "b"), 42).await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
        assert_eq!(count_rows(db, Table::Resources).await?, 1);
        assert_eq!(count_rows(db, Table::Visits).await?, 1);
        assert_eq!(db.session_visits("s").await?.len(), 1, "nothing detached");
        // An existing link ignores the offered id: no conflict.
        let again = once(pool, &launch(consumer, "a"), 7).await?;
        assert_eq!((again.resource.get(), again.detached), (42, 1));
        let second = once(pool, &launch(consumer, "b"), 43).await?;
        assert_eq!(second.resource.get(), 43);
        test_db.close().await;
        Ok(())
    }
}
