-- noticeboard: notices posted in a course (spec §7.3, §10), PostgreSQL
-- dialect.
--
-- Kept in lockstep with migrations/sqlite/1000001_notices.sql. Numbered
-- from 1 000 000 up, the range lti-store leaves to a tool's own migrations
-- (TOOL_MIGRATIONS_START): they share sqlx's _sqlx_migrations table with
-- the framework's without colliding. Append-only.
--
-- A notice belongs to a context (course) and to its author; deleting either
-- (and so deleting the consumer they belong to) deletes the notice. Times
-- are unix seconds from the tool's clock. An absent description is NULL.
-- Identity values are never reused, so a stale edit or delete link can
-- never reach a newer notice.
CREATE TABLE notices (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    context_key BIGINT NOT NULL REFERENCES contexts (id) ON DELETE CASCADE,
    user_key    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT   NOT NULL CHECK (char_length(title) BETWEEN 1 AND 64),
    description TEXT   CHECK (char_length(description) BETWEEN 1 AND 256),
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL
);
-- The board: a context's notices, most recently updated first.
CREATE INDEX notices_by_context ON notices (context_key, updated DESC, id DESC);
-- Cascades from users.
CREATE INDEX notices_by_user ON notices (user_key);
