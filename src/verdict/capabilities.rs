//! Judging announced capabilities (SMTP EHLO keywords, IMAP CAPABILITY atoms).

use super::check::Checks;
use crate::scenario::model::CapabilityExpect;

/// `has` / `lacks` compare the keyword (first word, case-insensitive; `AUTH=PLAIN` as a whole);
/// `auth_has` looks at SASL mechanisms (`AUTH X Y` in SMTP, `AUTH=X` in IMAP).
pub fn judge(checks: &mut Checks, expect: &CapabilityExpect, announced: &[String]) {
    let keywords: Vec<String> = announced
        .iter()
        .map(|c| c.split_whitespace().next().unwrap_or("").to_ascii_uppercase())
        .collect();
    let shown = if announced.is_empty() { "nothing announced".to_string() } else { announced.join(" | ") };
    for want in &expect.has {
        let ok = keywords.iter().any(|k| k == &want.to_ascii_uppercase());
        checks.push(format!("capability {want}"), "announced", &shown, ok);
    }
    for not in &expect.lacks {
        let ok = !keywords.iter().any(|k| k == &not.to_ascii_uppercase());
        checks.push(format!("capability {not}"), "not announced", &shown, ok);
    }
    let mechanisms = mechanisms(announced);
    for mech in &expect.auth_has {
        let ok = mechanisms.iter().any(|m| m.eq_ignore_ascii_case(mech));
        checks.push(format!("SASL mechanism {mech}"), "offered", format!("offered: {}", mechanisms.join(" ")), ok);
    }
}

/// SASL mechanisms from `AUTH X Y` (SMTP) and `AUTH=X` (IMAP) capabilities.
pub fn mechanisms(announced: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for cap in announced {
        let upper = cap.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("AUTH=") {
            out.push(rest.to_string());
        } else if upper == "AUTH" || upper.starts_with("AUTH ") {
            out.extend(upper.split_whitespace().skip(1).map(String::from));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn smtp_and_imap_styles() {
        let expect = CapabilityExpect { has: vec!["starttls".into()], lacks: vec!["AUTH".into()], auth_has: vec![] };
        let mut c = Checks::default();
        judge(&mut c, &expect, &caps(&["SIZE 100", "STARTTLS"]));
        assert!(c.0.iter().all(|x| x.passed));
        let mut c = Checks::default();
        judge(&mut c, &expect, &caps(&["STARTTLS", "AUTH PLAIN XOAUTH2"]));
        assert!(!c.0[1].passed);
        assert_eq!(mechanisms(&caps(&["AUTH PLAIN XOAUTH2", "AUTH=OAUTHBEARER"])), ["PLAIN", "XOAUTH2", "OAUTHBEARER"]);
        let expect = CapabilityExpect { has: vec![], lacks: vec!["AUTH=PLAIN".into()], auth_has: vec!["XOAUTH2".into()] };
        let mut c = Checks::default();
        judge(&mut c, &expect, &caps(&["IMAP4rev1", "AUTH=XOAUTH2"]));
        assert!(c.0.iter().all(|x| x.passed), "{:?}", c.0);
    }
}
