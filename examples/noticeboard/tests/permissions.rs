//! Who may do what (spec §10.2 with QN-1 decided): READ to see the board,
//! READ and a user to post, the author to edit, the author or WRITE to
//! delete; everything else 403 with a page, and nothing changes. On SQLite
//! and PostgreSQL.

mod common;

use http::StatusCode;
use lti_testkit::TestResponse;

#[track_caller]
fn assert_refused(response: &TestResponse) {
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "{}",
        response.text()
    );
    let html = response.text();
    assert!(html.starts_with("<!DOCTYPE html>"), "a page: {html}");
    assert!(html.contains("Not allowed"), "{html}");
}

/// The id of the only notice with this title.
async fn id_of(kit: &common::Kit, browser: &common::Browser, title: &str) -> String {
    kit.notices_of(browser)
        .await
        .iter()
        .find(|n| n.title == title)
        .map(|n| n.id.to_string())
        .unwrap_or_else(|| panic!("no notice {title:?}"))
}

on_both_backends! {
    async fn instructors_post_edit_their_own_and_delete_any(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let learner = kit.launch("s-1", "Learner").await;
        teacher.add("Exam on Friday", "Room 101").await;
        learner.add("Study group", "").await;
        let own = id_of(&kit, &teacher, "Exam on Friday").await;
        let theirs = id_of(&kit, &learner, "Study group").await;

        // The board shows the teacher an edit link for their own notice
        // only, and delete links for both.
        let board = teacher.get("").await;
        assert_eq!(board.status(), StatusCode::OK);
        assert!(board.attribute_by_id(&format!("edit-{own}"), "href").is_some());
        assert!(board.attribute_by_id(&format!("edit-{theirs}"), "href").is_none());
        assert!(board.attribute_by_id(&format!("delete-{own}"), "href").is_some());
        assert!(board.attribute_by_id(&format!("delete-{theirs}"), "href").is_some());

        // Edit their own: form, then save.
        let form = teacher.get(&format!("edit?id={own}")).await;
        assert_eq!(form.status(), StatusCode::OK);
        assert_eq!(form.input_value("title").as_deref(), Some("Exam on Friday"));
        let saved = teacher
            .post(&format!("edit?id={own}"), &[("title", "Exam on Monday"), ("description", "")])
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", saved.text());

        // Not the learner's notice: neither the form nor the post.
        assert_refused(&teacher.get(&format!("edit?id={theirs}")).await);
        assert_refused(
            &teacher
                .post(&format!("edit?id={theirs}"), &[("title", "Hijacked"), ("description", "")])
                .await,
        );

        // But WRITE deletes it, after the confirmation page.
        let confirm = teacher.get(&format!("delete?id={theirs}")).await;
        assert_eq!(confirm.status(), StatusCode::OK);
        let html = confirm.text();
        assert!(html.contains("Delete this notice?"), "{html}");
        assert!(html.contains("posted by User s-1"), "{html}");
        assert!(confirm.input_value("csrftoken").is_some());
        let deleted = teacher.post(&format!("delete?id={theirs}"), &[]).await;
        assert_eq!(deleted.status(), StatusCode::SEE_OTHER, "{}", deleted.text());
        assert_eq!(deleted.location(), Some(teacher.board.as_str()));

        let left = kit.notices_of(&teacher).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].title, "Exam on Monday");
        assert_eq!(left[0].description, None);
    }

    async fn learners_edit_and_delete_only_their_own(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let ada = kit.launch("s-1", "Learner").await;
        let bob = kit.launch("s-2", "Learner").await;
        teacher.add("From the teacher", "").await;
        ada.add("From Ada", "").await;
        let teachers = id_of(&kit, &teacher, "From the teacher").await;
        let adas = id_of(&kit, &ada, "From Ada").await;

        // Bob sees both notices and no edit or delete link.
        let board = bob.get("").await;
        assert_eq!(board.status(), StatusCode::OK);
        let html = board.text();
        assert!(html.contains("From the teacher") && html.contains("From Ada"), "{html}");
        assert!(!html.contains("edit?id=") && !html.contains("delete?id="), "{html}");

        // Bob may touch neither the teacher's nor Ada's notice.
        for id in [&teachers, &adas] {
            assert_refused(&bob.get(&format!("edit?id={id}")).await);
            assert_refused(
                &bob.post(&format!("edit?id={id}"), &[("title", "Bob was here")]).await,
            );
            assert_refused(&bob.get(&format!("delete?id={id}")).await);
            assert_refused(&bob.post(&format!("delete?id={id}"), &[]).await);
        }
        // Ada may not delete the teacher's notice (no WRITE)…
        assert_refused(&ada.get(&format!("delete?id={teachers}")).await);
        assert_refused(&ada.post(&format!("delete?id={teachers}"), &[]).await);
        assert_eq!(kit.count().await, 2, "nothing changed");

        // …but edits and deletes her own.
        let board = ada.get("").await;
        assert!(board.attribute_by_id(&format!("edit-{adas}"), "href").is_some());
        assert!(board.attribute_by_id(&format!("delete-{adas}"), "href").is_some());
        assert!(board.attribute_by_id(&format!("delete-{teachers}"), "href").is_none());
        let saved = ada
            .post(&format!("edit?id={adas}"), &[("title", "From Ada, edited"), ("description", "now with words")])
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", saved.text());
        let notices = kit.notices_of(&ada).await;
        assert!(notices.iter().any(|n| n.title == "From Ada, edited"
            && n.description.as_deref() == Some("now with words")));
        assert!(notices.iter().any(|n| n.title == "From the teacher"));
        let confirm = ada.get(&format!("delete?id={adas}")).await;
        assert_eq!(confirm.status(), StatusCode::OK);
        assert!(!confirm.text().contains("posted by"), "her own: no warning");
        let deleted = ada.post(&format!("delete?id={adas}"), &[]).await;
        assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
        assert_eq!(kit.count().await, 1);
    }

    async fn a_launch_without_roles_sees_nothing_and_posts_nothing(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        teacher.add("Secret plans", "").await;
        let id = id_of(&kit, &teacher, "Secret plans").await;
        let nobody = kit.launch("x-1", "").await;

        let board = nobody.get("").await;
        assert_refused(&board);
        assert!(!board.text().contains("Secret plans"));
        assert_refused(&nobody.get("add").await);
        assert_refused(&nobody.post("add", &[("title", "Sneaky")]).await);
        assert_refused(&nobody.get(&format!("edit?id={id}")).await);
        assert_refused(&nobody.get(&format!("delete?id={id}")).await);
        assert_refused(&nobody.post(&format!("delete?id={id}"), &[]).await);
        assert_eq!(kit.count().await, 1);
    }

    async fn an_anonymous_launch_reads_but_cannot_post(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        teacher.add("Welcome", "").await;
        let launch = kit
            .tool
            .launch()
            .resource_link_id("board-1")
            .context_id("course-1")
            .roles("Learner")
            .remove("user_id");
        let anonymous = kit.launch_built(launch).await;
        let board = anonymous.get("").await;
        assert_eq!(board.status(), StatusCode::OK);
        assert!(board.text().contains("Welcome"));
        assert!(board.input_value("title").is_none(), "no form");
        assert_refused(&anonymous.get("add").await);
        assert_refused(&anonymous.post("add", &[("title", "Who am I")]).await);
        assert_eq!(kit.count().await, 1);
    }

    async fn a_browser_without_a_visit_is_refused(kit) {
        let teacher = kit.launch("t-1", "Instructor").await;
        let stranger = kit.tool.client();
        // Through the cookie test first, then 403: ids cannot be probed.
        let first = stranger.get(&teacher.board).await;
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        let ctest = stranger.follow(&first).await;
        let back = stranger.follow(&ctest).await;
        assert_eq!(back.status(), StatusCode::FORBIDDEN);
    }
}
