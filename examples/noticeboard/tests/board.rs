//! The board: listing and times, validation that stores nothing, the page
//! for launches outside a course, notices of other courses, CSRF, the
//! cascade from consumers, the stylesheet and malformed requests. On SQLite
//! and PostgreSQL.

mod common;

use http::{Method, StatusCode};
use lti_testkit::{TEST_START_TIME, form_body, html_unescape};

on_both_backends! {
    async fn notices_are_listed_newest_first_with_author_and_time(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let learner = kit.launch("s-1", "Learner").await;
        let empty = teacher.get("").await;
        assert_eq!(empty.status(), StatusCode::OK);
        assert!(empty.text().contains(r#"id="no-notices""#));

        teacher.add("First", "line one\r\nline two").await;
        kit.tool.clock().advance(60);
        learner.add("Second", "").await;
        kit.tool.clock().advance(60);

        let notices = kit.notices_of(&teacher).await;
        let titles: Vec<&str> = notices.iter().map(|n| n.title.as_str()).collect();
        assert_eq!(titles, ["Second", "First"]);
        assert_eq!(notices[1].created, TEST_START_TIME);
        assert_eq!(notices[1].updated, TEST_START_TIME);
        assert_eq!(notices[1].description.as_deref(), Some("line one\nline two"));
        assert_eq!(notices[0].created, TEST_START_TIME + 60);
        assert_eq!(notices[0].author_name, "User s-1");

        let page = learner.get("").await;
        let html = page.text();
        let second = html.find("Second").expect("Second listed");
        let first = html.find("First").expect("First listed");
        assert!(second < first, "newest first: {html}");
        assert!(html.contains("Posted by <span class=\"author\">User t-1</span>"), "{html}");
        assert!(html.contains(r#"<time datetime="2024-01-01T00:00:00Z">1 Jan 2024, 00:00 UTC</time>"#), "{html}");
        assert!(html.contains("Course course-1"), "the course's title: {html}");
        assert!(html.contains("Week 1 notices"), "the resource's title: {html}");

        // Editing moves a notice to the top; created stays, updated moves.
        let first_id = notices[1].id;
        let saved = teacher
            .post(&format!("edit?id={first_id}"), &[("title", "First, revised"), ("description", "")])
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let notices = kit.notices_of(&teacher).await;
        assert_eq!(notices[0].title, "First, revised");
        assert_eq!(notices[0].created, TEST_START_TIME);
        assert_eq!(notices[0].updated, TEST_START_TIME + 120);
        let html = teacher.get("").await.text();
        assert!(html.contains("; edited <time datetime=\"2024-01-01T00:02:00Z\">"), "{html}");
    }

    async fn invalid_notices_are_refused_with_the_form_and_store_nothing(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let long_title = "T".repeat(65);
        let long_description = "d".repeat(257);
        for (title, description, field, message) in [
            ("", "kept <description>", "title", "Enter a title."),
            ("   ", "", "title", "Enter a title."),
            (long_title.as_str(), "", "title", "at most 64"),
            ("Fine title", long_description.as_str(), "description", "at most 256"),
        ] {
            let response = teacher
                .post("add", &[("title", title), ("description", description)])
                .await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{title:?}");
            let html = response.text();
            assert!(html.contains(message), "{message}: {html}");
            assert!(html.contains("The notice was not saved"), "{html}");
            assert_eq!(
                response.attribute_by_id(field, "aria-invalid").as_deref(),
                Some("true"),
                "{html}"
            );
            assert_eq!(
                response.attribute_by_id(field, "aria-describedby"),
                Some(format!("{field}-hint {field}-error"))
            );
            assert!(html.contains(&format!(r#"id="{field}-error""#)));
            // What was typed is kept.
            assert_eq!(response.input_value("title").as_deref(), Some(title));
            if !description.is_empty() {
                assert!(
                    html_unescape(&html).contains(&format!(">{description}</textarea>")),
                    "{html}"
                );
            }
            assert!(response.input_value("csrftoken").is_some(), "the form can be sent again");
        }
        // Missing fields altogether are blank fields.
        let response = teacher.post("add", &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(kit.count().await, 0, "nothing stored");

        // The limits are inclusive, in characters.
        teacher.add(&"é".repeat(64), &"ü".repeat(256)).await;
        assert_eq!(kit.count().await, 1);

        // A bad edit changes nothing either.
        let notice = kit.notices_of(&teacher).await.remove(0);
        let response = teacher
            .post(&format!("edit?id={}", notice.id), &[("title", ""), ("description", "changed")])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.text().contains("Edit your notice"));
        assert_eq!(kit.notices_of(&teacher).await, vec![notice]);
    }

    async fn a_launch_outside_a_course_gets_the_page_that_says_so(kit) {
        let loner = kit
            .launch_with("t-1", "Instructor", None, "lonely-link")
            .await;
        let page = loner.get("").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text();
        assert!(html.contains("Notices need a course"), "{html}");
        assert!(html.contains(r#"id="no-context""#));
        assert!(!html.contains("<form"), "no add form: {html}");
        assert_eq!(loner.get("add").await.status(), StatusCode::OK);
        let refused = loner.post("add", &[("title", "Nowhere")]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().contains("Notices need a course"));
        assert_eq!(loner.get("edit?id=1").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(kit.count().await, 0);
    }

    async fn notices_of_another_course_are_not_found(kit) {
        let physics = kit.launch("t-1", "Instructor").await;
        physics.add("Physics only", "").await;
        let id = kit.notices_of(&physics).await[0].id;
        // The same teacher, another course (another resource link).
        let chemistry = kit
            .launch_with("t-1", "Instructor", Some("course-2"), "board-2")
            .await;
        assert_ne!(chemistry.board, physics.board);
        let board = chemistry.get("").await;
        assert_eq!(board.status(), StatusCode::OK);
        assert!(!board.text().contains("Physics only"));
        for response in [
            chemistry.get(&format!("edit?id={id}")).await,
            chemistry.get(&format!("delete?id={id}")).await,
            chemistry.post(&format!("edit?id={id}"), &[("title", "Moved")]).await,
            chemistry.post(&format!("delete?id={id}"), &[]).await,
            // And ids that do not exist at all look the same.
            chemistry.get("edit?id=987654321").await,
        ] {
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{}", response.text());
        }
        assert_eq!(kit.notices_of(&physics).await[0].title, "Physics only");
    }

    async fn every_post_needs_the_sessions_csrf_token(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let page = teacher.get("").await;
        let token = page.input_value("csrftoken").expect("the add form carries the token");
        assert_eq!(token, teacher.token().await);
        let add = teacher.page("add");
        for body in [
            form_body(&[("title", "No token")]),
            form_body(&[("csrftoken", "1.AAAA"), ("title", "Wrong token")]),
        ] {
            let refused = teacher.client.post_form(&add, body).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        }
        // Another session's token does not do either.
        let other = kit.launch("t-2", "Instructor").await;
        let foreign = form_body(&[("csrftoken", &other.token().await), ("title", "Foreign")]);
        assert_eq!(
            teacher.client.post_form(&add, foreign).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(kit.count().await, 0);

        teacher.add("With token", "").await;
        let id = kit.notices_of(&teacher).await[0].id;
        for target in [format!("edit?id={id}"), format!("delete?id={id}")] {
            let refused = teacher
                .client
                .post_form(&teacher.page(&target), form_body(&[("title", "x")]))
                .await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{target}");
            let form = teacher.get(&target).await;
            assert_eq!(form.input_value("csrftoken").as_deref(), Some(token.as_str()), "{target}");
        }
        assert_eq!(kit.notices_of(&teacher).await[0].title, "With token");
    }

    async fn deleting_the_consumer_deletes_its_notices(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let learner = kit.launch("s-1", "Learner").await;
        teacher.add("One", "").await;
        learner.add("Two", "").await;
        assert_eq!(kit.count().await, 2);
        let consumer = kit.tool.consumer().id;
        assert!(kit.tool.store().delete_consumer(consumer).await.expect("deleted"));
        assert_eq!(kit.count().await, 0);
    }

    async fn malformed_requests_get_pages(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        for target in ["edit", "edit?id=", "edit?id=abc", "delete?id=-4", "delete?id=1L"] {
            let response = teacher.get(target).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{target}");
            assert!(response.text().starts_with("<!DOCTYPE html>"));
        }
        assert_eq!(teacher.get("view").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(teacher.get("a/b").await.status(), StatusCode::NOT_FOUND);
        let token = teacher.token().await;
        let put = teacher
            .client
            .request(Method::PUT, &teacher.page("add"), &[("x-csrf-token", &token)], "")
            .await;
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(put.header("allow"), Some("GET, POST"));
        let json = teacher
            .client
            .request(
                Method::POST,
                &teacher.page("add"),
                &[("x-csrf-token", &token), ("content-type", "application/json")],
                r#"{"title":"json"}"#,
            )
            .await;
        assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(kit.count().await, 0);
    }

    async fn the_stylesheet_is_served_and_cached(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let page = teacher.get("").await;
        let html = page.text();
        let start = html.find("http://localhost:8080/static/noticeboard.css?v=").expect("linked");
        let href = &html[start..];
        let href = &href[..href.find('"').expect("quoted")];
        let css = teacher.client.get(href).await;
        assert_eq!(css.status(), StatusCode::OK);
        assert!(css.set_cookies().is_empty(), "shared caches may keep it");
        assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
        assert!(css.header("cache-control").is_some_and(|c| c.contains("immutable")));
        assert!(css.text().contains(".notices"));
        let etag = css.header("etag").expect("an ETag").to_owned();
        let again = teacher
            .client
            .request(Method::GET, "/static/noticeboard.css", &[("if-none-match", &etag)], "")
            .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.header("cache-control"), Some("public, no-cache"));
        // The about page needs no session.
        let about = kit.tool.client().get("/").await;
        assert_eq!(about.status(), StatusCode::OK);
        assert!(about.text().contains("http://localhost:8080/launch"));
    }
}
