-- axum-lti storage, SQLite dialect (spec §7, DESIGN.md §3 "Data").
--
-- Kept in lockstep with migrations/postgres/0001_initial.sql: same tables,
-- columns, constraints and indexes, written in each dialect. Append-only:
-- change the schema with a new numbered file in both folders.
--
-- Conventions:
-- * times are INTEGER unix seconds supplied by the application's clock;
--   no default calls the database's own clock;
-- * absent optional values are NULL, never '';
-- * LMS identifiers (context_id, link_id, user_id, consumer key) are TEXT and
--   never parsed as numbers;
-- * deleting a silo deletes its consumers, and deleting a consumer deletes
--   its nonces, contexts, resources, users and (through the resources and
--   users) their visits.

-- Retired application keys, each sealed under its successor (spec §8.5).
CREATE TABLE app_keys (
    keynum      INTEGER PRIMARY KEY CHECK (keynum BETWEEN 0 AND 4294967295),
    wrapped     TEXT    NOT NULL,
    switch_over INTEGER NOT NULL
);

-- Tenants (spec §7.2).
CREATE TABLE silos (
    id   INTEGER PRIMARY KEY,
    slug TEXT    NOT NULL UNIQUE
);

-- Tool consumers: an LMS and its OAuth credentials. `secret` holds only the
-- application cipher's text (`<keynum>:<base64>`), never the plain secret.
CREATE TABLE consumers (
    id      INTEGER PRIMARY KEY,
    silo_id INTEGER NOT NULL REFERENCES silos (id) ON DELETE CASCADE,
    handle  TEXT    NOT NULL,
    key     TEXT    NOT NULL UNIQUE,
    secret  TEXT    NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created INTEGER NOT NULL
);
CREATE INDEX consumers_by_silo ON consumers (silo_id, key);

-- OAuth nonces, unique per consumer for 90 minutes (spec §5.3). The primary
-- key is the lookup index of record_nonce.
CREATE TABLE nonces (
    consumer_id INTEGER NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    nonce       TEXT    NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (consumer_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_by_last_seen ON nonces (last_seen);

-- LTI contexts (courses, groups).
CREATE TABLE contexts (
    id          INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    context_id  TEXT    NOT NULL,
    title       TEXT,
    label       TEXT,
    types       TEXT,
    UNIQUE (consumer_id, context_id)
);

-- Resource links. `id` is a random non-negative 63-bit integer chosen by the
-- application (it appears in URLs as hex); `context_key` is the context of
-- the first launch and never changes (spec §5.4).
CREATE TABLE resources (
    id          INTEGER PRIMARY KEY CHECK (id >= 0),
    consumer_id INTEGER NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    context_key INTEGER REFERENCES contexts (id) ON DELETE SET NULL,
    link_id     TEXT    NOT NULL,
    title       TEXT,
    description TEXT,
    UNIQUE (consumer_id, link_id)
);
CREATE INDEX resources_by_context ON resources (context_key);

-- LMS users, per consumer.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL,
    given_name  TEXT,
    family_name TEXT,
    full_name   TEXT,
    email       TEXT,
    UNIQUE (consumer_id, user_id)
);

-- Visits: "this browser session launched this resource" (spec §5.5).
-- `session` is NULL once the visit is detached. `parameters` is the JSON
-- text of the launch's [name, value] pairs; `user_agent` is truncated.
CREATE TABLE visits (
    id          INTEGER PRIMARY KEY,
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    user_key    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    session     TEXT,
    permissions INTEGER NOT NULL,
    launched    INTEGER NOT NULL,
    user_agent  TEXT,
    parameters  TEXT    NOT NULL
);
-- Visits by session and by (session, resource): one index serves both, the
-- first through its leading column.
CREATE INDEX visits_by_session ON visits (session, resource_id);
-- Detached visits by launch time, for pruning.
CREATE INDEX visits_detached_by_launched ON visits (launched) WHERE session IS NULL;
-- Cascades from resources and users.
CREATE INDEX visits_by_resource ON visits (resource_id);
CREATE INDEX visits_by_user ON visits (user_key);
