//! `${namespace.path}` variables in scenario strings.
//!
//! Three namespaces: `target.*` (the target profile), `fixtures.*` (fictitious data from
//! `fixtures/`), `captured.*` (values recorded by earlier steps).

use serde_json::Value;

/// A variable reference found in a text, with its byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub offset: usize,
    /// The path between `${` and `}`, e.g. `target.mailboxes.per1.address`.
    pub path: String,
}

impl VarRef {
    pub fn namespace(&self) -> &str {
        self.path.split('.').next().unwrap_or("")
    }
}

pub const NAMESPACES: [&str; 3] = ["target", "fixtures", "captured"];

/// All `${…}` references in `text`. An unterminated `${` is returned with the rest of the text.
pub fn references(text: &str) -> Vec<VarRef> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("${") {
        let start = from + start;
        let body_start = start + 2;
        match text[body_start..].find('}') {
            Some(end) => {
                out.push(VarRef { offset: start, path: text[body_start..body_start + end].trim().to_string() });
                from = body_start + end + 1;
            }
            None => {
                out.push(VarRef { offset: start, path: text[body_start..].to_string() });
                break;
            }
        }
    }
    out
}

/// Walks a dotted path in a JSON value (`mailboxes.per1.address`).
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').filter(|s| !s.is_empty()).try_fold(root, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Renders a scalar as text for substitution; objects and arrays are not substitutable.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The values variables resolve against.
#[derive(Debug, Default, Clone)]
pub struct Vars {
    /// `{"target": …, "fixtures": …, "captured": …}`
    pub root: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undefined variable `${{{path}}}`")]
pub struct Undefined {
    pub path: String,
}

impl Vars {
    /// The variables a scenario starts with: the target profile and the fixtures, nothing
    /// captured yet.
    pub fn at_start(target: Value, fixtures: Value) -> Self {
        let mut vars = Vars::default();
        vars.set("target", target);
        vars.set("fixtures", fixtures);
        vars.set("captured", Value::Object(Default::default()));
        vars
    }

    pub fn set(&mut self, namespace: &str, value: Value) {
        self.root.insert(namespace.to_string(), value);
    }

    /// Records `captured.<name>` = value.
    pub fn capture(&mut self, name: &str, value: Value) {
        let captured = self.root.entry("captured").or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(map) = captured {
            map.insert(name.to_string(), value);
        }
    }

    pub fn get(&self, path: &str) -> Option<&Value> {
        let (ns, rest) = path.split_once('.').unwrap_or((path, ""));
        let root = self.root.get(ns)?;
        if rest.is_empty() { Some(root) } else { lookup(root, rest) }
    }

    /// Replaces every `${…}` of `text`.
    pub fn render(&self, text: &str) -> Result<String, Undefined> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for r in references(text) {
            out.push_str(&text[last..r.offset]);
            let value = self.get(&r.path).and_then(scalar_text).ok_or_else(|| Undefined { path: r.path.clone() })?;
            out.push_str(&value);
            last = r.offset + r.path.len() + 3;
            last = last.min(text.len());
            // Account for whitespace trimmed inside the braces.
            if let Some(close) = text[r.offset..].find('}') {
                last = r.offset + close + 1;
            }
        }
        out.push_str(&text[last..]);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_references_with_offsets() {
        let refs = references("to ${target.domain} and ${ captured.m1.message_id }");
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0], VarRef { offset: 3, path: "target.domain".into() });
        assert_eq!(refs[1].path, "captured.m1.message_id");
        assert_eq!(references("${unterminated").len(), 1);
    }

    #[test]
    fn renders_and_reports_undefined() {
        let mut vars = Vars::default();
        vars.set("target", json!({"mailboxes": {"per1": {"address": "a@b.test"}}, "limits": {"max": 10}}));
        vars.capture("uid", json!(42));
        let s = vars.render("<${target.mailboxes.per1.address}> ${captured.uid} ${ target.limits.max }").unwrap();
        assert_eq!(s, "<a@b.test> 42 10");
        assert_eq!(vars.render("${target.nope}").unwrap_err().path, "target.nope");
        assert!(vars.render("${target.mailboxes}").is_err(), "objects are not substitutable");
    }
}
