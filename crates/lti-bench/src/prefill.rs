//! Scale mode: a fresh PostgreSQL schema per database, and the bulk SQL
//! that pre-fills nonces and visits (one statement each, generated rows).

use anyhow::Context as _;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

/// A schema `lti_bench_<random>` on the given server, dropped on drop.
pub(crate) struct PgSchema {
    server: String,
    name: String,
}

impl PgSchema {
    pub(crate) async fn create(server: &str) -> anyhow::Result<Self> {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random: {e}"))?;
        let name = format!(
            "lti_bench_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let mut conn = PgConnection::connect(server)
            .await
            .context("connecting to PostgreSQL")?;
        // The name is ours (hex digits): quoting is enough.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(Self {
            server: server.to_owned(),
            name,
        })
    }

    /// The server URL with `search_path` set to the schema.
    pub(crate) fn url(&self) -> String {
        let sep = if self.server.contains('?') { '&' } else { '?' };
        format!("{}{sep}options[search_path]={}", self.server, self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&server).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await?;
                Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("lti-bench: could not drop schema {}", self.name);
        }
    }
}

/// Which count a statement generates rows for.
#[derive(Clone, Copy)]
enum Rows {
    /// `$1` consumer only.
    Fixed,
    /// `$1` consumer, `$2` nonce count, `$3` now.
    Nonces,
    /// `$1` consumer, `$2` visit count, `$3` now.
    Visits,
}

const SQLITE_FILL: &[(Rows, &str)] = &[
    (
        Rows::Fixed,
        "INSERT INTO resources (id, consumer_id, link_id, title) VALUES (1, $1, 'prefill-resource', 'Pre-filled')",
    ),
    (
        Rows::Nonces,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO nonces (consumer_id, nonce, last_seen) SELECT $1, 'prefill-' || i, $3 FROM n",
    ),
    (
        Rows::Fixed,
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
         INSERT INTO users (consumer_id, user_id, full_name)
         SELECT $1, 'prefill-user-' || i, 'Prefill ' || i FROM n",
    ),
    (
        Rows::Visits,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO visits (resource_id, user_key, session, permissions, launched, parameters)
         SELECT r.id, u.id, 'prefill-' || n.i, 1, $3, '{}'
         FROM n
         JOIN resources r ON r.consumer_id = $1 AND r.link_id = 'prefill-resource'
         JOIN users u ON u.consumer_id = $1 AND u.user_id = 'prefill-user-' || (n.i % 1000)",
    ),
];

const POSTGRES_FILL: &[(Rows, &str)] = &[
    (
        Rows::Fixed,
        "INSERT INTO resources (id, consumer_id, link_id, title) VALUES (1, $1, 'prefill-resource', 'Pre-filled')",
    ),
    (
        Rows::Nonces,
        "INSERT INTO nonces (consumer_id, nonce, last_seen)
         SELECT $1, 'prefill-' || i, $3 FROM generate_series(1::bigint, $2) AS i",
    ),
    (
        Rows::Fixed,
        "INSERT INTO users (consumer_id, user_id, full_name)
         SELECT $1, 'prefill-user-' || i, 'Prefill ' || i FROM generate_series(0, 999) AS i",
    ),
    (
        Rows::Visits,
        "INSERT INTO visits (resource_id, user_key, session, permissions, launched, parameters)
         SELECT r.id, u.id, 'prefill-' || n.i, 1, $3, '{}'
         FROM generate_series(1::bigint, $2) AS n(i)
         JOIN resources r ON r.consumer_id = $1 AND r.link_id = 'prefill-resource'
         JOIN users u ON u.consumer_id = $1 AND u.user_id = 'prefill-user-' || (n.i % 1000)",
    ),
];

const CONSUMER: &str = "SELECT id FROM consumers WHERE key = '12345'";

/// Pre-fills `nonces` nonces and `visits` visits for consumer `12345`
/// (created by the tool's `--create-silo`), then checkpoints the WAL
/// (SQLite) or analyses (PostgreSQL, whose autovacuum would).
pub(crate) async fn fill(url: &str, nonces: u64, visits: u64) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let nonces = i64::try_from(nonces)?;
    let visits = i64::try_from(visits)?;
    let count = |rows: Rows| match rows {
        Rows::Fixed => None,
        Rows::Nonces => Some(nonces),
        Rows::Visits => Some(visits),
    };
    if url.starts_with("sqlite:") {
        let mut conn = SqliteConnection::connect(url).await?;
        let (consumer,): (i64,) = sqlx::query_as(CONSUMER).fetch_one(&mut conn).await?;
        for &(rows, sql) in SQLITE_FILL {
            let mut query = sqlx::query(sql).bind(consumer);
            if let Some(n) = count(rows) {
                query = query.bind(n).bind(now);
            }
            query
                .execute(&mut conn)
                .await
                .with_context(|| format!("pre-fill: {sql}"))?;
        }
        // No ANALYZE: the store never runs one, and with the bundled
        // SQLite's STAT4 it makes every lookup re-plan (lti-store docs).
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
    } else {
        let mut conn = PgConnection::connect(url).await?;
        let (consumer,): (i64,) = sqlx::query_as(CONSUMER).fetch_one(&mut conn).await?;
        for &(rows, sql) in POSTGRES_FILL {
            let mut query = sqlx::query(sql).bind(consumer);
            if let Some(n) = count(rows) {
                query = query.bind(n).bind(now);
            }
            query
                .execute(&mut conn)
                .await
                .with_context(|| format!("pre-fill: {sql}"))?;
        }
        sqlx::raw_sql("ANALYZE").execute(&mut conn).await?;
        conn.close().await?;
    }
    Ok(())
}
