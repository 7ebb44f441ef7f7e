//! The `owners` commands of the real `mytool` binary on a SQLite file, and
//! the admin console it then serves with `--admin`: the owner made on the
//! command line logs in over real HTTP.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use http::StatusCode;
use lti_e2e::RunningTool;
use lti_store::testing::TempDir;
use lti_testkit::{HttpClient, form_body};

const SECRET: &str = "application secret for the owners tests";
const PASSWORD: &str = "a password of some length";

/// Runs `mytool --database-url <url> <args…>` to completion with no
/// standard input (as in CI) and only the environment given.
fn mytool(url: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mytool"));
    command
        .args(["--database-url", url])
        .args(args)
        .env_remove("LTI_OWNER_PASSWORD")
        .env_remove("LTI_DATABASE_URL")
        .env("LTI_APP_SECRET", SECRET)
        .stdin(Stdio::null());
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().expect("mytool runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "mytool failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

#[track_caller]
fn assert_failure(output: &Output, message: &str) {
    assert!(
        !output.status.success(),
        "mytool should have failed:\n{}",
        stdout(output)
    );
    assert!(
        stderr(output).contains(message),
        "expected {message:?} in:\n{}",
        stderr(output)
    );
}

fn database(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("tool.sqlite3").display())
}

#[test]
fn owners_are_added_listed_reset_and_removed() {
    let dir = TempDir::new("mytool-owners").expect("a temp dir");
    let url = database(dir.path());
    let env_password = [("LTI_OWNER_PASSWORD", PASSWORD)];

    let added = mytool(
        &url,
        &[
            "--create-silo",
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            " Ada@Example.EDU ",
        ],
        &env_password,
    );
    assert_success(&added);
    let text = stdout(&added);
    assert!(
        text.contains("Created owner \"ada@example.edu\" of silo \"testing\""),
        "{text}"
    );
    assert!(text.contains("/admin/login"), "{text}");
    assert!(!text.contains(PASSWORD));

    // No password source: no stdin terminal, no file, no variable.
    let no_password = mytool(
        &url,
        &[
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            "bob@example.edu",
        ],
        &[],
    );
    assert_failure(&no_password, "--password-file");
    assert_failure(&no_password, "LTI_OWNER_PASSWORD");

    let short = mytool(
        &url,
        &[
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            "bob@example.edu",
        ],
        &[("LTI_OWNER_PASSWORD", "too short")],
    );
    assert_failure(&short, "at least 12 characters");

    let duplicate = mytool(
        &url,
        &[
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            "ADA@example.edu",
        ],
        &env_password,
    );
    assert_failure(&duplicate, "exists already");

    let no_silo = mytool(
        &url,
        &[
            "owners",
            "add",
            "--silo",
            "nowhere",
            "--email",
            "bob@example.edu",
        ],
        &env_password,
    );
    assert_failure(&no_silo, "no silo \"nowhere\"");

    let bad_email = mytool(
        &url,
        &[
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            "not-an-address",
        ],
        &env_password,
    );
    assert_failure(&bad_email, "is not an email address");

    // A password file wins over the variable; its newline is dropped.
    let file = dir.path().join("password.txt");
    std::fs::write(&file, "bob's file password\n").expect("written");
    let file_arg = file.display().to_string();
    let bob = mytool(
        &url,
        &[
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            "bob@example.edu",
            "--password-file",
            &file_arg,
        ],
        &[("LTI_OWNER_PASSWORD", "not this one, the file")],
    );
    assert_success(&bob);

    let listed = mytool(&url, &["owners", "list"], &[]);
    assert_success(&listed);
    let text = stdout(&listed);
    assert!(text.contains("ada@example.edu"), "{text}");
    assert!(text.contains("bob@example.edu"), "{text}");
    assert!(!text.contains("argon2"), "{text}");

    let reset = mytool(
        &url,
        &["owners", "reset-password", "--email", "bob@example.edu"],
        &[("LTI_OWNER_PASSWORD", "bob's new password")],
    );
    assert_success(&reset);
    assert!(stdout(&reset).contains("sessions have ended"));
    let missing = mytool(
        &url,
        &["owners", "reset-password", "--email", "carol@example.edu"],
        &env_password,
    );
    assert_failure(&missing, "no owner with the email");

    let removed = mytool(
        &url,
        &["owners", "remove", "--email", "bob@example.edu"],
        &[],
    );
    assert_success(&removed);
    let listed = stdout(&mytool(&url, &["owners", "list", "--silo", "testing"], &[]));
    assert!(!listed.contains("bob@example.edu"), "{listed}");
}

/// Logs in over real HTTP; returns the response to the login POST.
async fn login(browser: &HttpClient, email: &str, password: &str) -> lti_testkit::TestResponse {
    let form = browser.get("/admin/login").await;
    assert_eq!(form.status(), StatusCode::OK, "{}", form.text());
    let token = form.input_value("csrftoken").expect("a CSRF token");
    browser
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &token),
                ("email", email),
                ("password", password),
            ]),
        )
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_made_on_the_command_line_logs_in_to_the_served_console() {
    let dir = TempDir::new("mytool-owners-http").expect("a temp dir");
    let url = database(dir.path());
    let added = mytool(
        &url,
        &[
            "--create-silo",
            "owners",
            "add",
            "--silo",
            "testing",
            "--email",
            "ada@example.edu",
        ],
        &[("LTI_OWNER_PASSWORD", PASSWORD)],
    );
    assert_success(&added);

    let tool = RunningTool::start(
        env!("CARGO_BIN_EXE_mytool"),
        &["--database-url", &url, "--admin"],
        &[("LTI_APP_SECRET", SECRET)],
    )
    .expect("mytool serves");
    let addr: SocketAddr = tool.address.parse().expect("an address");
    let browser = HttpClient::new(addr).with_host(format!("localhost:{}", addr.port()));

    let wrong = login(&browser, "ada@example.edu", "not the right password").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let response = login(&browser, "ada@example.edu", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text()
    );
    let list = browser.get("/admin/").await;
    assert_eq!(list.status(), StatusCode::OK, "{}", list.text());
    let html = list.text();
    assert!(html.contains("ada@example.edu"), "{html}");
    assert!(html.contains("<code>12345</code>"), "{html}");
}
