//! Per-request costs on the page path: verifying the session cookie (every
//! request) and rendering pages (`cargo bench -p axum-lti --bench pages`;
//! figures in PERFORMANCE.md).

#![allow(missing_docs, clippy::expect_used)]

use std::hint::black_box;

use axum_lti::core::{AppCipher, AppSecret};
use axum_lti::{DefaultPages, ErrorPage, Pages, ResourcePage};
use criterion::{Criterion, criterion_group, criterion_main};

const NOW: i64 = 1_790_000_000;

fn cipher() -> AppCipher {
    let secret =
        AppSecret::new("the benchmark's application secret, long enough").expect("a long secret");
    AppCipher::new(1, secret)
}

fn session_cookie(c: &mut Criterion) {
    let cipher = cipher();
    let plain = axum_lti::bench_session_cookie(&cipher, &[], NOW);
    let with_data =
        axum_lti::bench_session_cookie(&cipher, &[("owner", "42"), ("theme", "dark")], NOW);
    assert!(axum_lti::bench_verify_session_cookie(&plain, &cipher));
    assert!(axum_lti::bench_verify_session_cookie(&with_data, &cipher));
    let mut forged = plain.clone();
    forged.replace_range(0..1, if plain.starts_with('A') { "B" } else { "A" });

    let mut group = c.benchmark_group("session cookie");
    group.bench_function("verify (no payload)", |b| {
        b.iter(|| axum_lti::bench_verify_session_cookie(black_box(&plain), &cipher));
    });
    group.bench_function("verify (2-key payload)", |b| {
        b.iter(|| axum_lti::bench_verify_session_cookie(black_box(&with_data), &cipher));
    });
    group.bench_function("verify forged (refused)", |b| {
        b.iter(|| axum_lti::bench_verify_session_cookie(black_box(&forged), &cipher));
    });
    group.bench_function("sign (no payload)", |b| {
        b.iter(|| axum_lti::bench_session_cookie(&cipher, &[], black_box(NOW)));
    });
    group.finish();
}

fn pages(c: &mut Criterion) {
    let resource = ResourcePage {
        title: "Week 1: Kinematics".into(),
        display_name: "Jane Q. Public".into(),
        context: "Physics 101".into(),
        resource: "res-17".into(),
        roles: "Learner, urn:lti:instrole:ims/lis/Student".into(),
        permissions: "READ (1)".into(),
    };
    let error = ErrorPage {
        status: 401,
        title: "Launch refused".into(),
        message: "The launch's signature does not match: check the consumer secret.".into(),
        doctor: None,
    };
    let mut group = c.benchmark_group("pages");
    group.bench_function("default resource page", |b| {
        b.iter(|| DefaultPages.resource(black_box(&resource)));
    });
    group.bench_function("error page", |b| {
        b.iter(|| DefaultPages.error(black_box(&error)));
    });
    group.finish();
}

criterion_group!(benches, session_cookie, pages);
criterion_main!(benches);
