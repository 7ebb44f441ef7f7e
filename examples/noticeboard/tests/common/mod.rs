//! Shared by the in-process suites: the noticeboard on a `TestTool`, on
//! SQLite or on PostgreSQL (a schema of its own per test), and browsers
//! that launch into it.
#![allow(dead_code)]

use axum::Router;
use axum::routing::get;
use axum_lti::CsrfToken;
use http::StatusCode;
use lti_store::testing::{PgSchema, postgres_url};
use lti_testkit::{TestClient, TestResponse, TestTool, form_body};
use noticeboard::{Notice, Notices};

/// Where a test's database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A private in-memory SQLite database.
    Sqlite,
    /// A throw-away schema on `LTI_TEST_DATABASE_URL`.
    Postgres,
}

/// The noticeboard on a test tool; its PostgreSQL schema (if any) goes
/// when it is dropped.
pub(crate) struct Kit {
    pub(crate) tool: TestTool,
    // Dropped after the tool (fields drop in order).
    _schema: Option<PgSchema>,
}

/// A route that shows the session's CSRF token: the no-context pages have
/// no form to take it from.
async fn token(csrf: CsrfToken) -> String {
    csrf.value().to_owned()
}

impl Kit {
    /// The noticeboard on `backend`, or `None` when PostgreSQL tests are
    /// skipped (`LTI_SKIP_POSTGRES=1`; without it and without
    /// `LTI_TEST_DATABASE_URL` the test fails loudly).
    pub(crate) async fn new(backend: Backend) -> Option<Self> {
        let builder = TestTool::builder()
            .map_app(noticeboard::configure)
            .with_routes(noticeboard::routes())
            .with_routes(Router::new().route("/test/csrf", get(token)));
        match backend {
            Backend::Sqlite => Some(Self {
                tool: builder.build().await,
                _schema: None,
            }),
            Backend::Postgres => {
                let base = postgres_url()?;
                let schema = PgSchema::create(&base).await.expect("a test schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!(
                    "{base}{separator}options=-c%20search_path%3D{}",
                    schema.name()
                );
                let tool = builder.with_database_url(url).build().await;
                Some(Self {
                    tool,
                    _schema: Some(schema),
                })
            }
        }
    }

    /// The notices, straight from the database.
    pub(crate) fn notices(&self) -> Notices {
        Notices::new(self.tool.provider().db().expect("a database").clone())
    }

    /// How many notices the database holds.
    pub(crate) async fn count(&self) -> i64 {
        self.notices().count_all().await.expect("counting notices")
    }

    /// A new browser launched into the course's board.
    pub(crate) async fn launch(&self, user: &str, roles: &str) -> Browser {
        self.launch_with(user, roles, Some("course-1"), "board-1")
            .await
    }

    /// A new browser launched with this context (or none) and link.
    pub(crate) async fn launch_with(
        &self,
        user: &str,
        roles: &str,
        context: Option<&str>,
        link: &str,
    ) -> Browser {
        let mut launch = self
            .tool
            .launch()
            .resource_link_id(link)
            .param("resource_link_title", "Week 1 notices")
            .user_id(user)
            .person_name(format!("User {user}"))
            .roles(roles);
        if let Some(context) = context {
            launch = launch
                .context_id(context)
                .param("context_title", format!("Course {context}"));
        }
        self.launch_built(launch).await
    }

    /// A new browser that posts this launch and follows it to the board.
    pub(crate) async fn launch_built(&self, launch: lti_testkit::LaunchBuilder) -> Browser {
        let client = self.tool.client();
        let response = client.launch(&launch).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text()
        );
        let ctest = client.follow(&response).await;
        assert_eq!(ctest.status(), StatusCode::SEE_OTHER, "{}", ctest.text());
        let board = ctest.location().expect("back to the resource").to_owned();
        assert!(board.contains("/resource/"), "{board}");
        Browser { client, board }
    }

    /// The context key of a launched browser's course.
    pub(crate) async fn notices_of(&self, browser: &Browser) -> Vec<Notice> {
        let context = browser.context_key(self).await;
        self.notices().list(context).await.expect("listing notices")
    }
}

/// A browser with a visit to a board.
pub(crate) struct Browser {
    pub(crate) client: TestClient,
    /// `http://localhost:8080/resource/<ID>/`
    pub(crate) board: String,
}

impl Browser {
    /// A URL below the board, e.g. `page("edit?id=1")`.
    pub(crate) fn page(&self, relative: &str) -> String {
        format!("{}{relative}", self.board)
    }

    pub(crate) async fn get(&self, relative: &str) -> TestResponse {
        self.client.get(&self.page(relative)).await
    }

    /// The session's CSRF token.
    pub(crate) async fn token(&self) -> String {
        let response = self.client.get("/test/csrf").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text()
    }

    /// Posts a form (with the session's CSRF token) below the board.
    pub(crate) async fn post(&self, relative: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.token().await;
        let mut pairs = vec![("csrftoken", token.as_str())];
        pairs.extend_from_slice(fields);
        self.client
            .post_form(&self.page(relative), form_body(&pairs))
            .await
    }

    /// Posts a notice; asserts the redirect back to the board.
    pub(crate) async fn add(&self, title: &str, description: &str) {
        let response = self
            .post("add", &[("title", title), ("description", description)])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text()
        );
        assert_eq!(response.location(), Some(self.board.as_str()));
    }

    /// The context key of this browser's course, from its visit's resource.
    pub(crate) async fn context_key(&self, kit: &Kit) -> axum_lti::core::ContextKey {
        let id: axum_lti::ResourceId = self
            .board
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("a resource id in the board URL");
        kit.tool
            .store()
            .find_resource(id)
            .await
            .expect("the store")
            .and_then(|r| r.context)
            .expect("a resource in a context")
    }
}

/// Writes each test once and runs it on SQLite and on PostgreSQL:
/// `async fn name(kit) { … }`.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($kit:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $kit = common::Kit::new(common::Backend::Sqlite)
                        .await
                        .expect("SQLite is always there");
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let Some($kit) = common::Kit::new(common::Backend::Postgres).await else {
                        return;
                    };
                    $body
                }
            )*
        }
    };
}
