//! The published MSSanté whitelist (`listeblanchemssante.xml`): domains under `Domaine/Nom`, in
//! the namespace `https://listeblanche.mssante.fr/schema`. Untrusted input: a small tolerant
//! reader that never panics.

pub const NAMESPACE: &str = "https://listeblanche.mssante.fr/schema";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WhitelistError {
    #[error("not an MSSanté whitelist: namespace {NAMESPACE} not declared")]
    Namespace,
    #[error("malformed whitelist: {0}")]
    Malformed(String),
}

/// The domain names listed, in document order.
pub fn parse(xml: &str) -> Result<Vec<String>, WhitelistError> {
    if !xml.contains(NAMESPACE) {
        return Err(WhitelistError::Namespace);
    }
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = find_tag(rest, "Domaine") {
        let after = &rest[start..];
        let end = find_close(after, "Domaine").ok_or_else(|| WhitelistError::Malformed("unclosed <Domaine>".into()))?;
        let block = &after[..end];
        if let Some(name) = element_text(block, "Nom") {
            let name = unescape(name.trim());
            if !name.is_empty() {
                out.push(name);
            }
        }
        rest = &after[end..];
    }
    Ok(out)
}

/// Offset of `<Tag` or `<prefix:Tag` followed by `>` or whitespace.
fn find_tag(s: &str, tag: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find('<') {
        let i = from + i;
        let name_start = i + 1;
        // A name also ends at the next `<`: otherwise each `<` of `<<<<…` rescans the rest of the
        // document and a hostile file takes quadratic time.
        let name_end =
            s[name_start..].find(|c: char| c == '>' || c == '<' || c.is_whitespace() || c == '/').map(|e| name_start + e)?;
        let name = &s[name_start..name_end];
        let local = name.rsplit(':').next().unwrap_or(name);
        if local == tag {
            return Some(i);
        }
        from = name_start;
    }
    None
}

fn find_close(s: &str, tag: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("</") {
        let i = from + i;
        let end = s[i..].find('>')? + i;
        let name = &s[i + 2..end];
        if name.rsplit(':').next() == Some(tag) {
            return Some(end + 1);
        }
        from = end;
    }
    None
}

fn element_text<'a>(block: &'a str, tag: &str) -> Option<&'a str> {
    let start = find_tag(block, tag)?;
    let open_end = block[start..].find('>')? + start + 1;
    let close = block[open_end..].find("</")? + open_end;
    Some(&block[open_end..close])
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_domains_with_or_without_prefix() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListeBlanche xmlns="https://listeblanche.mssante.fr/schema">
  <Domaine><Nom>operateur.mock.mssante.test</Nom></Domaine>
  <Domaine>
    <Nom> hôpital-fictif.mssante.test </Nom>
  </Domaine>
</ListeBlanche>"#;
        assert_eq!(parse(xml).unwrap(), ["operateur.mock.mssante.test", "hôpital-fictif.mssante.test"]);
        let prefixed = r#"<lb:Liste xmlns:lb="https://listeblanche.mssante.fr/schema"><lb:Domaine><lb:Nom>a.test</lb:Nom></lb:Domaine></lb:Liste>"#;
        assert_eq!(parse(prefixed).unwrap(), ["a.test"]);
    }

    #[test]
    fn refuses_other_documents_and_survives_garbage() {
        assert_eq!(parse("<html></html>"), Err(WhitelistError::Namespace));
        for s in ["<", "https://listeblanche.mssante.fr/schema <Domaine>", "https://listeblanche.mssante.fr/schema <Domaine><Nom>x"] {
            let _ = parse(s);
        }
    }

    #[test]
    fn many_open_brackets_take_linear_time() {
        let hostile = format!("{NAMESPACE} {}>", "<".repeat(400_000));
        let started = std::time::Instant::now();
        assert_eq!(parse(&hostile), Ok(vec![]));
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
