//! The launch doctor: explains why a launch signature did not verify.
//!
//! Most "invalid signature" reports of LTI tools come from the tool and the
//! LMS disagreeing about the launch URL: a proxy that terminates TLS, a
//! path prefix, a port, query parameters (field survey §2.1, §2.2). The
//! doctor shows the URL and base string the tool computed and names the
//! likely cause. It never shows the secret or the signature.

use lti_oauth::SignedRequest;

use crate::proxy::Arrival;
use crate::root::AppRoot;

/// Findings as (name, value) pairs, for the error page and the log.
pub(crate) type Findings = Vec<(String, String)>;

/// What the doctor says about a request whose signature did not verify.
pub(crate) fn diagnose_signature(
    root: &AppRoot,
    signed_url: &str,
    request: &SignedRequest,
    skew_secs: Option<i64>,
    has_query: bool,
    arrival: &Arrival,
) -> Findings {
    let mut findings = vec![
        (
            "Launch URL the tool verified".to_owned(),
            signed_url.to_owned(),
        ),
        (
            "Signature base string the tool computed".to_owned(),
            request.base_string().to_owned(),
        ),
        (
            "Signature method".to_owned(),
            request.signature_method().as_str().to_owned(),
        ),
    ];
    if let Some(skew) = skew_secs {
        findings.push(("Clock difference (tool − LMS)".into(), format!("{skew} s")));
    }
    if let Some(seen) = describe_arrival(arrival) {
        findings.push(("How the request arrived".into(), seen));
    }
    let mismatches = arrival.mismatches(root);
    let cause = if mismatches.is_empty() {
        likely_cause(root, has_query)
    } else {
        mismatches.join(" ")
    };
    findings.push(("Likely cause".into(), cause));
    findings
}

/// The scheme, host and prefix headers of the request, as sent.
fn describe_arrival(arrival: &Arrival) -> Option<String> {
    let mut parts = Vec::new();
    if let Some((proto, source)) = &arrival.proto {
        parts.push(format!("{source}: {proto}"));
    }
    if let Some((host, source)) = &arrival.host {
        parts.push(format!("{source}: {host}"));
    }
    if let Some(port) = &arrival.port {
        parts.push(format!("X-Forwarded-Port: {port}"));
    }
    if let Some(prefix) = &arrival.prefix {
        parts.push(format!("X-Forwarded-Prefix: {prefix}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A one-line summary of what differs between the request and the
/// canonical root, for the log (empty when nothing visibly does).
pub(crate) fn mismatch_summary(root: &AppRoot, arrival: &Arrival) -> String {
    arrival.mismatches(root).join(" ")
}

fn likely_cause(root: &AppRoot, has_query: bool) -> String {
    let mut causes = vec![format!(
        "The LMS signed a different URL, or signed with another secret than the one stored for this consumer key. The \
         tool builds the URL from canonical_root = {}, never from the Host header: the launch \
         URL configured in the LMS must start with exactly this scheme, host, port and path.",
        root.url()
    )];
    if !root.is_https() {
        causes.push(
            "canonical_root is http: behind a TLS-terminating proxy the LMS signs an https URL. \
             Set canonical_root (or --canonical-root) to the public https URL."
                .into(),
        );
    }
    if root.path() == "/" {
        causes.push(
            "canonical_root has no path: if a proxy serves the tool under a prefix \
             (e.g. /tools/mytool/), canonical_root must include it."
                .into(),
        );
    }
    if has_query {
        causes.push(
            "The launch URL has a query string: its parameters are part of the signature and \
             must reach the tool unchanged."
                .into(),
        );
    }
    causes.join(" ")
}

/// What the doctor says about a stale or future timestamp.
pub(crate) fn diagnose_clock(skew_secs: i64, window: i64) -> Findings {
    vec![
        (
            "Clock difference (tool − LMS)".to_owned(),
            format!("{skew_secs} s (allowed: ±{window} s)"),
        ),
        (
            "Likely cause".to_owned(),
            "The LMS's or the tool's clock is wrong (check NTP on both), or the launch form \
             was submitted again long after it was made (a stale page or the back button)."
                .to_owned(),
        ),
    ]
}
