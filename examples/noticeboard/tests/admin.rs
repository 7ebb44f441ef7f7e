//! The noticeboard mounts the framework's admin console for its consumers
//! (the part of Pyslet's multi-tenant noticeboard, spec §10.4).

mod common;

use http::StatusCode;

on_both_backends! {
    async fn the_admin_console_manages_the_noticeboards_consumers(kit) {
        // Mounted by `noticeboard::configure`: anonymous visitors are sent
        // to the owners' login page.
        let visitor = kit.tool.client();
        let console = visitor.get("/admin/").await;
        assert_eq!(console.status(), StatusCode::SEE_OTHER);
        let login = visitor.follow(&console).await;
        assert_eq!(login.status(), StatusCode::OK);
        assert!(login.input_value("csrftoken").is_some(), "a CSRF-protected login form");
    }
}
