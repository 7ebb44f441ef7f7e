//! Just enough HTML reading for tests: attributes of a tag found by `id`
//! or by `name`, with character references decoded. Not a parser: it
//! expects the well-formed markup the framework's templates produce.

/// Decodes the character references of an attribute value or text:
/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#NN;` and `&#xHH;`.
/// Anything else is left as it is.
///
/// ```
/// assert_eq!(lti_testkit::html_unescape("a&#38;b&amp;c&#x3D;&quot;"), "a&b&c=\"");
/// ```
pub fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity.strip_prefix('#').and_then(|num| {
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            ch.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The tags of a document, as the text between `<` and `>`.
fn tags(html: &str) -> impl Iterator<Item = &str> {
    html.split('<')
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(tag, _)| tag))
}

/// The attributes of one tag's text (`a id="x" href='y' hidden`), values
/// decoded.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Skip the element name.
    let mut rest = tag.trim_start().trim_end_matches('/');
    rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, next) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let end = body.find(q).unwrap_or(body.len());
                    (&body[..end], body.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = next;
            html_unescape(value)
        } else {
            String::new()
        };
        if !name.is_empty() {
            out.push((name, value));
        }
    }
    out
}

fn attribute(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// An attribute of the first element whose `id` is `id`.
pub(crate) fn attribute_of_id(html: &str, id: &str, name: &str) -> Option<String> {
    tags(html)
        .map(attributes)
        .find(|attrs| attribute(attrs, "id").as_deref() == Some(id))
        .and_then(|attrs| attribute(&attrs, name))
}

/// The value of the first `input` element whose `name` is `name`.
pub(crate) fn input_value(html: &str, name: &str) -> Option<String> {
    tags(html)
        .filter(|tag| {
            tag.get(..5)
                .is_some_and(|start| start.eq_ignore_ascii_case("input"))
        })
        .map(attributes)
        .find(|attrs| attribute(attrs, "name").as_deref() == Some(name))
        .and_then(|attrs| attribute(&attrs, "value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_attributes_by_id() {
        let html = r#"<p><a class="b" id="wlaunch" href="http://x/wlaunch?a=1&#38;b=2" target=_blank rel='opener'>go</a></p>"#;
        assert_eq!(
            attribute_of_id(html, "wlaunch", "href").as_deref(),
            Some("http://x/wlaunch?a=1&b=2")
        );
        assert_eq!(
            attribute_of_id(html, "wlaunch", "target").as_deref(),
            Some("_blank")
        );
        assert_eq!(
            attribute_of_id(html, "wlaunch", "rel").as_deref(),
            Some("opener")
        );
        assert_eq!(attribute_of_id(html, "other", "href"), None);
    }

    #[test]
    fn finds_inputs_by_name() {
        let html = r#"<form><input type="text" name="a" value="1"><INPUT type="hidden" name="csrftoken" value="1-ab&amp;c" /></form>"#;
        assert_eq!(input_value(html, "csrftoken").as_deref(), Some("1-ab&c"));
        assert_eq!(input_value(html, "missing"), None);
    }

    #[test]
    fn leaves_unknown_references() {
        assert_eq!(
            html_unescape("a & b &nbsp; &#zz; &"),
            "a & b &nbsp; &#zz; &"
        );
        assert_eq!(html_unescape("&#233;t&#xE9;"), "été");
    }
}
