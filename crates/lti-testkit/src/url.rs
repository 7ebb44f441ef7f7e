//! Request targets: a path (`/ctest?…`) or an absolute URL as found in a
//! `Location` header (`http://localhost:8080/ctest?…`).

/// Splits a target into its path-and-query (always starting with `/`) and
/// its authority (`host[:port]`) when it was an absolute URL. A fragment
/// is dropped, as a browser does.
pub(crate) fn split_target(target: &str) -> (String, Option<String>) {
    let target = target.split('#').next().unwrap_or_default();
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        Some(&target[7..])
    } else if lower.starts_with("https://") {
        Some(&target[8..])
    } else {
        None
    };
    match rest {
        Some(rest) => {
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            let authority = rest[..end].to_owned();
            let path = &rest[end..];
            let path = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            };
            (path, Some(authority))
        }
        None if target.starts_with('/') => (target.to_owned(), None),
        None => (format!("/{target}"), None),
    }
}

/// The path of a path-and-query.
pub(crate) fn path_only(path_and_query: &str) -> &str {
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_absolute_and_relative_targets() {
        assert_eq!(
            split_target("http://localhost:8080/ctest?a=1#frag"),
            ("/ctest?a=1".into(), Some("localhost:8080".into()))
        );
        assert_eq!(
            split_target("HTTPS://x.org?q"),
            ("/?q".into(), Some("x.org".into()))
        );
        assert_eq!(
            split_target("https://x.org"),
            ("/".into(), Some("x.org".into()))
        );
        assert_eq!(split_target("/launch"), ("/launch".into(), None));
        assert_eq!(split_target("launch"), ("/launch".into(), None));
        assert_eq!(path_only("/a/b?c=d"), "/a/b");
    }
}
