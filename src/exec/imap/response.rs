//! Server responses as the harness reports them: status lines with their response code, and the
//! untagged lines of a command. Parsed leniently by hand so that an odd but readable reply is
//! still observed (and judged later) rather than lost as a parse error.

use serde::{Deserialize, Serialize};

/// The condition of a status response (RFC 3501 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StatusKind {
    Ok,
    No,
    Bad,
    /// `* BYE`: the server is closing the connection.
    Bye,
    /// `* PREAUTH` greeting: already authenticated.
    Preauth,
}

impl StatusKind {
    fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_uppercase().as_str() {
            "OK" => Some(StatusKind::Ok),
            "NO" => Some(StatusKind::No),
            "BAD" => Some(StatusKind::Bad),
            "BYE" => Some(StatusKind::Bye),
            "PREAUTH" => Some(StatusKind::Preauth),
            _ => None,
        }
    }
}

/// A status response: `OK`/`NO`/`BAD`/`BYE`, its response code, its human text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub kind: StatusKind,
    /// The bracketed response code as sent, without brackets (`AUTHENTICATIONFAILED`,
    /// `CAPABILITY IMAP4rev1 IDLE`, `APPENDUID 38505 3955`).
    pub code: Option<String>,
    pub text: String,
}

impl Status {
    pub fn is_ok(&self) -> bool {
        self.kind == StatusKind::Ok
    }

    /// The code's name, upper-cased (`APPENDUID` for `APPENDUID 38505 3955`).
    pub fn code_name(&self) -> Option<String> {
        let code = self.code.as_deref()?;
        Some(code.split_whitespace().next().unwrap_or("").to_ascii_uppercase())
    }

    /// The code's arguments (`38505 3955` for `APPENDUID 38505 3955`).
    pub fn code_args(&self) -> Option<&str> {
        let code = self.code.as_deref()?;
        Some(
            code.split_once(char::is_whitespace)
                .map(|(_, a)| a.trim())
                .unwrap_or(""),
        )
    }

    /// A number argument of a code named `name` (`UIDNEXT 12` → 12).
    pub(crate) fn code_number(&self, name: &str, index: usize) -> Option<u32> {
        if self.code_name()? != name {
            return None;
        }
        self.code_args()?.split_whitespace().nth(index)?.parse().ok()
    }

    /// The capabilities of a `[CAPABILITY …]` code.
    pub(crate) fn capabilities(&self) -> Option<Vec<String>> {
        if self.code_name()? != "CAPABILITY" {
            return None;
        }
        Some(self.code_args()?.split_whitespace().map(str::to_string).collect())
    }

    /// Parses `OK [CODE args] text` (what follows the tag or `*`). `None` if the first word is
    /// not a status condition.
    pub(crate) fn parse(rest: &str) -> Option<Status> {
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        let kind = StatusKind::parse(word)?;
        let after = after.trim_start();
        let (code, text) = match after.strip_prefix('[').and_then(|s| s.split_once(']')) {
            Some((code, text)) => (Some(code.trim().to_string()), text.trim()),
            None => (None, after.trim()),
        };
        Some(Status {
            kind,
            code,
            text: text.to_string(),
        })
    }

    /// The status the harness reports when the server closed after `* BYE` without a tagged reply.
    pub(crate) fn bye(text: &str) -> Status {
        Status {
            kind: StatusKind::Bye,
            code: None,
            text: text.to_string(),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = format!("{:?}", self.kind).to_ascii_uppercase();
        match &self.code {
            Some(code) => write!(f, "{kind} [{code}] {}", self.text),
            None => write!(f, "{kind} {}", self.text),
        }
    }
}

/// What a command got back: its untagged lines and its tagged status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The untagged responses as sent (one string per response, literals shown inline when short
    /// text, else as `<literal N bytes, sha256 …>`).
    pub untagged: Vec<String>,
    pub status: Status,
}

/// The server greeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// `OK`, `PREAUTH` or `BYE`.
    pub status: Status,
    /// From a `[CAPABILITY …]` code in the greeting, if any.
    pub capabilities: Option<Vec<String>>,
}

/// What kind of server message a first line starts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// `* …`: what follows the star.
    Untagged(&'a str),
    /// `+ …`: what follows the plus (challenge or human text).
    Continuation(&'a str),
    Tagged {
        tag: &'a str,
        rest: &'a str,
    },
}

pub(crate) fn classify(head: &str) -> Kind<'_> {
    if let Some(rest) = head.strip_prefix('*') {
        return Kind::Untagged(rest.trim_start());
    }
    if let Some(rest) = head.strip_prefix('+') {
        return Kind::Continuation(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let (tag, rest) = head.split_once(' ').unwrap_or((head, ""));
    Kind::Tagged { tag, rest }
}

/// `CAPABILITY IMAP4rev1 IDLE` (untagged, after the star) → its capabilities.
pub(crate) fn untagged_capabilities(rest: &str) -> Option<Vec<String>> {
    let mut words = rest.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("CAPABILITY") {
        return None;
    }
    Some(words.map(str::to_string).collect())
}

/// `3 EXISTS` → 3.
pub(crate) fn untagged_exists(rest: &str) -> Option<u32> {
    let mut words = rest.split_whitespace();
    let n = words.next()?.parse().ok()?;
    words.next()?.eq_ignore_ascii_case("EXISTS").then_some(n)
}

/// `SEARCH 4 9` → [4, 9]; stops at a parenthesised modifier such as `(MODSEQ 7)`.
pub(crate) fn untagged_search(rest: &str) -> Option<Vec<u32>> {
    let mut words = rest.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("SEARCH") {
        return None;
    }
    Some(
        words
            .take_while(|w| !w.starts_with('('))
            .filter_map(|w| w.parse().ok())
            .collect(),
    )
}

/// Case-insensitive capability lookup (`IDLE`, `AUTH=XOAUTH2`).
pub(crate) fn has_capability(caps: &[String], name: &str) -> bool {
    caps.iter().any(|c| c.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_with_code() {
        let s = Status::parse("NO [AUTHENTICATIONFAILED] Invalid credentials").unwrap();
        assert_eq!(s.kind, StatusKind::No);
        assert_eq!(s.code.as_deref(), Some("AUTHENTICATIONFAILED"));
        assert_eq!(s.code_name().as_deref(), Some("AUTHENTICATIONFAILED"));
        assert_eq!(s.text, "Invalid credentials");
        assert_eq!(s.to_string(), "NO [AUTHENTICATIONFAILED] Invalid credentials");
    }

    #[test]
    fn status_code_arguments() {
        let s = Status::parse("ok [APPENDUID 38505 3955] APPEND completed").unwrap();
        assert!(s.is_ok());
        assert_eq!(s.code_number("APPENDUID", 1), Some(3955));
        assert_eq!(s.code_number("UIDNEXT", 0), None);
        let c = Status::parse("OK [CAPABILITY IMAP4rev1 IDLE AUTH=XOAUTH2] hi").unwrap();
        assert_eq!(c.capabilities().unwrap(), vec!["IMAP4rev1", "IDLE", "AUTH=XOAUTH2"]);
    }

    #[test]
    fn status_without_text_or_code() {
        assert_eq!(Status::parse("OK").unwrap().text, "");
        assert_eq!(Status::parse("BAD [unclosed").unwrap().code, None);
        assert_eq!(Status::parse("3 EXISTS"), None);
    }

    #[test]
    fn classification() {
        assert_eq!(classify("* 3 EXISTS"), Kind::Untagged("3 EXISTS"));
        assert_eq!(classify("+ eyJ9"), Kind::Continuation("eyJ9"));
        assert_eq!(classify("+"), Kind::Continuation(""));
        assert_eq!(
            classify("a1 OK done"),
            Kind::Tagged {
                tag: "a1",
                rest: "OK done"
            }
        );
        assert_eq!(
            classify("garbage"),
            Kind::Tagged {
                tag: "garbage",
                rest: ""
            }
        );
    }

    #[test]
    fn untagged_data() {
        assert_eq!(untagged_exists("3 EXISTS"), Some(3));
        assert_eq!(untagged_exists("3 RECENT"), None);
        assert_eq!(untagged_search("SEARCH 4 9"), Some(vec![4, 9]));
        assert_eq!(untagged_search("SEARCH"), Some(vec![]));
        assert_eq!(untagged_search("SEARCH 4 (MODSEQ 7)"), Some(vec![4]));
        assert_eq!(untagged_capabilities("CAPABILITY IMAP4rev1 IDLE").unwrap().len(), 2);
        assert!(has_capability(&["idle".into()], "IDLE"));
    }
}
