//! The load benchmark runs end to end: both server processes start, every
//! scenario produces figures and no request fails. It asserts numbers
//! exist, never how large they are (STYLE.md: no timed assertions).

use std::process::Command;

#[test]
fn a_short_run_produces_figures_and_no_errors() {
    let output = Command::new(env!("CARGO_BIN_EXE_lti-bench"))
        .args([
            "--duration",
            "0.3",
            "--warmup",
            "0.1",
            "--concurrency",
            "1,2",
            "--runs",
            "1",
        ])
        .env_remove("LTI_DATABASE_URL")
        .output()
        .expect("lti-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for scenario in ["hello", "form", "launch", "view"] {
        for concurrency in [1, 2] {
            let row = format!("| empty | {scenario} | {concurrency} | ");
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("no row {row:?} in\n{stdout}"));
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let rps: f64 = cells[4].parse().expect("req/s is a number");
            assert!(rps > 0.0, "{line}");
            assert_eq!(cells[10], "0", "errors in {line}");
        }
    }
    assert!(stdout.contains("lti-bench: 8 points, 0 errors"), "{stdout}");
    assert!(
        stdout.contains("server RSS after the run: tool "),
        "{stdout}"
    );
}
