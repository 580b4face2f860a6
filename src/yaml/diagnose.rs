//! serde-saphyr's errors as our positioned [`LoadError`]s: `file:line:column: problem; expected …`.
//! Resource limits (alias bombs, nesting, sizes) are named with the limit that was hit; the
//! parser's terse syntax messages get a hint of what the file should have held there.

use std::path::Path;

use serde_saphyr::budget::BudgetBreach;

use super::error::{LoadError, LoadErrorKind, Span};
use super::limits::{MAX_FILE_BYTES, yaml_alias_limits, yaml_budget};

/// Where a syntax error has no better hint.
const WELL_FORMED: &str = "well-formed YAML (check quotes, brackets and indentation up to this point)";

/// Translates one error of serde-saphyr for `file` (whose text is `source`).
pub fn convert(file: &Path, source: &str, e: &serde_saphyr::Error) -> LoadError {
    let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    let span = Span::new(file, line, column);
    if let Some((message, expected)) = limit_hit(root_cause(e)) {
        return LoadError::new(span, LoadErrorKind::TooLarge, message).expected(expected);
    }
    let text = e.without_snippet().to_string();
    // serde-saphyr prefixes "error: line N column M: "; we print our own position.
    let text = text.lines().next().unwrap_or_default().trim();
    let text = strip_position_suffix(strip_position_prefix(text));
    let (kind, message, expected) = describe(text, source);
    let mut err = LoadError::new(span, kind, message);
    err.expected = Some(expected);
    err
}

/// The error under alias and snippet wrappers.
fn root_cause(mut e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. } | serde_saphyr::Error::WithSnippet { error, .. } = e {
        e = error;
    }
    e
}

/// A resource limit of [`super::limits::yaml_options`], as (what happened, what is allowed).
fn limit_hit(e: &serde_saphyr::Error) -> Option<(String, String)> {
    use serde_saphyr::Error as E;
    let aliases = yaml_alias_limits();
    Some(match e {
        E::Budget { breach, .. } => budget_breach(breach),
        E::AliasReplayLimitExceeded { .. } => (
            format!("aliases expand to more than {} nodes (an alias bomb?)", aliases.max_total_replayed_events),
            format!("anchors and aliases expanding to at most {} nodes", aliases.max_total_replayed_events),
        ),
        E::AliasExpansionLimitExceeded { max_expansions_per_anchor, .. } => (
            format!("one anchor is used more than {max_expansions_per_anchor} times"),
            format!("each anchor used at most {max_expansions_per_anchor} times"),
        ),
        E::AliasReplayStackDepthExceeded { max_depth, .. } => (
            format!("aliases nested more than {max_depth} deep"),
            format!("aliases nested at most {max_depth} deep"),
        ),
        _ => return None,
    })
}

fn budget_breach(breach: &BudgetBreach) -> (String, String) {
    let b = yaml_budget();
    let (what, allowed) = match breach {
        BudgetBreach::Depth { .. } => (format!("nesting deeper than {} levels", b.max_depth), format!("at most {} nested lists or mappings", b.max_depth)),
        BudgetBreach::Documents { .. } => ("more than one YAML document (`---`)".into(), "one document per file".into()),
        BudgetBreach::Events { .. } => (format!("more than {} YAML events", b.max_events), format!("at most {} events", b.max_events)),
        BudgetBreach::Nodes { .. } => (format!("more than {} values", b.max_nodes), format!("at most {} values (lists, mappings, scalars)", b.max_nodes)),
        BudgetBreach::Aliases { .. } => (format!("more than {} aliases", b.max_aliases), format!("at most {} aliases", b.max_aliases)),
        BudgetBreach::Anchors { .. } => (format!("more than {} anchors", b.max_anchors), format!("at most {} anchors", b.max_anchors)),
        BudgetBreach::MergeKeys { .. } => (format!("more than {} merge keys `<<`", b.max_merge_keys), format!("at most {} merge keys", b.max_merge_keys)),
        BudgetBreach::ScalarBytes { .. } => (
            format!("text values add up to more than {} bytes once aliases are expanded", b.max_total_scalar_bytes),
            format!("at most {} bytes of text ({} × the file size cap)", b.max_total_scalar_bytes, b.max_total_scalar_bytes as u64 / MAX_FILE_BYTES),
        ),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => (
            format!("{aliases} aliases for {anchors} anchor(s) (an alias bomb?)"),
            format!("at most {} aliases per anchor", b.alias_anchor_ratio_multiplier),
        ),
        BudgetBreach::RecordedAnchorEvents { .. } => (
            format!("anchored content holds more than {} nodes (an alias bomb?)", b.max_recorded_anchor_events),
            format!("anchors holding at most {} nodes in all", b.max_recorded_anchor_events),
        ),
        BudgetBreach::RecordedAnchorBytes { .. } => (
            format!("anchored content holds more than {} bytes", b.max_recorded_anchor_bytes),
            format!("anchors holding at most {} bytes in all", b.max_recorded_anchor_bytes),
        ),
        other => (format!("YAML resource limit exceeded ({other:?})"), "a smaller, simpler file".into()),
    };
    (what, allowed)
}

/// (kind, what is wrong, what was expected) for serde-saphyr's message `text`.
fn describe(text: &str, source: &str) -> (LoadErrorKind, String, String) {
    use LoadErrorKind::{Syntax, TooLarge};
    let syntax = |m: &str, e: &str| (Syntax, m.to_string(), e.to_string());
    if let Some(rest) = text.strip_prefix("expected ") {
        // serde-saphyr's "expected string scalar": the value has the wrong shape.
        return syntax("wrong type", &shape(rest));
    }
    if let Some((m, exp)) = text.split_once(", expected ").or_else(|| text.split_once("; expected ")) {
        return syntax(m, exp);
    }
    if let Some(expected) = scalar_type(text) {
        return syntax(&format!("wrong type ({text})"), expected);
    }
    if let Some(field) = text.strip_prefix("missing field ") {
        return syntax(text, &format!("`{}: …` in this mapping", field.trim_matches('`')));
    }
    if let Some(rest) = text.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set DuplicateKeyPolicy").next().unwrap_or(rest);
        return (LoadErrorKind::Duplicate, format!("duplicate key `{key}`"), "each key once per mapping".into());
    }
    let table: [(&str, &str, &str); 9] = [
        ("invalid trailing content after", "unexpected content after a quoted value", "a line break, a comment or `,` `]` `}` after the closing quote"),
        ("recursion limit exceeded", "", ""),
        ("unclosed quote", "unclosed quote", "the closing quote of the string that starts here"),
        ("alias references unknown anchor", "alias to an unknown anchor", "an anchor `&name` defined earlier in the file"),
        ("BOM must not appear", "byte-order mark (U+FEFF) inside the document", "a BOM only at the very start of the file"),
        ("tabs disallowed", "tab used for indentation", "spaces for indentation (YAML forbids tabs there)"),
        ("cannot deserialize null into string", "empty value", "a text (write `\"\"` for an empty one)"),
        ("merge value must be mapping", "`<<` merges something that is not a mapping", "a mapping or a list of mappings after `<<`"),
        ("unknown tag", "", "no YAML tag (`!name`): tags are not supported"),
    ];
    if text.contains("recursion limit exceeded") {
        let depth = yaml_budget().flow_nesting_limit;
        return (TooLarge, format!("nesting deeper than {depth} levels"), format!("at most {depth} nested lists or mappings"));
    }
    if let Some(ch) = text.strip_prefix("unexpected character: `").and_then(|c| c.strip_suffix('\'')) {
        return syntax(&format!("unexpected character `{ch}`"), "printable text (no control characters)");
    }
    if let Some(tag) = text.strip_prefix("unsupported tag ") {
        return syntax(&format!("unsupported tag {tag}"), "no YAML tag (`!name`): tags are not supported");
    }
    if let Some((_, m, e)) = table.iter().find(|(needle, _, _)| text.contains(needle)) {
        let m = if m.is_empty() { format!("YAML: {text}") } else { (*m).to_string() };
        return syntax(&m, e);
    }
    if text.contains("unexpected end of input") {
        return if has_content(source) {
            syntax("the file ends inside an unfinished value", WELL_FORMED)
        } else {
            syntax("the file holds no YAML value (empty or only comments)", "a YAML mapping")
        };
    }
    syntax(&format!("YAML: {text}"), WELL_FORMED)
}

/// serde-saphyr's name of a YAML shape, in the words of the file's author.
fn shape(rest: &str) -> String {
    match rest.trim() {
        "mapping start" => "a mapping (`key: value` entries)".into(),
        "sequence start" => "a list (`[a, b]` or `- a` lines)".into(),
        "string scalar" => "a text value".into(),
        other => other.to_string(),
    }
}

/// Anything but blank lines, comments and document markers.
fn has_content(source: &str) -> bool {
    source.lines().map(str::trim).any(|l| !l.is_empty() && !l.starts_with('#') && l != "---" && l != "...")
}

/// serde-saphyr says `invalid u64` for a scalar of the wrong type: name what was expected.
fn scalar_type(text: &str) -> Option<&'static str> {
    let ty = text.strip_prefix("invalid ")?;
    Some(match ty.trim() {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "bool" | "boolean" => "true or false",
        "char" => "a single character",
        _ => return None,
    })
}

fn strip_position_prefix(text: &str) -> &str {
    let t = text.strip_prefix("error: ").unwrap_or(text);
    if t.starts_with("line ")
        && let Some(idx) = t.find(": ")
    {
        return &t[idx + 2..];
    }
    t
}

fn strip_position_suffix(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(idx) if text[idx..].contains(", column ") => &text[..idx],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_messages_say_what_was_expected() {
        let (_, m, e) = describe("unclosed quote", "a: \"x");
        assert_eq!((m.as_str(), e.as_str()), ("unclosed quote", "the closing quote of the string that starts here"));
        let (k, m, e) = describe("duplicate mapping key: title, set DuplicateKeyPolicy in Options if acceptable", "");
        assert_eq!((k, m.as_str(), e.as_str()), (LoadErrorKind::Duplicate, "duplicate key `title`", "each key once per mapping"));
        let (_, m, _) = describe("unexpected end of input", "# only a comment\n");
        assert!(m.contains("no YAML value"), "{m}");
        let (_, m, _) = describe("unexpected end of input", "a: [1,\n");
        assert!(m.contains("unfinished"), "{m}");
        let (_, m, _) = describe("unexpected character: `\\u{0}'", "x");
        assert_eq!(m, "unexpected character `\\u{0}`");
        let (_, m, e) = describe("something new", "x");
        assert_eq!((m.as_str(), e.as_str()), ("YAML: something new", WELL_FORMED));
    }

    #[test]
    fn numbers_name_their_range() {
        let (_, m, e) = describe("invalid u16", "");
        assert_eq!((m.as_str(), e.as_str()), ("wrong type (invalid u16)", "a whole number from 0 to 65535"));
    }

    #[test]
    fn limits_are_named_with_their_value() {
        let (m, e) = budget_breach(&BudgetBreach::Depth { depth: 40 });
        assert_eq!(m, format!("nesting deeper than {} levels", yaml_budget().max_depth));
        assert!(e.starts_with("at most"), "{e}");
    }
}
