//! The real `noticeboard` binary on a free loopback port, driven over real
//! HTTP: an instructor and a learner launch, the learner posts a notice,
//! the instructor sees it and deletes it. On a SQLite file and on
//! PostgreSQL.

use std::net::SocketAddr;

use http::StatusCode;
use lti_e2e::RunningTool;
use lti_store::testing::{PgSchema, TempDir, postgres_url};
use lti_testkit::{HttpClient, LaunchBuilder, form_body};

const SECRET: &str = "application secret for the noticeboard socket tests";

fn start(database_url: &str, create_silo: bool) -> RunningTool {
    let mut args = vec!["--database-url", database_url];
    if create_silo {
        args.push("--create-silo");
    }
    RunningTool::start(
        env!("CARGO_BIN_EXE_noticeboard"),
        &args,
        &[("LTI_APP_SECRET", SECRET)],
    )
    .expect("noticeboard starts")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Launches one browser into the board; returns the board's URL.
async fn launch(port: u16, browser: &HttpClient, user: &str, roles: &str) -> String {
    let launch = LaunchBuilder::new()
        .url(format!("http://localhost:{port}/launch"))
        .timestamp(now())
        .fresh_nonce()
        .resource_link_id("notices")
        .param("resource_link_title", "Course notices")
        .context_id("course-7")
        .param("context_title", "Physics 101")
        .user_id(user)
        .person_name(format!("User {user}"))
        .roles(roles);
    let response = browser.launch(&launch).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text()
    );
    let ctest = browser.follow(&response).await;
    assert_eq!(ctest.status(), StatusCode::SEE_OTHER, "{}", ctest.text());
    let board = ctest.location().expect("back to the board").to_owned();
    assert!(
        board.ends_with('/') && board.contains("/resource/"),
        "{board}"
    );
    board
}

async fn whole_flow(tool: &RunningTool) {
    let addr: SocketAddr = tool.address.parse().expect("an address");
    let port = addr.port();
    let teacher = HttpClient::new(addr).with_host(format!("localhost:{port}"));
    let learner = teacher.new_browser();
    let board = launch(port, &teacher, "t-1", "Instructor").await;
    let learner_board = launch(port, &learner, "s-1", "Learner").await;
    assert_eq!(board, learner_board, "one resource, one board");

    // The learner posts through the form on the board.
    let page = learner.get(&board).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().contains("Physics 101"));
    let token = page.input_value("csrftoken").expect("a CSRF token");
    let without = learner
        .post_form(&format!("{board}add"), form_body(&[("title", "No token")]))
        .await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let posted = learner
        .post_form(
            &format!("{board}add"),
            form_body(&[
                ("csrftoken", &token),
                ("title", "Lab <3> moved"),
                ("description", "Now on Thursday"),
            ]),
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER, "{}", posted.text());
    assert_eq!(posted.location(), Some(board.as_str()));

    // The instructor sees it (escaped) with a delete link, but no edit link.
    let page = teacher.get(&board).await;
    let html = page.text();
    assert!(
        html.contains("Lab &#60;3&#62; moved") || html.contains("Lab &lt;3&gt; moved"),
        "{html}"
    );
    assert!(html.contains("User s-1"));
    assert!(!html.contains("edit?id="), "{html}");
    let delete = html
        .split('"')
        .find(|s| s.contains("delete?id="))
        .expect("a delete link")
        .to_owned();
    let confirm = teacher.get(&delete).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let token = confirm.input_value("csrftoken").expect("a CSRF token");
    let deleted = teacher
        .post_form(&delete, form_body(&[("csrftoken", &token)]))
        .await;
    assert_eq!(
        deleted.status(),
        StatusCode::SEE_OTHER,
        "{}",
        deleted.text()
    );

    let page = learner.get(&board).await;
    assert!(page.text().contains("No notices yet."), "{}", page.text());

    let css = teacher.get("/static/noticeboard.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
}

#[tokio::test(flavor = "multi_thread")]
async fn noticeboard_serves_the_whole_flow_on_a_sqlite_file() {
    let dir = TempDir::new("noticeboard-sockets").expect("a temp dir");
    let url = format!("sqlite:{}", dir.path().join("board.sqlite3").display());
    let tool = start(&url, true);
    whole_flow(&tool).await;
    drop(tool);
    // A second start finds both migration sets applied and serves again.
    let tool = start(&url, false);
    whole_flow(&tool).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn noticeboard_serves_the_whole_flow_on_postgres() {
    let Some(base) = postgres_url() else {
        return;
    };
    let schema = PgSchema::create(&base).await.expect("a test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!(
        "{base}{separator}options=-c%20search_path%3D{}",
        schema.name()
    );
    let tool = start(&url, true);
    whole_flow(&tool).await;
    drop(tool);
    drop(schema);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_mode_prints_an_owner_who_can_manage_consumers() {
    // The README's command: `noticeboard --create-silo -m`.
    let tool = RunningTool::start(
        env!("CARGO_BIN_EXE_noticeboard"),
        &["--create-silo", "-m"],
        &[],
    )
    .expect("noticeboard starts");
    let line = tool
        .banner
        .iter()
        .find(|l| l.starts_with("Admin console:") && l.contains("password"))
        .expect("an owner login is printed");
    let password = line
        .split("with password ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the password");
    let addr: SocketAddr = tool.address.parse().expect("an address");
    let owner = HttpClient::new(addr).with_host(format!("localhost:{}", addr.port()));
    let login = owner.get("/admin/login").await;
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.input_value("csrftoken").expect("a CSRF token");
    let body = form_body(&[
        ("csrftoken", &token),
        ("email", "owner@localhost"),
        ("password", password),
    ]);
    let signed_in = owner.post_form("/admin/login", &body).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text()
    );
    let console = owner.follow(&signed_in).await;
    assert_eq!(console.status(), StatusCode::OK);
    assert!(
        console.text().contains("12345"),
        "the silo's consumer is listed"
    );
}
