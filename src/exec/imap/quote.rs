//! Command arguments on the wire: atoms when possible, else quoted strings (RFC 3501 §4).

use super::error::ImapError;

/// `s` as an IMAP astring: an atom if every character allows it, else a quoted string.
/// Non-ASCII text is sent as UTF-8 in quotes (RFC 6855 style); modified UTF-7 is not used.
pub(crate) fn astring(s: &str) -> Result<String, ImapError> {
    if !s.is_empty() && s.bytes().all(is_astring_char) {
        Ok(s.to_string())
    } else {
        quoted(s)
    }
}

/// `s` in double quotes, `\` and `"` escaped. CR, LF and NUL cannot be quoted: the harness must
/// not have asked for them.
pub(crate) fn quoted(s: &str) -> Result<String, ImapError> {
    if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(ImapError::Harness(format!(
            "argument {:?} holds CR, LF or NUL",
            s.escape_debug().to_string()
        )));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// ASTRING-CHAR: ATOM-CHAR or `]`; ATOM-CHAR excludes `( ) { SP CTL % * " \ ]`.
pub(crate) fn is_astring_char(b: u8) -> bool {
    b.is_ascii() && !b.is_ascii_control() && !matches!(b, b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_stay_bare() {
        assert_eq!(astring("INBOX").unwrap(), "INBOX");
        assert_eq!(astring("a@op.test").unwrap(), "a@op.test");
        assert_eq!(astring("Sent]").unwrap(), "Sent]");
    }

    #[test]
    fn others_are_quoted_and_escaped() {
        assert_eq!(astring("").unwrap(), "\"\"");
        assert_eq!(astring("Mes dossiers").unwrap(), "\"Mes dossiers\"");
        assert_eq!(astring(r#"a"b\c"#).unwrap(), r#""a\"b\\c""#);
        assert_eq!(astring("Éléments").unwrap(), "\"Éléments\"");
        assert!(astring("a\r\nb").is_err());
    }
}
