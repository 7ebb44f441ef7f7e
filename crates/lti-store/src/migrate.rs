//! Migrations: the framework's and a tool's own ([`ToolMigrations`]), in
//! one database.
//!
//! sqlx records the migrations applied to a database in one table,
//! `_sqlx_migrations`, and by default refuses to run a migrator when that
//! table holds a version the migrator does not know (`VersionMissing`). A
//! tool that adds tables of its own therefore shares the table with the
//! framework under a partition of the version numbers:
//!
//! * the framework's migrations are numbered below
//!   [`TOOL_MIGRATIONS_START`] (`0001_initial.sql`, …);
//! * a tool's are numbered from [`TOOL_MIGRATIONS_START`] (1 000 000) up,
//!   e.g. `1000001_notices.sql`, so the two can never collide.
//!
//! Each side runs with sqlx's `ignore_missing` (so the other side's rows do
//! not stop it) and then checks its own range itself: a version there that
//! it does not know means a newer program migrated the database, which is
//! refused as sqlx would refuse it.

use std::fmt;

use lti_core::{StoreError, StoreResult};
use sqlx::migrate::Migrator;

use crate::options::Backend;

/// The first migration version a tool's own migrations may use; the
/// framework's stay below it.
pub const TOOL_MIGRATIONS_START: i64 = 1_000_000;

/// The migrations of a tool's own tables, one migrator per backend, each
/// embedded with `sqlx::migrate!` from folders with the same file names
/// (`migrations/sqlite`, `migrations/postgres`), numbered from
/// [`TOOL_MIGRATIONS_START`] up.
///
/// In a tool's crate, with its folders `migrations/sqlite` and
/// `migrations/postgres` (here the noticeboard example's):
///
/// ```no_run
/// use lti_store::ToolMigrations;
/// use sqlx::migrate::Migrator;
///
/// static SQLITE: Migrator = sqlx::migrate!("../../examples/noticeboard/migrations/sqlite");
/// static POSTGRES: Migrator = sqlx::migrate!("../../examples/noticeboard/migrations/postgres");
/// /// The tool's tables.
/// pub static MIGRATIONS: ToolMigrations = ToolMigrations::new(&SQLITE, &POSTGRES);
///
/// # async fn run(db: lti_store::Db) -> lti_core::StoreResult<()> {
/// db.migrate_tool(&MIGRATIONS).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct ToolMigrations {
    sqlite: &'static Migrator,
    postgres: &'static Migrator,
}

impl fmt::Debug for ToolMigrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let versions = |m: &Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
        f.debug_struct("ToolMigrations")
            .field("sqlite", &versions(self.sqlite))
            .field("postgres", &versions(self.postgres))
            .finish()
    }
}

impl ToolMigrations {
    /// The migrations for each backend.
    pub const fn new(sqlite: &'static Migrator, postgres: &'static Migrator) -> Self {
        Self { sqlite, postgres }
    }

    /// The migrator of `backend`.
    pub fn migrator(&self, backend: Backend) -> &'static Migrator {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }

    /// The SQL of `backend`'s migrations, in order (for `--sqlout`).
    pub fn schema_sql(&self, backend: Backend) -> String {
        migrations_sql(self.migrator(backend))
    }

    /// Checks that every version is at least [`TOOL_MIGRATIONS_START`] and
    /// that both backends have the same versions and descriptions.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] saying what is wrong.
    pub fn check(&self) -> StoreResult<()> {
        let describe = |m: &Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        let (sqlite, postgres) = (describe(self.sqlite), describe(self.postgres));
        if sqlite != postgres {
            return Err(StoreError::Invalid(format!(
                "the tool's SQLite and PostgreSQL migrations differ: {sqlite:?} vs {postgres:?}"
            )));
        }
        if let Some((version, name)) = sqlite.iter().find(|(v, _)| *v < TOOL_MIGRATIONS_START) {
            return Err(StoreError::Invalid(format!(
                "tool migration {version} ({name}) is numbered below {TOOL_MIGRATIONS_START}, \
                 the range the framework's migrations use: number it {} or above",
                TOOL_MIGRATIONS_START + 1
            )));
        }
        Ok(())
    }
}

/// Whose migrations a run applies: the owner checks its own version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The framework: versions below [`TOOL_MIGRATIONS_START`].
    Framework,
    /// A tool: versions from [`TOOL_MIGRATIONS_START`] up.
    Tool,
}

impl Owner {
    fn owns(self, version: i64) -> bool {
        match self {
            Self::Framework => version < TOOL_MIGRATIONS_START,
            Self::Tool => version >= TOOL_MIGRATIONS_START,
        }
    }
}

/// A copy of `migrator` that tolerates applied versions it does not know
/// (the other owner's); [`check_applied`] then checks its own range.
pub(crate) fn tolerant(migrator: &Migrator) -> Migrator {
    let mut copy = Migrator::with_migrations(migrator.iter().cloned().collect());
    copy.set_ignore_missing(true);
    copy
}

/// After a run: every applied version in `owner`'s range must be one of
/// `migrator`'s, or the database is newer than this program.
pub(crate) fn check_applied(owner: Owner, migrator: &Migrator, applied: &[i64]) -> StoreResult<()> {
    let unknown: Vec<i64> = applied
        .iter()
        .copied()
        .filter(|&v| owner.owns(v) && !migrator.version_exists(v))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let whose = match owner {
        Owner::Framework => "the framework's",
        Owner::Tool => "the tool's",
    };
    Err(StoreError::Backend(format!(
        "the database has {whose} migrations {unknown:?}, which this program does not know: it \
         was migrated by a newer version; run that version (or newer)"
    )))
}

/// The SQL of a migrator's migrations with a header line each.
pub(crate) fn migrations_sql(migrator: &Migrator) -> String {
    let mut text = String::new();
    for migration in migrator.iter() {
        text.push_str(&format!(
            "-- migration {:04} {}\n",
            migration.version, migration.description
        ));
        text.push_str(migration.sql.as_str());
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_split_the_versions() {
        assert!(Owner::Framework.owns(1));
        assert!(Owner::Framework.owns(TOOL_MIGRATIONS_START - 1));
        assert!(!Owner::Framework.owns(TOOL_MIGRATIONS_START));
        assert!(Owner::Tool.owns(1_000_001));
        assert!(!Owner::Tool.owns(1));
    }

    #[test]
    fn the_framework_ignores_tool_versions_but_not_its_own() {
        let framework = crate::migrator(Backend::Sqlite);
        assert!(check_applied(Owner::Framework, framework, &[1, 1_000_001]).is_ok());
        let err = check_applied(Owner::Framework, framework, &[1, 999]).expect_err("newer");
        assert!(err.to_string().contains("[999]"), "{err}");
        assert!(check_applied(Owner::Tool, framework, &[1, 999]).is_ok());
    }

    #[test]
    fn framework_versions_stay_below_the_tool_range() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            assert!(
                crate::migrator(backend)
                    .iter()
                    .all(|m| m.version < TOOL_MIGRATIONS_START)
            );
        }
    }
}
