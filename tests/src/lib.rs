//! Support for the end-to-end suites: starting a tool binary on a free
//! loopback port and waiting until it serves; a real nginx in front of it
//! ([`nginx`], with TLS from [`tls`]); a real Chromium ([`browser`]).

pub mod browser;
pub mod hardening;
pub mod nginx;
pub mod tls;
mod webdriver;

pub use lti_store::testing::TempDir;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A tool binary running on a free loopback port; killed when dropped.
#[derive(Debug)]
pub struct RunningTool {
    child: Child,
    /// The address it listens on, e.g. `127.0.0.1:41234`.
    pub address: String,
    /// What it printed on stdout before it served.
    pub banner: Vec<String>,
}

impl RunningTool {
    /// Starts `binary` with `args` plus `--port 0`, and waits (up to 60 s)
    /// for the line in which it names the address it listens on. Readiness
    /// is what the tool says, never a sleep.
    pub fn start(binary: &str, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = Vec::new();
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("[tool] {line}");
                if sent {
                    continue;
                }
                if let Some(rest) = line.strip_prefix("axum-lti tool listening on http://") {
                    let _ = tx.send((rest.trim().to_owned(), std::mem::take(&mut banner)));
                    sent = true;
                } else {
                    banner.push(line);
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((address, banner)) = rx.recv_timeout(Duration::from_millis(100)) {
                return Ok(Self {
                    child,
                    address,
                    banner,
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

    /// The process id (to send signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit.
    pub fn wait(mut self) -> anyhow::Result<std::process::ExitStatus> {
        Ok(self.child.wait()?)
    }
}

impl Drop for RunningTool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
