//! Trunk starts the app with a small inline `<script type="module">` in `index.html`. The
//! site's Content-Security-Policy runs no inline script (`script-src 'self'`), so after each
//! build this moves every inline script into a file of its own, `boot-<hash>.js`, named by
//! its content like the rest of the bundle, and points the tag at it. The policy can then
//! stay the same for every build, on the self-hosted server and on CloudFront alike, with no
//! per-build hashes or nonces.

use std::path::Path;

use crate::Result;
use crate::service_worker::build_id;

/// Rewrites `index.html` in `staging` and writes the scripts beside it.
pub fn externalize(staging: &Path) -> Result {
    let index = staging.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|e| format!("reading index.html: {e}"))?;
    let (page, scripts) = split_out(&html)?;
    for (name, body) in &scripts {
        std::fs::write(staging.join(name), body).map_err(|e| format!("writing {name}: {e}"))?;
    }
    std::fs::write(&index, page).map_err(|e| format!("writing index.html: {e}"))
}

/// The page with each inline script's body replaced by a `src` to a file, and the files
/// (name, content).
fn split_out(html: &str) -> Result<(String, Vec<(String, String)>)> {
    let mut page = String::with_capacity(html.len());
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        page.push_str(&rest[..start]);
        let tag_end = rest[start..]
            .find('>')
            .map(|i| start + i)
            .ok_or("index.html: a <script> tag is not closed")?;
        let open_tag = &rest[start..tag_end];
        let close = rest[tag_end..]
            .find("</script>")
            .map(|i| tag_end + i)
            .ok_or("index.html: a <script> has no </script>")?;
        let body = &rest[tag_end + 1..close];
        if open_tag.contains(" src=") || body.trim().is_empty() {
            page.push_str(&rest[start..close]);
        } else {
            let name = format!(
                "boot-{}.js",
                build_id(&[(String::new(), body.as_bytes().to_vec())])
            );
            // Whatever else the tag said (type="module") stays; a nonce would mean nothing.
            let attributes: String = open_tag["<script".len()..]
                .split_whitespace()
                .filter(|a| !a.starts_with("nonce="))
                .map(|a| format!(" {a}"))
                .collect();
            page.push_str(&format!("<script{attributes} src=\"/{name}\">"));
            scripts.push((name, body.to_string()));
        }
        rest = &rest[close..];
        page.push_str("</script>");
        rest = &rest["</script>".len()..];
    }
    page.push_str(rest);
    Ok((page, scripts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_module_script_becomes_a_file_and_the_rest_stays() {
        let html = "<head><script type=\"module\" nonce=\"x\">\nimport init from '/web-1.js';\nawait init();\n</script>\
            <script src=\"/a.js\"></script><title>t</title></head>";
        let (page, scripts) = split_out(html).unwrap();
        assert_eq!(scripts.len(), 1);
        let (name, body) = &scripts[0];
        assert!(name.starts_with("boot-") && name.ends_with(".js") && name.len() == 24);
        assert_eq!(body, "\nimport init from '/web-1.js';\nawait init();\n");
        assert_eq!(
            page,
            format!(
                "<head><script type=\"module\" src=\"/{name}\"></script><script src=\"/a.js\"></script><title>t</title></head>"
            )
        );
        // Run again on its own output: nothing inline is left to move.
        let (again, none) = split_out(&page).unwrap();
        assert_eq!(again, page);
        assert!(none.is_empty());
    }

    #[test]
    fn a_page_without_scripts_is_unchanged_and_a_broken_one_is_an_error() {
        assert_eq!(split_out("<p>hi</p>").unwrap().0, "<p>hi</p>");
        assert!(split_out("<script>never closed").is_err());
    }
}
