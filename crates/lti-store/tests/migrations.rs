//! The two migration folders stay in lockstep, and the embedded migrators
//! and the printed schema follow them.

use std::path::PathBuf;

use lti_store::{Backend, migrator, schema_sql};

fn migration_files(backend: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend);
    lti_store::testing::migration_files(&dir)
}

#[test]
fn folders_hold_the_same_migrations_in_the_same_order() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for (index, name) in sqlite.iter().enumerate() {
        let (number, rest) = name
            .split_once('_')
            .unwrap_or_else(|| panic!("{name}: NNNN_name.sql"));
        assert_eq!(number.len(), 4, "{name}: zero-padded four-digit number");
        assert_eq!(
            number.parse::<usize>().ok(),
            Some(index + 1),
            "{name}: numbered in sequence"
        );
        assert!(rest.ends_with(".sql"), "{name}");
    }
}

#[test]
fn embedded_migrators_match() {
    let describe = |backend| {
        migrator(backend)
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect::<Vec<_>>()
    };
    let sqlite = describe(Backend::Sqlite);
    assert_eq!(sqlite, describe(Backend::Postgres));
    assert_eq!(sqlite.len(), migration_files("sqlite").len());
}

#[test]
fn schema_sql_creates_every_table() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let sql = schema_sql(backend);
        assert!(sql.starts_with("-- migration 0001 initial\n"), "{backend}");
        for table in [
            "app_keys",
            "silos",
            "consumers",
            "nonces",
            "contexts",
            "resources",
            "users",
            "visits",
            "owners",
        ] {
            assert!(
                sql.contains(&format!("CREATE TABLE {table} (")),
                "{backend}: {table}"
            );
        }
        assert!(!sql.to_lowercase().contains("now()") || backend == Backend::Postgres);
    }
    assert!(schema_sql(Backend::Postgres).contains("GENERATED ALWAYS AS IDENTITY"));
    assert!(schema_sql(Backend::Sqlite).contains("WITHOUT ROWID"));
}
