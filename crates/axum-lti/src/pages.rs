//! Every page a person sees, as askama templates behind the [`Pages`] trait.
//!
//! The templates live in the repository's `templates/` folder. A tool author
//! restyles any page by implementing [`Pages`] and overriding the methods
//! they care about; the rest keep the defaults.

use askama::Template;

/// An error page: status, a short title and a message that says what was
/// wrong. `doctor` holds the launch doctor's findings when
/// `launch.debug_launch` is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    /// HTTP status code.
    pub status: u16,
    /// Short title, e.g. "Launch refused".
    pub title: String,
    /// What was wrong and what to do, in plain words.
    pub message: String,
    /// Named findings of the launch doctor (never secrets).
    pub doctor: Option<Vec<(String, String)>>,
}

/// The page shown inside a frame whose cookies did not come back: a link
/// (element id `wlaunch`) that opens the tool in a new window (spec §4.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieTestPage {
    /// The `/wlaunch` URL the link opens, target `_blank`.
    pub wlaunch_url: String,
    /// How long the link stays valid, in minutes.
    pub valid_minutes: i64,
}

/// The page shown when cookies are refused even in a new window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieFailurePage {
    /// The tool's host name, to tell the person which site to allow.
    pub host: String,
}

/// The default resource page's data (spec §6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePage {
    /// Page title: the resource title, or `Resource: <link id>`.
    pub title: String,
    /// The user's display name, possibly empty.
    pub display_name: String,
    /// The context's title or label, or a dash.
    pub context: String,
    /// The resource's link id.
    pub resource: String,
    /// The launch's roles, comma separated.
    pub roles: String,
    /// The permission bits, e.g. `READ|WRITE|CONFIGURE (7)`.
    pub permissions: String,
}

/// Renders the pages the framework shows. Override any method to restyle a
/// page; each returns a complete HTML document.
///
/// ```
/// use axum_lti::{ErrorPage, Pages};
/// struct Plain;
/// impl Pages for Plain {
///     fn error(&self, page: &ErrorPage) -> String {
///         format!("<!DOCTYPE html><title>Error</title><p>{}</p>", page.status)
///     }
/// }
/// ```
pub trait Pages: Send + Sync + 'static {
    /// An error page.
    fn error(&self, page: &ErrorPage) -> String {
        render(&ErrorTemplate { page })
    }

    /// The cookie test's "open in a new window" page.
    fn cookie_test(&self, page: &CookieTestPage) -> String {
        render(&CookieTestTemplate { page })
    }

    /// The cookie failure page.
    fn cookie_failure(&self, page: &CookieFailurePage) -> String {
        render(&CookieFailureTemplate { page })
    }

    /// The default resource page.
    fn resource(&self, page: &ResourcePage) -> String {
        render(&ResourceTemplate { page })
    }
}

/// The framework's own pages.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPages;

impl Pages for DefaultPages {}

/// Renders a template; a render failure (which askama's checked templates
/// make all but impossible) becomes a minimal plain page rather than a panic.
pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|err| {
        tracing::error!(%err, "template failed to render");
        String::from("<!DOCTYPE html><title>Error</title><p>This page could not be shown.</p>")
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    page: &'a ErrorPage,
}

#[derive(Template)]
#[template(path = "cookie_test.html")]
struct CookieTestTemplate<'a> {
    page: &'a CookieTestPage,
}

#[derive(Template)]
#[template(path = "cookie_failure.html")]
struct CookieFailureTemplate<'a> {
    page: &'a CookieFailurePage,
}

#[derive(Template)]
#[template(path = "resource.html")]
struct ResourceTemplate<'a> {
    page: &'a ResourcePage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_escapes_and_shows_the_doctor() {
        let html = DefaultPages.error(&ErrorPage {
            status: 401,
            title: "Launch refused".into(),
            message: "bad <signature>".into(),
            doctor: Some(vec![("base string".into(), "POST&a".into())]),
        });
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("bad &#60;signature&#62;") || html.contains("bad &lt;signature&gt;"));
        assert!(html.contains("Launch doctor"));
        assert!(html.contains("POST&amp;a") || html.contains("POST&#38;a"));
    }

    #[test]
    fn cookie_test_page_has_the_new_window_link() {
        let html = DefaultPages.cookie_test(&CookieTestPage {
            wlaunch_url: "http://localhost:8080/wlaunch?return=x&s=y".into(),
            valid_minutes: 2,
        });
        assert!(html.contains(r#"id="wlaunch""#));
        assert!(html.contains(r#"target="_blank""#));
        assert!(
            html.contains("wlaunch?return=x&amp;s=y") || html.contains("wlaunch?return=x&#38;s=y")
        );
    }
}
