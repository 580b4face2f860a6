//! The EHLO keywords a server advertises (RFC 5321 §4.1.1.1), with their parameters.

use serde::{Deserialize, Serialize};

use super::reply::Reply;

/// One advertised extension: `AUTH XOAUTH2 PLAIN` → keyword `AUTH`, params `[XOAUTH2, PLAIN]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// As sent by the server (case kept; lookups ignore case).
    pub keyword: String,
    pub params: Vec<String>,
}

/// The extensions of one EHLO reply. Empty when the reply was negative.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// The domain the server named on the first line.
    pub domain: String,
    pub extensions: Vec<Extension>,
}

impl Capabilities {
    /// Reads a 250 EHLO reply; any other reply advertises nothing.
    pub fn from_ehlo(reply: &Reply) -> Self {
        if reply.code != 250 {
            return Capabilities::default();
        }
        let domain = reply.first_line().split_whitespace().next().unwrap_or("").to_string();
        let extensions = reply.lines.iter().skip(1).filter_map(|l| parse_extension(l)).collect();
        Capabilities { domain, extensions }
    }

    /// True if `keyword` was advertised (case-insensitive).
    pub fn has(&self, keyword: &str) -> bool {
        self.get(keyword).is_some()
    }

    /// The parameters of `keyword`, if it was advertised.
    pub fn params(&self, keyword: &str) -> Option<&[String]> {
        self.get(keyword).map(|e| e.params.as_slice())
    }

    /// SASL mechanisms of the `AUTH` line, upper-cased (empty if AUTH is not advertised).
    pub fn auth_mechanisms(&self) -> Vec<String> {
        self.params("AUTH").unwrap_or_default().iter().map(|m| m.to_ascii_uppercase()).collect()
    }

    /// True if `mechanism` is on the `AUTH` line.
    pub fn supports_auth(&self, mechanism: &str) -> bool {
        self.auth_mechanisms().iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// The RFC 1870 maximum message size. `None` when SIZE is not advertised or has no
    /// (numeric) limit; use `has("SIZE")` to tell the two apart.
    pub fn size(&self) -> Option<u64> {
        self.params("SIZE")?.first()?.parse().ok()
    }

    /// RFC 3461 delivery status notifications.
    pub fn dsn(&self) -> bool {
        self.has("DSN")
    }

    pub fn starttls(&self) -> bool {
        self.has("STARTTLS")
    }

    fn get(&self, keyword: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.keyword.eq_ignore_ascii_case(keyword))
    }
}

fn parse_extension(line: &str) -> Option<Extension> {
    let mut words = line.split_whitespace();
    let keyword = words.next()?.to_string();
    Some(Extension { keyword, params: words.map(str::to_string).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ehlo(lines: &[&str]) -> Reply {
        Reply { code: 250, enhanced: None, lines: lines.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn keywords_and_params() {
        let caps = Capabilities::from_ehlo(&ehlo(&[
            "mx.op.test Hello",
            "PIPELINING",
            "SIZE 35882577",
            "auth xoauth2 Plain",
            "DSN",
            "8BITMIME",
        ]));
        assert_eq!(caps.domain, "mx.op.test");
        assert!(caps.has("pipelining") && caps.has("AUTH") && caps.dsn());
        assert!(!caps.starttls());
        assert_eq!(caps.auth_mechanisms(), ["XOAUTH2", "PLAIN"]);
        assert!(caps.supports_auth("plain"));
        assert_eq!(caps.size(), Some(35882577));
    }

    #[test]
    fn size_without_limit_and_missing_auth() {
        let caps = Capabilities::from_ehlo(&ehlo(&["mx", "SIZE", "STARTTLS"]));
        assert!(caps.has("SIZE") && caps.size().is_none() && caps.starttls());
        assert!(caps.auth_mechanisms().is_empty());
    }

    #[test]
    fn negative_reply_advertises_nothing() {
        let reply = Reply { code: 502, enhanced: None, lines: vec!["5.5.1 EHLO not supported".into()] };
        assert_eq!(Capabilities::from_ehlo(&reply), Capabilities::default());
    }
}
