//! Role parsing and permission computation, as every launch does them
//! (`cargo bench -p lti-core --bench roles`; figures in PERFORMANCE.md).

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lti_core::{DefaultPermissionModel, PermissionModel, RoleList};

/// A learner's `roles` value as Canvas sends it: a handle and two URNs.
const LEARNER: &str = "Learner,urn:lti:instrole:ims/lis/Student,urn:lti:sysrole:ims/lis/User";
/// An instructor's: sub-roles, URNs and an unknown value that is ignored.
const INSTRUCTOR: &str = "Instructor,urn:lti:role:ims/lis/Instructor/Lecturer,\
urn:lti:role:ims/lis/TeachingAssistant,urn:lti:instrole:ims/lis/Faculty,\
urn:lti:sysrole:ims/lis/SysAdmin,http://example.com/custom-role";

fn roles(c: &mut Criterion) {
    let mut group = c.benchmark_group("roles");
    group.bench_function("parse learner (3 roles)", |b| {
        b.iter(|| RoleList::parse(black_box(LEARNER)));
    });
    group.bench_function("parse instructor (6 roles)", |b| {
        b.iter(|| RoleList::parse(black_box(INSTRUCTOR)));
    });
    let learner = RoleList::parse(LEARNER);
    let instructor = RoleList::parse(INSTRUCTOR);
    group.bench_function("permissions learner", |b| {
        b.iter(|| DefaultPermissionModel.permissions(black_box(learner.roles())));
    });
    group.bench_function("permissions instructor", |b| {
        b.iter(|| DefaultPermissionModel.permissions(black_box(instructor.roles())));
    });
    group.bench_function("parse + permissions instructor", |b| {
        b.iter(|| {
            let roles = RoleList::parse(black_box(INSTRUCTOR));
            DefaultPermissionModel.permissions(roles.roles())
        });
    });
    group.finish();
}

criterion_group!(benches, roles);
criterion_main!(benches);
