//! The load generator: one keep-alive HTTP/1.1 connection per worker on a
//! lean hyper client (no pool, no redirects, a tiny cookie jar), latencies
//! recorded per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use lti_testkit::LaunchBuilder;

/// What a worker requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// Baseline: `GET /hello`.
    Hello,
    /// Baseline: `POST /form` with a signed launch body, parsed.
    Form,
    /// Tool: a signed launch with a fresh nonce (expects 303, not followed).
    Launch,
    /// Tool: the resource page, after one launch and the cookie test.
    View,
}

impl Scenario {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::Form => "form",
            Self::Launch => "launch",
            Self::View => "view",
        }
    }

    pub(crate) fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "hello" => Self::Hello,
            "form" => Self::Form,
            "launch" => Self::Launch,
            "view" => Self::View,
            other => anyhow::bail!("unknown scenario {other:?} (hello, form, launch, view)"),
        })
    }
}

/// One measured point (one run).
#[derive(Clone, Debug, Default)]
pub(crate) struct Sample {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) seconds: f64,
    /// Sorted latencies in microseconds.
    pub(crate) latencies: Vec<u32>,
}

impl Sample {
    pub(crate) fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The `q` quantile in milliseconds.
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        f64::from(self.latencies[index.min(self.latencies.len() - 1)]) / 1000.0
    }
}

/// How long and how much.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) max_requests: u64,
}

/// Makes launch bodies with unique nonces and a spread of users and
/// resources (500 students, 50 resources, 10 courses).
pub(crate) struct Launches {
    url: String,
    run_tag: String,
    seq: AtomicU64,
    /// Bodies signed before a point starts, so that the client's signing
    /// does not compete with the server for the CPU while measured.
    ready: std::sync::Mutex<Vec<String>>,
    /// One signed body for the baseline's `form` route (it checks nothing).
    fixed: String,
}

impl Launches {
    pub(crate) fn new(host: &str) -> anyhow::Result<Self> {
        let mut tag = [0u8; 6];
        getrandom::fill(&mut tag).map_err(|e| anyhow::anyhow!("random: {e}"))?;
        let run_tag = tag.iter().map(|b| format!("{b:02x}")).collect();
        let mut launches = Self {
            url: format!("http://{host}/launch"),
            run_tag,
            seq: AtomicU64::new(0),
            ready: std::sync::Mutex::new(Vec::new()),
            fixed: String::new(),
        };
        launches.fixed = launches.body("Learner");
        Ok(launches)
    }

    /// Signs `count` launch bodies ahead (learners).
    pub(crate) fn prepare(&self, count: usize) {
        let bodies: Vec<String> = (0..count).map(|_| self.body("Learner")).collect();
        if let Ok(mut ready) = self.ready.lock() {
            *ready = bodies;
        }
    }

    /// A prepared body, or a freshly signed one when they ran out.
    fn next(&self) -> String {
        let prepared = self.ready.lock().ok().and_then(|mut ready| ready.pop());
        prepared.unwrap_or_else(|| self.body("Learner"))
    }

    /// A signed launch body: `n` picks the user and resource.
    pub(crate) fn body(&self, role: &str) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let user = n % 500;
        let resource = n % 50;
        LaunchBuilder::new()
            .url(self.url.clone())
            .timestamp(now)
            .nonce(format!("bench-{}-{n}", self.run_tag))
            .resource_link_id(format!("res-{resource}"))
            .param("resource_link_title", format!("Resource {resource}"))
            .context_id(format!("course-{}", resource % 10))
            .param("context_title", format!("Course {}", resource % 10))
            .user_id(format!("user-{user}"))
            .person_name(format!("Student {user}"))
            .param(
                "lis_person_contact_email_primary",
                format!("s{user}@example.edu"),
            )
            .roles(role)
            .body()
    }
}

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    cookies: Vec<(String, String)>,
    /// The `Cookie` header for `cookies`, rebuilt only when they change, so
    /// the client spends no more per page view than per `hello`.
    cookie_header: Option<HeaderValue>,
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
}

impl Conn {
    async fn open(addr: SocketAddr, host: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: HeaderValue::from_str(host)?,
            cookies: Vec::new(),
            cookie_header: None,
        })
    }

    /// Forgets every cookie (a fresh browser).
    fn clear_cookies(&mut self) {
        self.cookies.clear();
        self.cookie_header = None;
    }

    fn cookies_changed(&mut self) {
        let line = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.cookie_header = (!line.is_empty())
            .then(|| HeaderValue::from_str(&line).ok())
            .flatten();
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> anyhow::Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone())
            .header(header::USER_AGENT, HeaderValue::from_static("lti-bench"));
        if let Some(cookie) = &self.cookie_header {
            request = request.header(header::COOKIE, cookie.clone());
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(body))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body)?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(path_of);
        let mut changed = false;
        for value in response.headers().get_all(header::SET_COOKIE) {
            let Ok(full) = value.to_str() else { continue };
            let pair = full.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = value.is_empty() || full.contains("Max-Age=0");
            self.cookies.retain(|(n, _)| n != name);
            if !expired {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
            changed = true;
        }
        if changed {
            self.cookies_changed();
        }
        // Read the whole body: the server's work includes sending it.
        response.into_body().collect().await?;
        Ok(Reply { status, location })
    }
}

/// `http://host/path?q` → `/path?q`; a path stays as it is.
fn path_of(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(slash) => rest[slash..].to_owned(),
            None => "/".to_owned(),
        },
        None => location.to_owned(),
    }
}

/// Launch, cookie test: returns the resource page's path.
async fn open_resource(conn: &mut Conn, launches: &Launches) -> anyhow::Result<String> {
    let launch = conn
        .send(Method::POST, "/launch", Some(launches.body("Learner")))
        .await?;
    anyhow::ensure!(
        launch.status == StatusCode::SEE_OTHER,
        "launch: {}",
        launch.status
    );
    let ctest = launch.location.context("launch: no Location")?;
    let back = conn.send(Method::GET, &ctest, None).await?;
    anyhow::ensure!(
        back.status == StatusCode::SEE_OTHER,
        "cookie test: {}",
        back.status
    );
    let page = back.location.context("cookie test: no Location")?;
    anyhow::ensure!(page.contains("/resource/"), "cookie test led to {page}");
    Ok(page)
}

/// Runs `scenario` with `concurrency` workers; each keeps one connection.
pub(crate) async fn measure(
    scenario: Scenario,
    addr: SocketAddr,
    host: &str,
    launches: &Arc<Launches>,
    concurrency: usize,
    limits: Limits,
) -> anyhow::Result<Sample> {
    let issued = Arc::new(AtomicU64::new(0));
    // Set up every worker before the clock starts (the view scenario's
    // launch and cookie test are not measured).
    if scenario == Scenario::Launch {
        // Enough for 20 k launches/s; past that, bodies are signed on the fly.
        let seconds = (limits.warmup + limits.duration).as_secs_f64();
        launches.prepare(((seconds * 20_000.0) as usize).min(limits.max_requests as usize));
    }
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut conn = Conn::open(addr, host).await?;
        let page = match scenario {
            Scenario::View => open_resource(&mut conn, launches).await?,
            _ => String::new(),
        };
        conns.push((conn, page));
    }
    let start = Instant::now();
    let measure_from = start + limits.warmup;
    let end = measure_from + limits.duration;
    let mut workers = Vec::with_capacity(concurrency);
    for (mut conn, page) in conns {
        let launches = Arc::clone(launches);
        let issued = Arc::clone(&issued);
        let host = host.to_owned();
        workers.push(tokio::spawn(async move {
            let mut sample = Sample::default();
            loop {
                let started = Instant::now();
                if started >= end || issued.fetch_add(1, Ordering::Relaxed) >= limits.max_requests {
                    break;
                }
                let result = match scenario {
                    Scenario::Hello => conn.send(Method::GET, "/hello", None).await,
                    Scenario::Form => {
                        conn.send(Method::POST, "/form", Some(launches.body("Learner")))
                            .await
                    }
                    Scenario::Launch => {
                        // A fresh browser each time: no cookies carried over.
                        conn.clear_cookies();
                        conn.send(Method::POST, "/launch", Some(launches.next()))
                            .await
                    }
                    Scenario::View => conn.send(Method::GET, &page, None).await,
                };
                let finished = Instant::now();
                let expected = match scenario {
                    Scenario::Launch => StatusCode::SEE_OTHER,
                    _ => StatusCode::OK,
                };
                let ok = matches!(&result, Ok(reply) if reply.status == expected);
                if started >= measure_from && finished <= end {
                    if ok {
                        sample.requests += 1;
                        let micros = finished.duration_since(started).as_micros();
                        sample
                            .latencies
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    } else {
                        sample.errors += 1;
                    }
                }
                if result.is_err() {
                    // The connection is gone: open another one.
                    match Conn::open(addr, &host).await {
                        Ok(fresh) => {
                            let cookies = std::mem::take(&mut conn.cookies);
                            conn = fresh;
                            conn.cookies = cookies;
                            conn.cookies_changed();
                        }
                        Err(_) => {
                            sample.errors += 1;
                            break;
                        }
                    }
                }
            }
            sample
        }));
    }
    let mut total = Sample::default();
    for worker in workers {
        let sample = worker.await.context("a worker panicked")?;
        total.requests += sample.requests;
        total.errors += sample.errors;
        total.latencies.extend(sample.latencies);
    }
    let measured_until = Instant::now().min(end);
    total.seconds = measured_until
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    total.latencies.sort_unstable();
    Ok(total)
}
