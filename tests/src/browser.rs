//! A real headless Chromium (Debian's `chromium`) driven through Debian's
//! `chromedriver`, for the iframe and third-party-cookie suites.
//!
//! The test starts Chromium itself, with exactly the flags it wants and a
//! fresh `--user-data-dir` whose `Default/Preferences` set the
//! third-party-cookie mode, then attaches chromedriver to it
//! (`debuggerAddress`). Both processes are killed when [`Browser`] is
//! dropped, also when the test fails. Nothing is ever downloaded.
//!
//! Facts this relies on (shared/reference/browser-testing-notes.md): the
//! pref `profile.cookie_controls_mode` (0 allows, 1 blocks third-party
//! cookies) is the switch that works; `--ignore-certificate-errors-spki-list`
//! accepts the suite's self-signed certificate only together with
//! `--user-data-dir`; `localhost` and `127.0.0.1` are different sites.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::nginx::find_program;
use crate::webdriver::WebDriver;
use lti_store::testing::random_hex;

/// Set to `1` to skip (loudly) the browser suite when Chromium or
/// chromedriver is missing.
pub const SKIP_BROWSER_VAR: &str = "LTI_SKIP_BROWSER";

/// How long a page may take to reach the state a test waits for.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where Chromium and chromedriver are.
#[derive(Debug, Clone)]
pub struct BrowserPrograms {
    /// `/usr/bin/chromium`.
    pub chromium: PathBuf,
    /// `/usr/bin/chromedriver`.
    pub chromedriver: PathBuf,
}

/// The programs, or `None` when the suite is to be skipped.
///
/// # Panics
///
/// When Chromium or chromedriver is missing and `LTI_SKIP_BROWSER` is not
/// `1`.
pub fn browser_or_skip() -> Option<BrowserPrograms> {
    let chromium = find_program("chromium", &["/usr/bin/chromium"]);
    let chromedriver = find_program("chromedriver", &["/usr/bin/chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(BrowserPrograms {
            chromium,
            chromedriver,
        }),
        _ if std::env::var(SKIP_BROWSER_VAR).as_deref() == Ok("1") => {
            eprintln!(
                "SKIPPED: chromium or chromedriver is not installed and {SKIP_BROWSER_VAR}=1"
            );
            None
        }
        _ => panic!(
            "this test needs Debian's chromium and chromium-driver (as root: `scripts/ensure-tools`, \
             or `apt-get install -y chromium chromium-driver`), or set {SKIP_BROWSER_VAR}=1 to skip it"
        ),
    }
}

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// `profile.cookie_controls_mode`: 0 allows third-party cookies, 1
    /// blocks them (Chromium's default).
    pub cookie_controls_mode: u8,
    /// base64 SHA-256 of the certificate's public key to accept.
    pub spki_sha256: String,
}

/// What a page (or frame) shows: read by a script in it.
#[derive(Debug, Clone, Default)]
pub struct PageState {
    /// `location.href`.
    pub href: String,
    /// `document.body.innerText`.
    pub text: String,
    /// The HTTP status of the navigation (0 on Chromium's error pages).
    pub status: i64,
    /// True when the page has an element with id `wlaunch` (the cookie
    /// test's "open in a new window" link).
    pub has_wlaunch: bool,
}

const STATE_SCRIPT: &str = "\
    const nav = performance.getEntriesByType('navigation')[0];\
    return {\
      href: location.href,\
      text: document.body ? document.body.innerText : '',\
      status: nav ? nav.responseStatus : -1,\
      wlaunch: !!document.getElementById('wlaunch'),\
      ready: document.readyState\
    };";

fn page_state(value: &Value) -> Option<PageState> {
    if value["ready"].as_str() != Some("complete") {
        return None;
    }
    Some(PageState {
        href: value["href"].as_str().unwrap_or_default().to_owned(),
        text: value["text"].as_str().unwrap_or_default().to_owned(),
        status: value["status"].as_i64().unwrap_or(-1),
        has_wlaunch: value["wlaunch"].as_bool().unwrap_or(false),
    })
}

/// A running Chromium with a chromedriver session attached.
#[derive(Debug)]
pub struct Browser {
    driver: WebDriver,
    _processes: Processes,
}

fn wait_for_file(path: &Path, child: &mut Child, what: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + PAGE_TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.lines().count() >= 2
        {
            return Ok(text);
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited before it was ready: {status}");
        }
        if Instant::now() > deadline {
            bail!("{what} was not ready within {PAGE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Browser {
    /// Starts Chromium headless on a fresh profile and attaches
    /// chromedriver.
    pub async fn start(
        programs: &BrowserPrograms,
        options: &BrowserOptions,
    ) -> anyhow::Result<Self> {
        let profile = Profile::new()?;
        let default = profile.path().join("Default");
        std::fs::create_dir_all(&default)?;
        // Preferences of a new profile: the third-party-cookie mode, and no
        // speculative preconnections (browser-testing-notes.md).
        let prefs = serde_json::json!({
            "profile": { "cookie_controls_mode": options.cookie_controls_mode },
            "net": { "network_prediction_options": 2 }
        });
        std::fs::write(default.join("Preferences"), prefs.to_string())?;
        let mut chromium = Command::new(&programs.chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--window-size=1100,800",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!(
                "--ignore-certificate-errors-spki-list={}",
                options.spki_sha256
            ))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromium")?;
        let active = wait_for_file(
            &profile.path().join("DevToolsActivePort"),
            &mut chromium,
            "chromium",
        );
        let active = match active {
            Ok(active) => active,
            Err(err) => {
                stop(&mut chromium);
                return Err(err);
            }
        };
        let port: u16 = active
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .context("DevToolsActivePort names no port")?;
        let debugger = SocketAddr::from(([127, 0, 0, 1], port));

        let mut chromedriver = Command::new(&programs.chromedriver)
            .args(["--port=0", "--allowed-ips=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver")?;
        let stdout = chromedriver.stdout.take().context("chromedriver stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // "ChromeDriver was started successfully on port 37043."
                if let Some(rest) = line.split("successfully on port ").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('.').trim().to_owned());
                }
            }
        });
        let driver_port = match rx.recv_timeout(PAGE_TIMEOUT) {
            Ok(port) => port.parse::<u16>().context("chromedriver's port")?,
            Err(_) => {
                drop(Processes {
                    chromium,
                    chromedriver,
                    _profile: profile,
                });
                bail!("chromedriver did not say which port it listens on");
            }
        };
        let processes = Processes {
            chromium,
            chromedriver,
            _profile: profile,
        };
        let driver = WebDriver::attach(SocketAddr::from(([127, 0, 0, 1], driver_port)), debugger)
            .await
            .context("attaching chromedriver to chromium")?;
        Ok(Self {
            driver,
            _processes: processes,
        })
    }

    /// The value of `profile.cookie_controls_mode` as Chromium reports it
    /// on `chrome://prefs-internals`, with whether it was set by the
    /// profile (not a default): proof that the preference took effect.
    pub async fn cookie_controls_mode(&self) -> anyhow::Result<(i64, bool)> {
        self.driver.goto("chrome://prefs-internals").await?;
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let text = self
                .driver
                .eval("return document.readyState === 'complete' && document.body ? document.body.innerText : null")
                .await
                .unwrap_or(Value::Null);
            if let Some(text) = text.as_str()
                && let Ok(prefs) = serde_json::from_str::<Value>(text)
            {
                let pref = &prefs["profile"]["cookie_controls_mode"];
                let value = pref["value"].as_i64().context("no cookie_controls_mode")?;
                let user_set = pref["metadata"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|v| v == "user_controlled"));
                return Ok((value, user_set));
            }
            if Instant::now() > deadline {
                bail!("chrome://prefs-internals did not show the preferences");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `url` in the current window (does not wait for it).
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.driver.frame(None).await?;
        self.driver.goto(url).await
    }

    async fn state_here(&self) -> Option<PageState> {
        let value = self.driver.eval(STATE_SCRIPT).await.ok()?;
        page_state(&value)
    }

    async fn poll<F, Fut>(
        &self,
        what: &str,
        mut read: F,
        done: impl Fn(&PageState) -> bool,
    ) -> anyhow::Result<PageState>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<PageState>>,
    {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        let mut last = None;
        loop {
            if let Some(state) = read().await {
                if done(&state) {
                    return Ok(state);
                }
                last = Some(state);
            }
            if Instant::now() > deadline {
                bail!("{what}: not reached within {PAGE_TIMEOUT:?}; last seen: {last:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the top-level page of the current window satisfies
    /// `done`.
    pub async fn wait_page(
        &self,
        what: &str,
        done: impl Fn(&PageState) -> bool,
    ) -> anyhow::Result<PageState> {
        self.poll(
            what,
            || async {
                self.driver.frame(None).await.ok()?;
                self.state_here().await
            },
            done,
        )
        .await
    }

    /// Waits until the document in the iframe `frame_css` of the current
    /// window satisfies `done`.
    pub async fn wait_frame(
        &self,
        frame_css: &str,
        what: &str,
        done: impl Fn(&PageState) -> bool,
    ) -> anyhow::Result<PageState> {
        self.poll(
            what,
            || async {
                self.driver.frame(None).await.ok()?;
                let frame = self.driver.find(frame_css).await.ok()?;
                self.driver.frame(Some(&frame)).await.ok()?;
                self.state_here().await
            },
            done,
        )
        .await
    }

    /// Clicks the element `css` inside the iframe `frame_css`.
    pub async fn click_in_frame(&self, frame_css: &str, css: &str) -> anyhow::Result<()> {
        self.driver.frame(None).await?;
        let frame = self.driver.find(frame_css).await?;
        self.driver.frame(Some(&frame)).await?;
        let element = self.driver.find(css).await?;
        self.driver.click(&element).await
    }

    /// The handles of the open windows.
    pub async fn windows(&self) -> anyhow::Result<Vec<String>> {
        self.driver.window_handles().await
    }

    /// The current window's handle.
    pub async fn window(&self) -> anyhow::Result<String> {
        self.driver.window_handle().await
    }

    /// Waits for a window that is not in `known` and switches to it.
    pub async fn switch_to_new_window(&self, known: &[String]) -> anyhow::Result<String> {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let handles = self.driver.window_handles().await?;
            if let Some(new) = handles.iter().find(|h| !known.contains(h)) {
                self.driver.switch_window(new).await?;
                return Ok(new.clone());
            }
            if Instant::now() > deadline {
                bail!("no new window opened (windows: {handles:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Switches to the window `handle`.
    pub async fn switch_to_window(&self, handle: &str) -> anyhow::Result<()> {
        self.driver.switch_window(handle).await
    }

    /// Saves a PNG of the current window's page (frames included).
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        self.driver.frame(None).await?;
        let png = self.driver.screenshot().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        eprintln!("screenshot: {}", path.display());
        Ok(())
    }
}

/// A fresh `--user-data-dir`, removed on drop. Chromium's helper
/// processes may still write into it for a moment after the browser
/// process ended, so removal is retried.
#[derive(Debug)]
struct Profile {
    path: PathBuf,
}

impl Profile {
    fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("lti-chromium-{}", random_hex(8)));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        for _ in 0..50 {
            match std::fs::remove_dir_all(&self.path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return,
            }
        }
        eprintln!("could not remove {}", self.path.display());
    }
}

/// Asks a process we started to end (SIGTERM, so Chromium takes its
/// helper processes down with it), and kills it after five seconds.
fn stop(child: &mut Child) {
    let asked = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if asked {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Chromium, chromedriver and the profile, stopped and removed on drop,
/// also when the test fails.
#[derive(Debug)]
struct Processes {
    chromium: Child,
    chromedriver: Child,
    /// Dropped after the processes stopped.
    _profile: Profile,
}

impl Drop for Processes {
    fn drop(&mut self) {
        stop(&mut self.chromedriver);
        stop(&mut self.chromium);
    }
}
