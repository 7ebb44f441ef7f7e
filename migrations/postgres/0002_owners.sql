-- Owners: the people who run a silo and log in to the admin console
-- (/admin/; spec §10.4, DESIGN.md §3 "Data"). PostgreSQL dialect.
--
-- Kept in lockstep with migrations/sqlite/0002_owners.sql.
--
-- * `email` is the login name, stored trimmed and lower-cased by the
--   application, unique across all silos;
-- * `password_hash` is an Argon2id PHC string, never a password;
-- * `session_epoch` moves on at log out and at a password change: admin
--   sessions (signed cookies, not rows) carry the epoch they were opened
--   in, so moving it ends them all;
-- * deleting a silo deletes its owners.
CREATE TABLE owners (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    silo_id       BIGINT NOT NULL REFERENCES silos (id) ON DELETE CASCADE,
    email         TEXT   NOT NULL UNIQUE CHECK (email <> ''),
    password_hash TEXT   NOT NULL CHECK (password_hash <> ''),
    session_epoch BIGINT NOT NULL DEFAULT 0,
    created       BIGINT NOT NULL,
    updated       BIGINT NOT NULL
);
CREATE INDEX owners_by_silo ON owners (silo_id, email);
