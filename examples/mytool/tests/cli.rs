//! The command line every tool binary gets, exercised through the real
//! `mytool` binary on a SQLite file: options, `--sqlout`, `--create-silo`
//! (and its Pyslet spelling), the admin commands, and clear errors.

use std::path::Path;
use std::process::{Command, Output};

use lti_store::testing::TempDir;

const SECRET: &str = "application secret for the cli tests";

fn mytool(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mytool"))
        .args(["--database-url", &format!("sqlite:{}", db.display())])
        .args(args)
        .env("LTI_APP_SECRET", SECRET)
        .env_remove("LTI_DATABASE_URL")
        .output()
        .expect("mytool runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

#[test]
fn help_lists_the_framework_options_and_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_mytool"))
        .arg("--help")
        .output()
        .expect("mytool runs");
    let text = ok(output);
    for option in [
        "--port",
        "--bind",
        "--memory",
        "--settings",
        "--database-url",
        "--canonical-root",
        "--create-silo",
        "--sqlout",
        "--dev",
        "consumers",
        "silos",
        "keys",
        "prune",
        "config-xml",
    ] {
        assert!(text.contains(option), "--help lacks {option}:\n{text}");
    }
}

#[test]
fn sqlout_prints_the_schema_and_creates_nothing() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    let text = ok(mytool(&db, &["--sqlout"]));
    for table in [
        "app_keys",
        "silos",
        "consumers",
        "nonces",
        "contexts",
        "resources",
        "users",
        "visits",
    ] {
        assert!(
            text.contains(&format!("CREATE TABLE {table}")),
            "{table} missing"
        );
    }
    assert!(!db.exists(), "--sqlout must not create the database");
}

#[test]
fn create_silo_works_once_under_both_spellings() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    let text = ok(mytool(&db, &["--create_silo", "consumers", "list"]));
    assert!(text.contains("12345"), "{text}");
    assert!(text.contains("testing"), "{text}");
    // A second run fails on the duplicate consumer key, with a clear message.
    let again = mytool(&db, &["--create-silo", "prune"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn consumers_are_managed_from_the_command_line() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    ok(mytool(&db, &["silos", "add", "physics"]));
    assert!(ok(mytool(&db, &["silos", "list"])).contains("physics"));

    // Key and secret generated when absent; the secret is shown once.
    let text = ok(mytool(
        &db,
        &[
            "consumers",
            "add",
            "--silo",
            "physics",
            "--handle",
            "Moodle",
        ],
    ));
    let key = text
        .split('"')
        .nth(1)
        .expect("the created key is quoted")
        .to_owned();
    assert!(text.contains("Secret (shown once"), "{text}");
    let secret_line = text
        .lines()
        .find(|l| l.starts_with("Secret"))
        .expect("a secret line");
    let secret = secret_line.rsplit(' ').next().expect("the secret");

    // The secret is stored only as cipher text.
    let bytes = std::fs::read(&db).expect("the database file");
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(
        !haystack.contains(secret),
        "plain secret in the database file"
    );

    let show = ok(mytool(&db, &["consumers", "show", &key]));
    assert!(
        show.contains("Moodle") && show.contains("enabled: true"),
        "{show}"
    );
    assert!(!show.contains(secret), "show must not print the secret");

    ok(mytool(&db, &["consumers", "disable", &key]));
    assert!(ok(mytool(&db, &["consumers", "show", &key])).contains("enabled: false"));
    ok(mytool(&db, &["consumers", "enable", &key]));
    assert!(ok(mytool(&db, &["consumers", "show", &key])).contains("enabled: true"));

    let text = ok(mytool(
        &db,
        &[
            "consumers",
            "set-secret",
            &key,
            "--secret",
            "a new secret value",
        ],
    ));
    assert!(text.contains("New secret set"), "{text}");
    assert!(!text.contains("shown once"), "a given secret is not echoed");

    let list = ok(mytool(&db, &["consumers", "list", "--silo", "physics"]));
    assert!(list.contains(&key), "{list}");

    ok(mytool(&db, &["consumers", "remove", &key]));
    let missing = mytool(&db, &["consumers", "show", &key]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no consumer with key"));
}

#[test]
fn unknown_silo_and_duplicate_key_are_clear_errors() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    let nosilo = mytool(&db, &["consumers", "add", "--silo", "nowhere"]);
    assert!(!nosilo.status.success());
    assert!(
        stderr(&nosilo).contains("no silo \"nowhere\""),
        "{}",
        stderr(&nosilo)
    );

    ok(mytool(&db, &["--create-silo", "prune"]));
    let dup = mytool(&db, &["consumers", "add", "--key", "12345"]);
    assert!(!dup.status.success());
    assert!(
        stderr(&dup).contains("a consumer with key \"12345\" exists already"),
        "{}",
        stderr(&dup)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_keeps_old_secrets_readable() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    ok(mytool(&db, &["--create-silo", "prune"]));
    let new_secret = dir.path().join("new.key");
    std::fs::write(&new_secret, "the second application secret\n").expect("write key");
    let text = ok(mytool(
        &db,
        &[
            "keys",
            "rotate",
            "--keynum",
            "2",
            "--secret-file",
            &new_secret.display().to_string(),
            "--switch-over-secs",
            "0",
        ],
    ));
    assert!(text.contains("takes over"), "{text}");

    // The old key may no longer start the tool: the chain says it was replaced.
    let stale = mytool(&db, &["prune"]);
    assert!(!stale.status.success(), "{}", stdout(&stale));

    // Restarted with key 2, the tool still opens the consumer secret sealed
    // under key 1: a signed launch verifies.
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        format!(
            r#"{{"keys": {{"keynum": 2, "secret_file": "{}"}}}}"#,
            new_secret.display()
        ),
    )
    .expect("write settings");
    let url = format!("sqlite:{}", db.display());
    let tool = lti_e2e::RunningTool::start(
        env!("CARGO_BIN_EXE_mytool"),
        &[
            "--database-url",
            &url,
            "--settings",
            &settings.display().to_string(),
        ],
        &[],
    )
    .expect("mytool starts with the new key");
    let addr: std::net::SocketAddr = tool.address.parse().expect("an address");
    let browser =
        lti_testkit::HttpClient::new(addr).with_host(format!("localhost:{}", addr.port()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let launch = lti_testkit::LaunchBuilder::new()
        .url(format!("http://localhost:{}/launch", addr.port()))
        .timestamp(now)
        .fresh_nonce();
    let response = browser.launch(&launch).await;
    assert_eq!(
        response.status(),
        http::StatusCode::SEE_OTHER,
        "{}",
        response.text()
    );
}

#[test]
fn config_xml_names_the_launch_url() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    let text = ok(mytool(
        &db,
        &[
            "--canonical-root",
            "https://tools.example.edu/mytool",
            "config-xml",
            "--title",
            "My <tool>",
        ],
    ));
    assert!(text.starts_with("<?xml"));
    assert!(text.contains("<blti:title>My &lt;tool&gt;</blti:title>"));
    assert!(
        text.contains("<blti:launch_url>https://tools.example.edu/mytool/launch</blti:launch_url>")
    );
}

#[test]
fn a_missing_secret_and_a_settings_typo_are_refused() {
    let dir = TempDir::new("mytool-cli").expect("temp dir");
    let db = dir.path().join("tool.sqlite3");
    let output = Command::new(env!("CARGO_BIN_EXE_mytool"))
        .args(["--database-url", &format!("sqlite:{}", db.display())])
        .env_remove("LTI_APP_SECRET")
        .args(["prune"])
        .output()
        .expect("mytool runs");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no application secret"),
        "{}",
        stderr(&output)
    );
    let bad_settings = dir.path().join("settings.json");
    std::fs::write(&bad_settings, r#"{"server": {"prot": 1}}"#).expect("write");
    let output = mytool(
        &db,
        &["--settings", &bad_settings.display().to_string(), "prune"],
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("prot"), "{}", stderr(&output));
}
