//! Server processes: this binary re-executed with a hidden subcommand,
//! ready when it prints the address it listens on (never a sleep), killed
//! when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// A server child process.
pub(crate) struct Server {
    child: Child,
    /// Where it listens (loopback).
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts `current_exe <args>` and waits up to 60 s for the line
    /// starting with `marker` followed by the address.
    pub(crate) fn start(
        args: &[&str],
        envs: &[(&str, &str)],
        marker: &str,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("the benchmark's own path")?;
        let mut command = Command::new(exe);
        command
            .args(args)
            .env_remove(axum_lti::cli::DATABASE_URL_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn().context("starting a server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let marker = marker.to_owned();
        // Keeps draining stdout so that the child never blocks on a full
        // pipe: line by line until the address is announced, then in bulk
        // (the tool logs a line per launch; reading them one by one would
        // cost the client's CPU, which the servers share).
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if let Some(rest) = line.strip_prefix(&marker) {
                    let _ = tx.send(rest.trim().to_owned());
                    break;
                }
                line.clear();
            }
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(address) = rx.recv_timeout(Duration::from_millis(50)) {
                let addr = address.parse().context("the announced address")?;
                return Ok(Self { child, addr });
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("server {args:?} exited before serving: {status}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("server {args:?} did not announce its address within 60 s");
            }
        }
    }

    /// The process's resident set size in KiB (`VmRSS` in /proc/<pid>/status).
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
