//! SMTP replies (RFC 5321 §4.2), with enhanced status codes (RFC 3463) in the text.

/// One reply: a code and one or more text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply { code, lines: vec![text.into()] }
    }

    pub fn multi(code: u16, lines: Vec<String>) -> Self {
        Reply { code, lines }
    }

    /// `250-first\r\n250 last\r\n`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.push_str(&format!("{}{sep}{line}\r\n", self.code));
        }
        if self.lines.is_empty() {
            out = format!("{}\r\n", self.code);
        }
        out
    }

    pub fn is_closing(&self) -> bool {
        self.code == 221 || self.code == 421
    }
}

pub fn ok(text: &str) -> Reply {
    Reply::new(250, format!("2.0.0 {text}"))
}
pub fn bad_sequence(text: &str) -> Reply {
    Reply::new(503, format!("5.5.1 {text}"))
}
pub fn tls_required() -> Reply {
    Reply::new(530, "5.7.0 Must issue a STARTTLS command first")
}
pub fn auth_required() -> Reply {
    Reply::new(530, "5.7.0 Authentication required")
}
pub fn auth_invalid() -> Reply {
    Reply::new(535, "5.7.8 Authentication credentials invalid")
}
pub fn auth_succeeded() -> Reply {
    Reply::new(235, "2.7.0 Authentication successful")
}
pub fn too_big() -> Reply {
    Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_uses_dashes_until_the_last_line() {
        let r = Reply::multi(250, vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(r.render(), "250-a\r\n250-b\r\n250 c\r\n");
        assert_eq!(ok("OK").render(), "250 2.0.0 OK\r\n");
    }
}
