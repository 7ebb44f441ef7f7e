//! Support for the hardening suites (RELIABILITY.md): a tool process whose
//! whole output is kept and whose sockets and memory are read from
//! `/proc`, a private PostgreSQL cluster that a test may stop and start
//! without touching the machine's shared server, and a bounded load loop.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::TempDir;
use crate::nginx::free_port;

/// A tool binary on a free loopback port whose stdout and stderr are both
/// kept (for the log scans) and echoed with a `[tool]` prefix; killed when
/// dropped.
#[derive(Debug)]
pub struct ToolProcess {
    child: Child,
    /// The address it listens on, e.g. `127.0.0.1:41234`.
    pub address: String,
    output: Arc<Mutex<Vec<String>>>,
}

fn keep_lines(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<Vec<String>>>,
    ready: Option<std::sync::mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            println!("[tool] {line}");
            if let (Some(tx), Some(rest)) = (
                &ready,
                line.strip_prefix("axum-lti tool listening on http://"),
            ) {
                let _ = tx.send(rest.trim().to_owned());
            }
            output
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(line);
        }
    });
}

impl ToolProcess {
    /// Starts `binary` with `args` plus `--port 0` and waits (up to 60 s)
    /// for the line naming its address: readiness is what the tool says,
    /// never a sleep.
    pub fn start(binary: &str, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn()?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
        keep_lines(stdout, Arc::clone(&output), Some(tx));
        keep_lines(stderr, Arc::clone(&output), None);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(address) = rx.recv_timeout(Duration::from_millis(100)) {
                return Ok(Self {
                    child,
                    address,
                    output,
                });
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("{binary} exited before serving: {status}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!("{binary} did not start serving within 60 s");
            }
        }
    }

    /// The socket address.
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        self.address
            .parse()
            .unwrap_or_else(|e| panic!("{:?} is not an address: {e}", self.address))
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.socket_addr().port()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process printed so far, stdout and stderr.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .join("\n")
    }

    /// Open file descriptors that are sockets (`/proc/<pid>/fd`), the
    /// listener included.
    pub fn open_sockets(&self) -> usize {
        fd_targets(self.pid())
            .iter()
            .filter(|t| t.starts_with("socket:"))
            .count()
    }

    /// All open file descriptors.
    pub fn open_fds(&self) -> usize {
        fd_targets(self.pid()).len()
    }

    /// Resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Sends a signal (`TERM`, `INT`…) with kill(1).
    pub fn signal(&self, name: &str) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -s {name} failed: {status}");
        Ok(())
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ToolProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fd_targets(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|entry| std::fs::read_link(entry.path()).ok())
                .map(|target| target.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A PostgreSQL cluster of its own in a temporary directory, on a free
/// loopback port, trust authentication, user `postgres`: a test may stop
/// and restart it while the machine's shared server keeps serving the
/// other suites. Stopped and removed when dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    dir: TempDir,
    bin: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
}

/// The directory of Debian's PostgreSQL server programs, newest version.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

impl PrivatePostgres {
    /// Creates and starts the cluster, or `None` when PostgreSQL tests are
    /// skipped (`LTI_SKIP_POSTGRES=1`).
    ///
    /// # Errors
    ///
    /// When the server programs are missing (install Debian's
    /// `postgresql`) or the cluster does not start.
    pub fn start() -> anyhow::Result<Option<Self>> {
        let skip = std::env::var("LTI_SKIP_POSTGRES").is_ok_and(|v| v == "1");
        let Some(bin) = postgres_bin() else {
            if skip {
                eprintln!("SKIPPED: no PostgreSQL server programs and LTI_SKIP_POSTGRES=1");
                return Ok(None);
            }
            anyhow::bail!(
                "this test runs a private PostgreSQL cluster and needs the server programs \
                 (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql \
                 (or LTI_SKIP_POSTGRES=1 to skip it)"
            );
        };
        let dir = TempDir::new("lti-private-pg")?;
        let as_postgres = is_root();
        if as_postgres {
            // initdb refuses to run as root: the cluster belongs to postgres.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()?;
            anyhow::ensure!(status.success(), "chown of the cluster directory failed");
        }
        let cluster = Self {
            dir,
            bin,
            port: free_port()?,
            as_postgres,
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        cluster.start_server()?;
        Ok(Some(cluster))
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).stdin(Stdio::null()).output()?;
        anyhow::ensure!(
            output.status.success(),
            "{program} failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_server(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
    }

    /// Stops the server (fast shutdown: connections are cut, as when a
    /// database server goes away).
    pub fn stop_server(&self) -> anyhow::Result<()> {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "fast", "-w", "stop"],
        )
    }

    /// A URL for database `postgres` as user `postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The cluster's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// What a bounded load run saw.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// Requests that got a response.
    pub responses: u64,
    /// Responses by status code.
    pub by_status: std::collections::BTreeMap<u16, u64>,
    /// Requests that failed at the transport level.
    pub transport_errors: u64,
    /// Latencies in microseconds (every request).
    pub latencies_us: Vec<u64>,
    /// How long the run took.
    pub elapsed: Duration,
}

impl LoadReport {
    /// Adds one outcome.
    pub fn record(&mut self, status: Option<u16>, latency: Duration) {
        match status {
            Some(status) => {
                self.responses += 1;
                *self.by_status.entry(status).or_default() += 1;
            }
            None => self.transport_errors += 1,
        }
        self.latencies_us
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Merges another worker's report.
    pub fn merge(&mut self, other: LoadReport) {
        self.responses += other.responses;
        self.transport_errors += other.transport_errors;
        for (status, n) in other.by_status {
            *self.by_status.entry(status).or_default() += n;
        }
        self.latencies_us.extend(other.latencies_us);
    }

    /// Responses with a status of 500 or more.
    pub fn server_errors(&self) -> u64 {
        self.by_status
            .iter()
            .filter(|(status, _)| **status >= 500)
            .map(|(_, n)| n)
            .sum()
    }

    /// A latency percentile in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        if sorted.is_empty() {
            return 0.0;
        }
        sorted.sort_unstable();
        let index = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[index.min(sorted.len() - 1)] as f64 / 1000.0
    }

    /// One line for the record.
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(0.001);
        format!(
            "{} requests in {:.1} s ({:.0}/s), statuses {:?}, transport errors {}, \
             latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            self.responses + self.transport_errors,
            secs,
            (self.responses + self.transport_errors) as f64 / secs,
            self.by_status,
            self.transport_errors,
            self.percentile_ms(0.5),
            self.percentile_ms(0.99),
            self.percentile_ms(1.0),
        )
    }
}

/// Seconds a load run lasts: `LTI_LOAD_SECS` (the full record uses 60),
/// else `default` (the short CI mode).
pub fn load_secs(default: u64) -> u64 {
    std::env::var("LTI_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|secs| *secs > 0 && *secs <= 600)
        .unwrap_or(default)
}
