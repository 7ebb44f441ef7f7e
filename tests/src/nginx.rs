//! A real nginx for the suites: started as a child process (`daemon off;`,
//! `master_process off;`, so killing the one process stops it) with a
//! configuration the test writes into its own temporary directory: pid
//! file, logs and temp paths all inside it. Killed when dropped, also when
//! the test fails.

use std::io::Read as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::TempDir;
use crate::tls::SelfSignedCert;

/// Set to `1` to skip (loudly) the nginx suites when nginx is missing.
pub const SKIP_NGINX_VAR: &str = "LTI_SKIP_NGINX";

/// The nginx binary, or `None` when the suite is to be skipped.
///
/// # Panics
///
/// When nginx (or openssl) is not installed and `LTI_SKIP_NGINX` is not
/// `1`: a test that needs a service it cannot find fails loudly.
pub fn nginx_or_skip() -> Option<PathBuf> {
    let found = find_program("nginx", &["/usr/sbin/nginx", "/usr/local/sbin/nginx"]);
    let openssl = find_program("openssl", &["/usr/bin/openssl"]);
    match (found, openssl) {
        (Some(nginx), Some(_)) => Some(nginx),
        _ if std::env::var(SKIP_NGINX_VAR).as_deref() == Ok("1") => {
            eprintln!("SKIPPED: nginx or openssl is not installed and {SKIP_NGINX_VAR}=1");
            None
        }
        _ => panic!(
            "this test needs nginx and openssl: install them (as root: `scripts/ensure-tools`, or \
             `apt-get install -y nginx openssl`), or set {SKIP_NGINX_VAR}=1 to skip it"
        ),
    }
}

/// A program on `PATH` or at one of the usual places.
pub fn find_program(name: &str, usual: &[&str]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| usual.iter().map(PathBuf::from).find(|p| p.is_file()))
}

/// A free port on 127.0.0.1: bound, read and released. nginx cannot
/// report a port it picked, so this is the one place a port is chosen
/// ahead; the kernel hands out ephemeral ports in a scattered order, so the
/// window in which another process could take it is tiny.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// True when this process runs as root (then nginx is told `user root;`
/// so that it can use the temporary directory).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    dir: TempDir,
}

impl Nginx {
    /// Writes `nginx.conf` around `http_body` (the inside of the `http {}`
    /// block: upstreams and servers) and starts nginx, waiting until every
    /// port in `ports` accepts connections.
    ///
    /// The `http` block already sets the temp paths, an access log whose
    /// lines name the upstream, and `$upstream_addr`-free defaults. `{dir}`
    /// in `http_body` is replaced by the temporary directory.
    pub fn start(
        nginx: &Path,
        dir: TempDir,
        http_body: &str,
        ports: &[u16],
    ) -> anyhow::Result<Self> {
        let d = dir.path().display().to_string();
        for sub in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(dir.path().join("tmp").join(sub))?;
        }
        let user = if is_root() { "user root root;\n" } else { "" };
        let config = format!(
            "{user}daemon off;\nmaster_process off;\nworker_processes 1;\n\
             pid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n\
             \x20 log_format upstream '$remote_addr \"$request\" $status upstream=$upstream_addr';\n\
             \x20 access_log {d}/access.log upstream;\n\
             \x20 client_body_temp_path {d}/tmp/body;\n\
             \x20 proxy_temp_path {d}/tmp/proxy;\n\
             \x20 fastcgi_temp_path {d}/tmp/fastcgi;\n\
             \x20 uwsgi_temp_path {d}/tmp/uwsgi;\n\
             \x20 scgi_temp_path {d}/tmp/scgi;\n\
             \x20 types {{ text/html html; }}\n\
             {}\n}}\n",
            http_body.replace("{dir}", &d)
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, &config)?;
        let check = Command::new(nginx)
            .args(["-t", "-q", "-p", &d, "-e", &format!("{d}/error.log"), "-c"])
            .arg(&conf)
            .output()
            .context("cannot run nginx")?;
        if !check.status.success() {
            bail!(
                "nginx refused the configuration:\n{}\n{config}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
        let child = Command::new(nginx)
            .args(["-p", &d, "-e", &format!("{d}/error.log"), "-c"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start nginx")?;
        let mut nginx = Self { child, dir };
        nginx.wait_ready(ports)?;
        Ok(nginx)
    }

    fn wait_ready(&mut self, ports: &[u16]) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        for port in ports {
            let addr = SocketAddr::from(([127, 0, 0, 1], *port));
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if let Some(status) = self.child.try_wait()? {
                    bail!("nginx exited ({status}):\n{}", self.error_log());
                }
                if Instant::now() > deadline {
                    bail!("nginx does not listen on {addr}:\n{}", self.error_log());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// The temporary directory (config, logs, certificate, pages).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        read(&self.dir.path().join("error.log"))
    }

    /// The access log so far: one line per request with `upstream=`.
    pub fn access_log(&self) -> String {
        read(&self.dir.path().join("access.log"))
    }
}

fn read(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory with a fresh self-signed certificate in it.
pub fn dir_with_cert(prefix: &str) -> anyhow::Result<(TempDir, SelfSignedCert)> {
    let dir = TempDir::new(prefix)?;
    let cert = SelfSignedCert::generate(dir.path())?;
    Ok((dir, cert))
}

/// The `proxy_set_header` lines every location of the suites uses: the
/// public host and scheme, and the forwarding headers a trusted proxy
/// sends.
pub const PROXY_HEADERS: &str = "\
      proxy_set_header Host $http_host;\n\
      proxy_set_header X-Forwarded-Proto $scheme;\n\
      proxy_set_header X-Forwarded-Host $http_host;\n\
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n";
