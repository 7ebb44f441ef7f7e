//! Nonces, contexts, resources, users and visits (SQLite): the launch and
//! page-view paths, on direct connections (see [`super::direct`]). Reads
//! run on the caller's thread; writes run on the writer thread, each call
//! one unit of work committed with whatever else was queued.

use lti_core::{
    ConsumerId, ConsumerRecord, ContextData, ContextKey, ContextRecord, LaunchOutcome,
    LaunchRecord, NONCE_WINDOW_SECS, ResourceData, ResourceId, ResourceRecord, StoreError,
    StoreResult, UserData, UserKey, UserRecord, VisitBundle, VisitId, VisitRecord,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::decode;
use super::direct::map_error;
use crate::rows::{
    RESOURCE_ID_ATTEMPTS, non_empty, parameters_to_json, permissions_to_db, random_resource_id,
    require, resource_id_to_db, truncate_user_agent, validate_context, validate_launch,
    validate_resource, validate_user,
};

impl SqliteStore {
    pub(crate) async fn find_consumer_by_key(
        &self,
        key: &str,
    ) -> StoreResult<Option<ConsumerRecord>> {
        const SQL: &str = "\
            SELECT id, silo_id, handle, key, secret, enabled, created \
            FROM consumers WHERE key = ?1";
        self.readers.read(|conn| {
            let row = conn
                .prepare_cached(SQL)
                .and_then(|mut stmt| stmt.query_row([key], decode::consumer).optional())
                .map_err(map_error)?;
            Ok(row.map(Into::into))
        })
    }

    pub(crate) async fn record_nonce(
        &self,
        consumer: ConsumerId,
        nonce: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let nonce = nonce.to_owned();
        self.writer
            .write(move |conn| nonce_in(conn, consumer, &nonce, now))
            .await
    }

    pub(crate) async fn prune_nonces(&self, now: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM nonces WHERE last_seen < ?1 - ?2";
        self.execute(SQL, move |stmt| {
            stmt.execute(params![now, NONCE_WINDOW_SECS])
        })
        .await
    }

    pub(crate) async fn upsert_context(
        &self,
        consumer: ConsumerId,
        data: &ContextData,
    ) -> StoreResult<ContextRecord> {
        validate_context(data)?;
        let data = data.clone();
        self.writer
            .write(move |conn| upsert_context(conn, consumer, &data))
            .await
    }

    pub(crate) async fn upsert_resource(
        &self,
        consumer: ConsumerId,
        context: Option<ContextKey>,
        data: &ResourceData,
    ) -> StoreResult<ResourceRecord> {
        validate_resource(data)?;
        let data = data.clone();
        self.writer
            .write(move |conn| upsert_resource(conn, consumer, context, &data))
            .await
    }

    pub(crate) async fn upsert_user(
        &self,
        consumer: ConsumerId,
        data: &UserData,
    ) -> StoreResult<UserRecord> {
        validate_user(data)?;
        let data = data.clone();
        self.writer
            .write(move |conn| upsert_user(conn, consumer, &data))
            .await
    }

    pub(crate) async fn find_resource(
        &self,
        id: ResourceId,
    ) -> StoreResult<Option<ResourceRecord>> {
        const SQL: &str = "\
            SELECT id, consumer_id, context_key, link_id, title, description \
            FROM resources WHERE id = ?1";
        self.readers.read(|conn| {
            let row = conn
                .prepare_cached(SQL)
                .and_then(|mut stmt| {
                    stmt.query_row([resource_id_to_db(id)], decode::resource)
                        .optional()
                })
                .map_err(map_error)?;
            row.map(TryInto::try_into).transpose()
        })
    }

    pub(crate) async fn record_launch(&self, launch: LaunchRecord) -> StoreResult<LaunchOutcome> {
        validate_launch(&launch)?;
        self.writer
            .write(move |conn| launch_in(conn, &launch))
            .await
    }

    /// The nonce and the launch as one unit of work: a replay rolls back
    /// nothing because it wrote nothing, and a failing launch rolls back
    /// its nonce with it (the unit's savepoint).
    pub(crate) async fn record_fresh_launch(
        &self,
        nonce: &str,
        launch: LaunchRecord,
    ) -> StoreResult<Option<LaunchOutcome>> {
        validate_launch(&launch)?;
        let nonce = nonce.to_owned();
        self.writer
            .write(move |conn| {
                if !nonce_in(conn, launch.consumer, &nonce, launch.now)? {
                    return Ok(None);
                }
                launch_in(conn, &launch).map(Some)
            })
            .await
    }

    pub(crate) async fn find_visit(
        &self,
        session: &str,
        resource: ResourceId,
    ) -> StoreResult<Option<VisitBundle>> {
        const SQL: &str = "\
            SELECT v.id, v.user_key, v.session, v.permissions, v.launched, v.user_agent, \
                v.parameters, \
                r.id, r.consumer_id, r.context_key, r.link_id, r.title, r.description, \
                c.id, c.silo_id, c.handle, c.key, c.secret, c.enabled, c.created, \
                x.id, x.context_id, x.title, x.label, x.types, \
                u.id, u.user_id, u.given_name, u.family_name, u.full_name, u.email \
            FROM visits v \
            JOIN resources r ON r.id = v.resource_id \
            JOIN consumers c ON c.id = r.consumer_id \
            LEFT JOIN contexts x ON x.id = r.context_key \
            LEFT JOIN users u ON u.id = v.user_key \
            WHERE v.session = ?1 AND v.resource_id = ?2 \
            ORDER BY v.id DESC LIMIT 1";
        self.readers.read(|conn| {
            let row = conn
                .prepare_cached(SQL)
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![session, resource_id_to_db(resource)],
                        decode::bundle,
                    )
                    .optional()
                })
                .map_err(map_error)?;
            row.map(TryInto::try_into).transpose()
        })
    }

    pub(crate) async fn session_visits(&self, session: &str) -> StoreResult<Vec<VisitRecord>> {
        const SQL: &str = "\
            SELECT id, resource_id, user_key, session, permissions, launched, user_agent, \
                parameters \
            FROM visits WHERE session = ?1 ORDER BY launched, id";
        self.readers.read(|conn| {
            let rows = conn
                .prepare_cached(SQL)
                .and_then(|mut stmt| {
                    stmt.query_map([session], decode::visit)?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(map_error)?;
            rows.into_iter().map(TryInto::try_into).collect()
        })
    }

    pub(crate) async fn rekey_session(&self, old: &str, new: &str) -> StoreResult<u64> {
        const SQL: &str = "UPDATE visits SET session = ?2 WHERE session = ?1";
        require(new, "session id")?;
        if old == new {
            return Ok(0);
        }
        let (old, new) = (old.to_owned(), new.to_owned());
        self.execute(SQL, move |stmt| stmt.execute([old, new]))
            .await
    }

    pub(crate) async fn merge_sessions(&self, from: &str, into: &str) -> StoreResult<u64> {
        require(into, "session id")?;
        if from == into {
            return Ok(0);
        }
        let (from, into) = (from.to_owned(), into.to_owned());
        self.writer
            .write(move |conn| merge_in(conn, &from, &into))
            .await
    }

    pub(crate) async fn detach_session(&self, session: &str) -> StoreResult<u64> {
        const SQL: &str = "UPDATE visits SET session = NULL WHERE session = ?1";
        let session = session.to_owned();
        self.execute(SQL, move |stmt| stmt.execute([session])).await
    }

    pub(crate) async fn prune_detached_visits(&self, launched_before: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM visits WHERE session IS NULL AND launched < ?1";
        self.execute(SQL, move |stmt| stmt.execute([launched_before]))
            .await
    }

    /// Runs one writing statement on the writer thread; returns how many
    /// rows it changed.
    async fn execute<F>(&self, sql: &'static str, run: F) -> StoreResult<u64>
    where
        F: FnOnce(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<usize> + Send + 'static,
    {
        self.writer
            .write(move |conn| {
                let changed = conn
                    .prepare_cached(sql)
                    .and_then(|mut stmt| run(&mut stmt))
                    .map_err(map_error)?;
                Ok(changed as u64)
            })
            .await
    }
}

/// Gets or creates a context in one statement; a new value replaces the
/// stored one only when non-empty (spec §5.4).
fn upsert_context(
    conn: &Connection,
    consumer: ConsumerId,
    data: &ContextData,
) -> StoreResult<ContextRecord> {
    const SQL: &str = "\
        INSERT INTO contexts (consumer_id, context_id, title, label, types) \
        VALUES (?1, ?2, ?3, ?4, ?5) \
        ON CONFLICT (consumer_id, context_id) DO UPDATE SET \
            title = COALESCE(excluded.title, contexts.title), \
            label = COALESCE(excluded.label, contexts.label), \
            types = COALESCE(excluded.types, contexts.types) \
        RETURNING id, consumer_id, context_id, title, label, types";
    let row = conn
        .prepare_cached(SQL)
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    consumer.0,
                    data.context_id,
                    non_empty(data.title.as_ref()),
                    non_empty(data.label.as_ref()),
                    non_empty(data.types.as_ref()),
                ],
                decode::context,
            )
        })
        .map_err(map_error)?;
    Ok(row.into())
}

/// Gets or creates a resource link. A new one gets a random id and the
/// given context; an existing one keeps its id and context for ever (spec
/// §5.4). A random id that is already taken (a unique violation of the
/// primary key: the statement changes nothing) is drawn again.
fn upsert_resource(
    conn: &Connection,
    consumer: ConsumerId,
    context: Option<ContextKey>,
    data: &ResourceData,
) -> StoreResult<ResourceRecord> {
    const SQL: &str = "\
        INSERT INTO resources (id, consumer_id, context_key, link_id, title, description) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
        ON CONFLICT (consumer_id, link_id) DO UPDATE SET \
            title = COALESCE(excluded.title, resources.title), \
            description = COALESCE(excluded.description, resources.description) \
        RETURNING id, consumer_id, context_key, link_id, title, description";
    let mut attempts = 0;
    loop {
        attempts += 1;
        let id = random_resource_id()?;
        let row = conn
            .prepare_cached(SQL)
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![
                        id,
                        consumer.0,
                        context.map(|key| key.0),
                        data.link_id,
                        non_empty(data.title.as_ref()),
                        non_empty(data.description.as_ref()),
                    ],
                    decode::resource,
                )
            })
            .map_err(map_error);
        match row {
            Err(StoreError::Conflict(_)) if attempts < RESOURCE_ID_ATTEMPTS => continue,
            other => return other?.try_into(),
        }
    }
}

/// Gets or creates a user; each field is replaced only by a non-empty value.
fn upsert_user(
    conn: &Connection,
    consumer: ConsumerId,
    data: &UserData,
) -> StoreResult<UserRecord> {
    const SQL: &str = "\
        INSERT INTO users (consumer_id, user_id, given_name, family_name, full_name, email) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
        ON CONFLICT (consumer_id, user_id) DO UPDATE SET \
            given_name = COALESCE(excluded.given_name, users.given_name), \
            family_name = COALESCE(excluded.family_name, users.family_name), \
            full_name = COALESCE(excluded.full_name, users.full_name), \
            email = COALESCE(excluded.email, users.email) \
        RETURNING id, consumer_id, user_id, given_name, family_name, full_name, email";
    let row = conn
        .prepare_cached(SQL)
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    consumer.0,
                    data.user_id,
                    non_empty(data.given_name.as_ref()),
                    non_empty(data.family_name.as_ref()),
                    non_empty(data.full_name.as_ref()),
                    non_empty(data.email.as_ref()),
                ],
                decode::user,
            )
        })
        .map_err(map_error)?;
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
fn detach_superseded(
    conn: &Connection,
    session: &str,
    resource: i64,
    consumer: ConsumerId,
    user: Option<UserKey>,
) -> StoreResult<u64> {
    const SQL: &str = "\
        UPDATE visits SET session = NULL \
        WHERE session = ?1 \
          AND (resource_id = ?2 \
               OR (user_key IS NOT ?3 \
                   AND EXISTS (SELECT 1 FROM resources r \
                               WHERE r.id = visits.resource_id AND r.consumer_id = ?4)))";
    let changed = conn
        .prepare_cached(SQL)
        .and_then(|mut stmt| {
            stmt.execute(params![
                session,
                resource,
                user.map(|key| key.0),
                consumer.0
            ])
        })
        .map_err(map_error)?;
    Ok(changed as u64)
}

/// Records a nonce: true when it was not seen within the window.
///
/// One statement, so concurrent calls serialise on the row: the insert or
/// the stale-row update changes one row for exactly one of them. A row seen
/// within the window is left alone and the call reports a replay (spec
/// §5.3: reuse is allowed only once last_seen + 5400 s is earlier than
/// now).
fn nonce_in(conn: &Connection, consumer: ConsumerId, nonce: &str, now: i64) -> StoreResult<bool> {
    const SQL: &str = "\
        INSERT INTO nonces (consumer_id, nonce, last_seen) VALUES (?1, ?2, ?3) \
        ON CONFLICT (consumer_id, nonce) DO UPDATE SET last_seen = excluded.last_seen \
        WHERE nonces.last_seen < ?3 - ?4";
    let changed = conn
        .prepare_cached(SQL)
        .and_then(|mut stmt| stmt.execute(params![consumer.0, nonce, now, NONCE_WINDOW_SECS]))
        .map_err(map_error)?;
    Ok(changed == 1)
}

/// The body of [`SqliteStore::record_launch`], one unit of work on the
/// writer thread (all or nothing: it runs in a savepoint).
fn launch_in(conn: &Connection, launch: &LaunchRecord) -> StoreResult<LaunchOutcome> {
    const INSERT_VISIT: &str = "\
        INSERT INTO visits \
            (resource_id, user_key, session, permissions, launched, user_agent, parameters) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    let context = match &launch.context {
        Some(data) => Some(upsert_context(conn, launch.consumer, data)?.key),
        None => None,
    };
    let resource = upsert_resource(conn, launch.consumer, context, &launch.resource)?;
    let user = match &launch.user {
        Some(data) => Some(upsert_user(conn, launch.consumer, data)?.key),
        None => None,
    };
    let resource_db = resource_id_to_db(resource.id);
    let detached = if launch.new_session {
        0
    } else {
        detach_superseded(conn, &launch.session, resource_db, launch.consumer, user)?
    };
    let parameters = parameters_to_json(&launch.parameters)?;
    conn.prepare_cached(INSERT_VISIT)
        .and_then(|mut stmt| {
            stmt.execute(params![
                resource_db,
                user.map(|key| key.0),
                launch.session,
                permissions_to_db(launch.permissions),
                launch.now,
                truncate_user_agent(launch.user_agent.as_deref()),
                parameters,
            ])
        })
        .map_err(map_error)?;
    Ok(LaunchOutcome {
        visit: VisitId(conn.last_insert_rowid()),
        resource: resource.id,
        context,
        user,
        detached,
    })
}

/// The body of [`SqliteStore::merge_sessions`], one unit of work: each
/// visit of `from`, oldest first, detaches what it supersedes in `into`
/// (spec §5.5) and then moves there, as if launched in `into` in turn.
fn merge_in(conn: &Connection, from: &str, into: &str) -> StoreResult<u64> {
    const VISITS_OF: &str = "\
        SELECT v.id, v.resource_id, v.user_key, r.consumer_id \
        FROM visits v JOIN resources r ON r.id = v.resource_id \
        WHERE v.session = ?1 ORDER BY v.launched, v.id";
    const MOVE: &str = "UPDATE visits SET session = ?2 WHERE id = ?1";
    let visits: Vec<(i64, i64, Option<i64>, i64)> = conn
        .prepare_cached(VISITS_OF)
        .and_then(|mut stmt| {
            stmt.query_map([from], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect()
        })
        .map_err(map_error)?;
    let mut moved = 0;
    for (visit, resource, user, consumer) in visits {
        detach_superseded(
            conn,
            into,
            resource,
            ConsumerId(consumer),
            user.map(UserKey),
        )?;
        let changed = conn
            .prepare_cached(MOVE)
            .and_then(|mut stmt| stmt.execute(params![visit, into]))
            .map_err(map_error)?;
        moved += changed as u64;
    }
    Ok(moved)
}
