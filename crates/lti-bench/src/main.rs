//! lti-bench: the load benchmark of PERFORMANCE.md.
//!
//! ```text
//! cargo run --release -p lti-bench -- [--duration 2] [--concurrency 1,4,16,64]
//!     [--runs 3] [--scale] [--database-url postgres://…]
//! ```
//!
//! It starts two server processes on free loopback ports: mytool's router
//! (this binary re-executed as `serve-tool`, on a SQLite file in WAL mode or
//! on a fresh PostgreSQL schema) and a bare axum baseline (`serve-baseline`),
//! then drives both over keep-alive HTTP/1.1 and prints one table: req/s,
//! latency quantiles, errors and each figure's ratio to the baseline's
//! `hello` at the same concurrency. Every point is bounded in time and in
//! requests; the servers are killed at the end.

mod baseline;
mod child;
mod load;
mod prefill;
mod tool;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use child::Server;
use load::{Launches, Limits, Sample, Scenario};

/// The application key of the benchmark's tool process.
const APP_SECRET: &str = "lti-bench application secret, not a real one";

#[derive(Debug, Parser)]
#[command(about = "Load benchmark: mytool and a bare axum baseline over loopback HTTP")]
struct Args {
    /// Seconds measured per point (after the warm-up).
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Seconds of warm-up per point (not measured).
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Concurrency levels (workers, one connection each).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    concurrency: Vec<usize>,
    /// Runs per point; the table shows medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Scenarios: hello and form (baseline), launch and view (tool).
    #[arg(long, value_delimiter = ',', default_value = "hello,form,launch,view")]
    scenarios: Vec<String>,
    /// PostgreSQL server to use (a fresh schema, dropped at the end);
    /// default: a SQLite file (WAL) in a temporary directory.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Also measure launch and view on a database pre-filled with
    /// 1 000 000 nonces and 100 000 visits.
    #[arg(long)]
    scale: bool,
    /// Nonces to pre-fill in scale mode.
    #[arg(long, default_value_t = 1_000_000)]
    scale_nonces: u64,
    /// Visits to pre-fill in scale mode.
    #[arg(long, default_value_t = 100_000)]
    scale_visits: u64,
    /// Most requests per point and run, whatever the duration.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    match argv.get(1).map(String::as_str) {
        Some("serve-tool") => {
            let mut rest = vec![argv[0].clone()];
            rest.extend(argv[2..].iter().cloned());
            tool::serve(rest)
        }
        Some("serve-baseline") => baseline::serve(),
        _ => {
            let args = Args::parse();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(bench(args)) {
                Ok(0) => ExitCode::SUCCESS,
                Ok(errors) => {
                    eprintln!("lti-bench: {errors} failed requests");
                    ExitCode::FAILURE
                }
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Where the tool keeps its data; removed on drop.
enum Database {
    Sqlite {
        dir: std::path::PathBuf,
        url: String,
    },
    Postgres(prefill::PgSchema),
}

impl Database {
    async fn fresh(server: Option<&str>, name: &str) -> anyhow::Result<Self> {
        Ok(match server {
            None => {
                let dir =
                    std::env::temp_dir().join(format!("lti-bench-{}-{name}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir)?;
                let url = format!("sqlite:{}", dir.join("bench.db").display());
                Self::Sqlite { dir, url }
            }
            Some(url) => Self::Postgres(prefill::PgSchema::create(url).await?),
        })
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite { url, .. } => url.clone(),
            Self::Postgres(schema) => schema.url(),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Self::Sqlite { dir, .. } = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn start_tool(db: &Database) -> anyhow::Result<Server> {
    let url = db.url();
    Server::start(
        &[
            "serve-tool",
            "--port",
            "0",
            "--database-url",
            &url,
            "--create-silo",
        ],
        &[("LTI_APP_SECRET", APP_SECRET)],
        "axum-lti tool listening on http://",
    )
}

/// One row of the table: the medians of `runs` samples.
struct Row {
    mode: &'static str,
    scenario: Scenario,
    concurrency: usize,
    rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    errors: u64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn summarise(
    mode: &'static str,
    scenario: Scenario,
    concurrency: usize,
    samples: &[Sample],
) -> Row {
    Row {
        mode,
        scenario,
        concurrency,
        rps: median(samples.iter().map(Sample::rps).collect()),
        p50: median(samples.iter().map(|s| s.quantile_ms(0.50)).collect()),
        p90: median(samples.iter().map(|s| s.quantile_ms(0.90)).collect()),
        p99: median(samples.iter().map(|s| s.quantile_ms(0.99)).collect()),
        errors: samples.iter().map(|s| s.errors).sum(),
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "?".into())
}

async fn bench(args: Args) -> anyhow::Result<u64> {
    let scenarios = args
        .scenarios
        .iter()
        .map(|s| Scenario::parse(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    anyhow::ensure!(
        args.concurrency.iter().all(|&c| c > 0),
        "concurrency must be positive"
    );
    let limits = Limits {
        warmup: Duration::from_secs_f64(args.warmup.max(0.0)),
        duration: Duration::from_secs_f64(args.duration.max(0.05)),
        max_requests: args.max_requests,
    };
    let backend = if args.database_url.is_some() {
        "postgres"
    } else {
        "sqlite-wal"
    };
    println!(
        "lti-bench: {} cores ({}), backend {backend}, {} s per point after {} s warm-up, medians of {} runs",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cpu_model(),
        args.duration,
        args.warmup,
        args.runs
    );
    println!("load average at start: {}", loadavg());

    let baseline = Server::start(&["serve-baseline"], &[], "baseline listening on http://")?;
    let db = Database::fresh(args.database_url.as_deref(), "empty").await?;
    let tool = start_tool(&db)?;
    let tool_host = format!("localhost:{}", tool.addr.port());
    let launches = Arc::new(Launches::new(&tool_host)?);
    let baseline_host = baseline.addr.to_string();

    let mut rows = Vec::new();
    for &concurrency in &args.concurrency {
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); scenarios.len()];
        for _ in 0..args.runs {
            for (i, &scenario) in scenarios.iter().enumerate() {
                let (addr, host) = match scenario {
                    Scenario::Hello | Scenario::Form => (baseline.addr, baseline_host.as_str()),
                    Scenario::Launch | Scenario::View => (tool.addr, tool_host.as_str()),
                };
                samples[i].push(
                    load::measure(scenario, addr, host, &launches, concurrency, limits).await?,
                );
            }
        }
        for (i, &scenario) in scenarios.iter().enumerate() {
            rows.push(summarise("empty", scenario, concurrency, &samples[i]));
        }
    }
    let tool_rss = tool.rss_kib();
    let baseline_rss = baseline.rss_kib();
    drop(tool);

    let mut scale_rss = None;
    if args.scale {
        let db = Database::fresh(args.database_url.as_deref(), "scale").await?;
        let tool = start_tool(&db)?;
        let started = std::time::Instant::now();
        prefill::fill(&db.url(), args.scale_nonces, args.scale_visits).await?;
        println!(
            "pre-filled {} nonces and {} visits in {:.1} s",
            args.scale_nonces,
            args.scale_visits,
            started.elapsed().as_secs_f64()
        );
        let host = format!("localhost:{}", tool.addr.port());
        let launches = Arc::new(Launches::new(&host)?);
        let tool_scenarios: Vec<Scenario> = scenarios
            .iter()
            .copied()
            .filter(|s| matches!(s, Scenario::Launch | Scenario::View))
            .collect();
        for &concurrency in &args.concurrency {
            let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); tool_scenarios.len()];
            for _ in 0..args.runs {
                for (i, &scenario) in tool_scenarios.iter().enumerate() {
                    samples[i].push(
                        load::measure(scenario, tool.addr, &host, &launches, concurrency, limits)
                            .await?,
                    );
                }
            }
            for (i, &scenario) in tool_scenarios.iter().enumerate() {
                rows.push(summarise("scale", scenario, concurrency, &samples[i]));
            }
        }
        scale_rss = tool.rss_kib();
        drop(tool);
    }
    drop(baseline);

    print_table(&rows);
    let mib =
        |kib: Option<u64>| kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!();
    println!(
        "server RSS after the run: tool {}, baseline {}",
        mib(tool_rss),
        mib(baseline_rss)
    );
    if args.scale {
        println!("server RSS after the scale run: tool {}", mib(scale_rss));
    }
    println!("load average at end: {}", loadavg());
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    println!("lti-bench: {} points, {errors} errors", rows.len());
    Ok(errors)
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| db | scenario | conc | req/s | ÷ hello | ÷ empty | p50 ms | p90 ms | p99 ms | errors |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let hello = rows
            .iter()
            .find(|r| r.scenario == Scenario::Hello && r.concurrency == row.concurrency)
            .map(|r| r.rps);
        let ratio = hello.map_or("–".into(), |h| format!("{:.1} %", 100.0 * row.rps / h));
        let versus_empty = if row.mode == "scale" {
            rows.iter()
                .find(|r| {
                    r.mode == "empty"
                        && r.scenario == row.scenario
                        && r.concurrency == row.concurrency
                })
                .map_or("–".into(), |e| {
                    format!("{:.0} %", 100.0 * row.rps / e.rps)
                })
        } else {
            "–".into()
        };
        println!(
            "| {} | {} | {} | {:.0} | {ratio} | {versus_empty} | {:.2} | {:.2} | {:.2} | {} |",
            row.mode,
            row.scenario.name(),
            row.concurrency,
            row.rps,
            row.p50,
            row.p90,
            row.p99,
            row.errors
        );
    }
}
