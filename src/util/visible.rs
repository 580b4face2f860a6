//! Text safe to print in a report, a console or XML: control characters shown as escapes.

/// Replaces control characters (other than tab) by a visible `\xNN`, so a server sending raw
/// bytes cannot garble a report or make its XML invalid.
pub fn visible(text: &str) -> String {
    visible_keeping(text, &['\t'])
}

/// Like [`visible`], keeping the characters of `keep` as they are.
pub fn visible_keeping(text: &str, keep: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if keep.contains(&c) {
            out.push(c);
        } else if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else if matches!(c, '\u{fffe}' | '\u{ffff}') {
            // Unicode noncharacters: not allowed in XML 1.0 at all.
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(visible("a\u{1b}[31mb\tc\u{7f}"), "a\\x1b[31mb\tc\\x7f");
        assert_eq!(visible("\u{ffff}\u{85}é\n"), "\\u{ffff}\\x85é\\x0a");
        assert_eq!(visible_keeping("a\nb\u{0}", &['\n']), "a\nb\\x00");
    }
}
