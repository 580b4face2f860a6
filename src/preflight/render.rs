//! The preflight table (French by default, English with `--lang en`) and its JSON form.

use super::{Finding, Status, Text, ready};
use crate::lang::Lang;

fn pick(t: &Text, lang: Lang) -> &str {
    match lang {
        Lang::Fr => &t.fr,
        Lang::En => &t.en,
    }
}

pub fn status_label(s: Status, lang: Lang) -> &'static str {
    match (s, lang) {
        (Status::Ok, _) => "OK",
        (Status::Warning, Lang::Fr) => "AVERTISSEMENT",
        (Status::Warning, Lang::En) => "WARNING",
        (Status::Fix, Lang::Fr) => "À CORRIGER",
        (Status::Fix, Lang::En) => "TO FIX",
    }
}

/// One line per finding: status, subject, check, what was seen, and what to do (`→ …`).
pub fn table(target: &str, findings: &[Finding], lang: Lang) -> String {
    let (head, cols) = match lang {
        Lang::Fr => (format!("mssconf preflight — profil « {target} » (rien n'est envoyé)\n"), ["STATUT", "OBJET", "CONTRÔLE", "CONSTAT → À FAIRE"]),
        Lang::En => (format!("mssconf preflight — profile \"{target}\" (nothing is sent)\n"), ["STATUS", "SUBJECT", "CHECK", "SEEN → TO DO"]),
    };
    let w_subject = findings.iter().map(|f| f.subject.chars().count()).max().unwrap_or(0).max(cols[1].chars().count());
    let w_check = findings.iter().map(|f| f.check.len()).max().unwrap_or(0).max(cols[2].chars().count());
    let row = |a: &str, b: &str, c: &str, d: &str| format!("{:<14} {:<w_subject$} {:<w_check$} {d}\n", a, b, c);
    let mut out = head;
    out += &row(cols[0], cols[1], cols[2], cols[3]);
    for f in findings {
        let mut seen = pick(&f.detail, lang).to_string();
        if let Some(fix) = &f.fix {
            seen += &format!(" → {}", pick(fix, lang));
        }
        out += &row(status_label(f.status, lang), &f.subject, f.check, &seen);
    }
    out += &summary(findings, lang);
    out
}

fn summary(findings: &[Finding], lang: Lang) -> String {
    let count = |s| findings.iter().filter(|f| f.status == s).count();
    let (ok, warn, fix) = (count(Status::Ok), count(Status::Warning), count(Status::Fix));
    match (lang, ready(findings)) {
        (Lang::Fr, true) => format!("\nRésumé : {ok} OK, {warn} avertissement(s), 0 à corriger — une exécution peut commencer.\n"),
        (Lang::Fr, false) => format!("\nRésumé : {ok} OK, {warn} avertissement(s), {fix} à corriger — corriger avant toute exécution.\n"),
        (Lang::En, true) => format!("\nSummary: {ok} OK, {warn} warning(s), 0 to fix — a run can start.\n"),
        (Lang::En, false) => format!("\nSummary: {ok} OK, {warn} warning(s), {fix} to fix — fix these before any run.\n"),
    }
}

/// `{ "target", "ready", "findings": [{subject, check, status, detail: {fr, en}, fix?}] }`.
pub fn json(target: &str, findings: &[Finding]) -> serde_json::Value {
    serde_json::json!({ "target": target, "ready": ready(findings), "findings": findings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::{same, text};

    #[test]
    fn the_table_has_one_line_per_check_and_says_what_to_fix() {
        let findings = vec![
            Finding::ok("smtp_starttls", "tls", same("TLSv1_3")),
            Finding::fix("per1", "token", same("env T: not set"), text("fournir le jeton", "provide the token")),
        ];
        let fr = table("op", &findings, Lang::Fr);
        assert!(fr.contains("À CORRIGER") && fr.contains("env T: not set → fournir le jeton"), "{fr}");
        assert!(fr.contains("1 à corriger — corriger avant toute exécution"), "{fr}");
        let en = table("op", &findings, Lang::En);
        assert!(en.contains("TO FIX") && en.contains("→ provide the token") && en.contains("1 to fix"), "{en}");
        assert_eq!(json("op", &findings)["ready"], false);
        assert_eq!(json("op", &findings[..1])["ready"], true);
    }
}
