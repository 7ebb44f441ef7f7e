//! The tool configuration XML an LMS imports: an IMS Common Cartridge
//! `cartridge_basiclti_link` (LTI 1.1 §"Basic LTI Link XML"; field survey
//! §1c "Tool config XML").

use crate::root::AppRoot;

/// Escapes text for XML character data and attribute values.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The configuration XML for a tool at `root`: title, description and the
/// launch URL (`secure_launch_url` too when the root is https).
pub fn cartridge_xml(title: &str, description: &str, root: &AppRoot) -> String {
    let launch = xml_escape(&root.join("launch"));
    let secure = if root.is_https() {
        format!("\n  <blti:secure_launch_url>{launch}</blti:secure_launch_url>")
    } else {
        String::new()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0"
    xmlns:blti="http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
    xmlns:lticm="http://www.imsglobal.org/xsd/imslticm_v1p0"
    xmlns:lticp="http://www.imsglobal.org/xsd/imslticp_v1p0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.imsglobal.org/xsd/imslticc_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticc_v1p0.xsd http://www.imsglobal.org/xsd/imsbasiclti_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imsbasiclti_v1p0.xsd http://www.imsglobal.org/xsd/imslticm_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticm_v1p0.xsd http://www.imsglobal.org/xsd/imslticp_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticp_v1p0.xsd">
  <blti:title>{title}</blti:title>
  <blti:description>{description}</blti:description>
  <blti:launch_url>{launch}</blti:launch_url>{secure}
  <blti:vendor>
    <lticp:code>axum-lti</lticp:code>
    <lticp:name>axum-lti</lticp:name>
  </blti:vendor>
  <cartridge_bundle identifierref="BLTI001_Bundle"/>
  <cartridge_icon identifierref="BLTI001_Icon"/>
</cartridge_basiclti_link>
"#,
        title = xml_escape(title),
        description = xml_escape(description),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_names_the_launch_url() {
        let root = AppRoot::parse("https://tools.example.edu/my&tool").expect("valid root");
        let xml = cartridge_xml("A <b> tool", "Q&A", &root);
        assert!(xml.contains("<blti:title>A &lt;b&gt; tool</blti:title>"));
        assert!(xml.contains("<blti:description>Q&amp;A</blti:description>"));
        assert!(xml.contains(
            "<blti:launch_url>https://tools.example.edu/my&amp;tool/launch</blti:launch_url>"
        ));
        assert!(xml.contains("<blti:secure_launch_url>"));
        assert_eq!(xml_escape("a\u{1}b"), "ab");
    }
}
