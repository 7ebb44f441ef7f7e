-- Owners: the people who run a silo and log in to the admin console
-- (/admin/; spec §10.4, DESIGN.md §3 "Data"). SQLite dialect.
--
-- Kept in lockstep with migrations/postgres/0002_owners.sql.
--
-- * `email` is the login name, stored trimmed and lower-cased by the
--   application, unique across all silos;
-- * `password_hash` is an Argon2id PHC string, never a password;
-- * `session_epoch` moves on at log out and at a password change: admin
--   sessions (signed cookies, not rows) carry the epoch they were opened
--   in, so moving it ends them all;
-- * deleting a silo deletes its owners.
CREATE TABLE owners (
    id            INTEGER PRIMARY KEY,
    silo_id       INTEGER NOT NULL REFERENCES silos (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL UNIQUE CHECK (email <> ''),
    password_hash TEXT    NOT NULL CHECK (password_hash <> ''),
    session_epoch INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL
);
CREATE INDEX owners_by_silo ON owners (silo_id, email);
