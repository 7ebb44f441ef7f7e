//! The noticeboard's migration folders stay in lockstep, are numbered in
//! the range lti-store leaves to tools, and match the embedded migrators.

use std::path::PathBuf;

use lti_store::{Backend, TOOL_MIGRATIONS_START};

fn migration_files(backend: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    lti_store::testing::migration_files(&dir)
}

#[test]
fn folders_hold_the_same_migrations_in_the_tool_range() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for (index, name) in sqlite.iter().enumerate() {
        let (number, rest) = name
            .split_once('_')
            .unwrap_or_else(|| panic!("{name}: NNNNNNN_name.sql"));
        let number: i64 = number.parse().unwrap_or_else(|_| panic!("{name}"));
        assert_eq!(
            number,
            TOOL_MIGRATIONS_START + 1 + index as i64,
            "{name}: numbered in sequence from {}",
            TOOL_MIGRATIONS_START + 1
        );
        assert!(rest.ends_with(".sql"), "{name}");
    }
}

#[test]
fn embedded_migrators_match_the_folders() {
    noticeboard::MIGRATIONS
        .check()
        .expect("consistent tool migrations");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let embedded: Vec<String> = noticeboard::MIGRATIONS
            .migrator(backend)
            .iter()
            .map(|m| format!("{}_{}.sql", m.version, m.description.replace(' ', "_")))
            .collect();
        assert_eq!(embedded, migration_files(backend.name()), "{backend}");
        let sql = noticeboard::MIGRATIONS.schema_sql(backend);
        assert!(sql.contains("CREATE TABLE notices ("), "{backend}");
        assert!(
            sql.contains("REFERENCES contexts (id) ON DELETE CASCADE"),
            "{backend}"
        );
        assert!(
            sql.contains("REFERENCES users (id) ON DELETE CASCADE"),
            "{backend}"
        );
    }
}
