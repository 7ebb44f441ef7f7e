//! Verifying a typical LTI launch: parse a 35-parameter form body, build
//! the base string, check the HMAC-SHA1 signature.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lti_oauth::{RequestSigner, SignedRequest, form_encode};

const URL: &str = "https://tool.example.com/lti/launch";

/// A realistic launch body: 28 LTI parameters plus 7 protocol ones.
fn launch_body() -> String {
    let mut params: Vec<(String, String)> = [
        ("lti_message_type", "basic-lti-launch-request"),
        ("lti_version", "LTI-1p0"),
        ("resource_link_id", "120988f929-274612"),
        ("resource_link_title", "Weekly Blog"),
        ("resource_link_description", "A weekly blog."),
        ("user_id", "292832126"),
        ("roles", "Instructor,urn:lti:instrole:ims/lis/Faculty"),
        ("lis_person_name_given", "Jane"),
        ("lis_person_name_family", "Public"),
        ("lis_person_name_full", "Jane Q. Public"),
        ("lis_person_contact_email_primary", "user@school.edu"),
        ("lis_person_sourcedid", "school.edu:user"),
        ("context_id", "456434513"),
        ("context_type", "CourseSection"),
        ("context_title", "Design of Personal Environments"),
        ("context_label", "SI182"),
        ("launch_presentation_locale", "en-US"),
        ("launch_presentation_document_target", "iframe"),
        (
            "launch_presentation_return_url",
            "https://lms.example.edu/courses/7/return?x=1",
        ),
        (
            "lis_outcome_service_url",
            "https://lms.example.edu/api/lti/v1/tools/1/grade_passback",
        ),
        ("lis_result_sourcedid", "feb-123-456-2929::28883"),
        ("tool_consumer_info_product_family_code", "canvas"),
        ("tool_consumer_info_version", "cloud"),
        ("tool_consumer_instance_guid", "lmsng.school.edu"),
        (
            "tool_consumer_instance_name",
            "University of School (LMSng)",
        ),
        ("custom_canvas_course_id", "7"),
        ("custom_canvas_user_id", "42"),
        (
            "ext_roles",
            "urn:lti:instrole:ims/lis/Instructor,urn:lti:role:ims/lis/Instructor",
        ),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    params = RequestSigner::new("12345", "secret")
        .with_oauth_param("oauth_callback", "about:blank")
        .sign_params(
            "POST",
            URL,
            params,
            "45f32b44e314244a222d0e070fa55384",
            1_420_370_306,
        )
        .expect("the benchmark launch signs");
    assert_eq!(params.len(), 35);
    form_encode(&params)
}

fn verify_launch(c: &mut Criterion) {
    let body = launch_body();
    c.bench_function("verify 35-parameter launch (HMAC-SHA1)", |b| {
        b.iter(|| {
            let request = SignedRequest::from_parts(
                "POST",
                black_box(URL),
                Some(black_box(body.as_bytes())),
                None,
            )
            .expect("parses");
            request.verify(black_box("secret")).expect("verifies");
        });
    });
}

criterion_group!(benches, verify_launch);
criterion_main!(benches);
