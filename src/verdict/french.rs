//! French wording of the harness's own English texts — check descriptions, reasons, skip
//! reasons, notes — for the French outputs (HTML, cards, logs, audit screen, JUnit): the
//! verdict's words in the run's language, beside the verdict so every output shares them. The record keeps the
//! English (`report.json` is for tools). What a server sent (replies, certificate names) is
//! evidence and is never translated: only whole known phrases and the harness's own sentence
//! shapes are; anything else is shown as it is.

use crate::lang::Lang;
use crate::verdict::Check;

/// Whole check descriptions (`what`).
const WHAT: &[(&str, &str)] = &[
    ("reply code", "code de réponse"),
    ("reply text", "texte de la réponse"),
    ("enhanced status", "code d'état étendu"),
    ("submission outcome", "issue de la soumission"),
    ("tagged status", "statut de la réponse"),
    ("response code", "code de la réponse"),
    ("response text", "texte de la réponse"),
    ("untagged responses", "réponses non étiquetées"),
    ("message found", "message trouvé"),
    ("result count", "nombre de résultats"),
    ("wait method", "méthode d'attente"),
    ("fetched message", "message relu"),
    ("comparison with the sent message", "comparaison avec le message envoyé"),
    ("report", "rapport"),
    ("report type", "type de rapport"),
    ("connection closed by server", "connexion fermée par le serveur"),
    ("SASL challenge", "défi SASL"),
    ("HTTP status", "statut HTTP"),
    ("body", "corps"),
    ("whitelist document", "document de liste blanche"),
    ("TLS handshake", "poignée de main TLS"),
    ("TLS version", "version TLS"),
    ("server chain verified against the target's trust anchors", "chaîne du serveur vérifiée avec les ancres de confiance de la cible"),
    ("cipher suite in the allow-list", "suite de chiffrement dans la liste autorisée"),
];

/// Whole values (`expected`, `actual`) the harness writes itself.
const VALUES: &[(&str, &str)] = &[
    ("announced", "annoncé"),
    ("not announced", "non annoncé"),
    ("nothing announced", "rien d'annoncé"),
    ("offered", "proposé"),
    ("absent", "absent"),
    ("none", "aucun"),
    ("done", "faite"),
    ("not possible", "impossible"),
    ("not a report", "pas un rapport"),
    ("a message", "un message"),
    ("none fetched", "aucun relu"),
    ("an MSSanté whitelist XML", "une liste blanche MSSanté (XML)"),
    ("not a whitelist", "pas une liste blanche"),
    ("listed", "listé"),
    ("not listed", "non listé"),
    ("established", "établie"),
    ("refused", "refusée"),
    ("accepted", "acceptée"),
    ("accepted (every command)", "acceptée (toutes les commandes)"),
    ("true", "oui"),
    ("false", "non"),
    ("not verified", "non vérifiée"),
    ("no TLS", "pas de TLS"),
    ("no reply", "aucune réponse"),
    ("no status", "aucun statut"),
    ("no wait", "aucune attente"),
    ("nothing found", "rien trouvé"),
    ("polling (200 ms)", "interrogation périodique (200 ms)"),
    ("idle", "IDLE"),
];

fn exact(table: &[(&str, &'static str)], s: &str) -> Option<&'static str> {
    table.iter().find(|(en, _)| *en == s).map(|(_, fr)| *fr)
}

/// A check description in French.
pub fn what(s: &str) -> String {
    if let Some(fr) = exact(WHAT, s) {
        return fr.into();
    }
    if let Some(rest) = s.strip_prefix("offer TLS 1.2 suite family ") {
        return format!("offre TLS 1.2, famille {}", rest.replace("suite(s) outside the allow-list", "suite(s) hors de la liste autorisée"));
    }
    let prefixes: [(&str, &str, &str); 6] = [
        ("capability ", "capacité ", ""),
        ("SASL mechanism ", "mécanisme SASL ", ""),
        ("whitelist entry ", "entrée de la liste blanche ", ""),
        ("offer ", "offre ", ""),
        ("part ", "partie ", ""),
        ("header ", "en-tête ", ""),
    ];
    for (en, fr, _) in prefixes {
        if let Some(rest) = s.strip_prefix(en) {
            let rest = rest.replace(" sha256 as sent", " : SHA-256 identique à l'envoi").replace(" as sent", " identique à l'envoi");
            return format!("{fr}{rest}");
        }
    }
    s.to_string()
}

/// An expected value in French (always the harness's own text: `TLSv1_2 or TLSv1_3` too).
pub fn expected(s: &str) -> String {
    let v = value(s);
    if v == s { s.replace(" or ", " ou ") } else { v }
}

/// An expected or observed value in French: the harness's own phrases; server text as is.
pub fn value(s: &str) -> String {
    if let Some(fr) = exact(VALUES, s) {
        return fr.into();
    }
    if let Some(rest) = s.strip_prefix("accepted, or ") {
        return format!("acceptée, ou {}", value(rest));
    }
    if let Some(rest) = s.strip_prefix("contains ") {
        return format!("contient {rest}");
    }
    if let Some(rest) = s.strip_prefix("at least ") {
        return format!("au moins {rest}");
    }
    if let Some(rest) = s.strip_prefix("offered: ") {
        return format!("proposés : {rest}");
    }
    if let Some(rest) = s.strip_prefix("established (").and_then(|r| r.strip_suffix(')')) {
        return format!("établie ({rest})");
    }
    if let Some(rest) = s.strip_prefix("not established (verification: ").and_then(|r| r.strip_suffix(')')) {
        return format!("non établie (vérification : {rest})");
    }
    if let Some(n) = s.strip_suffix(" domains").filter(|n| n.chars().all(|c| c.is_ascii_digit())) {
        return format!("{n} domaine(s)");
    }
    if let Some(rest) = s.strip_prefix("refused at ") {
        return refused_at(rest);
    }
    if let Some(rest) = s.strip_prefix("accepted (") {
        return format!("acceptée ({rest}");
    }
    s.to_string()
}

/// `refused at MAIL FROM, RCPT TO or DATA (5xx), or the connection closed there` and
/// `refused at RCPT TO: 554 … (then the server closed the connection)`.
fn refused_at(rest: &str) -> String {
    if let Some(stages) = rest.strip_suffix(", or the connection closed there") {
        return format!("refusée à {}, ou connexion fermée à ce stade", stages.replace(" or ", " ou "));
    }
    if let Some((stage, reply)) = rest.split_once(": ") {
        let reply = match reply.strip_suffix(" (then the server closed the connection)") {
            Some(r) => format!("{r} (puis le serveur a fermé la connexion)"),
            None if reply == "the server closed the connection" => "le serveur a fermé la connexion".into(),
            None => reply.to_string(),
        };
        return format!("refusée à {stage} : {reply}");
    }
    format!("refusée à {rest}")
}

/// `what : attendu X, obtenu Y` (the French [`Check::summary`]).
pub fn summary(c: &Check, lang: Lang) -> String {
    match lang {
        Lang::En => c.summary(),
        Lang::Fr => {
            // Where the expectation is written, as in English (`file:line:col: `).
            let at = c.at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default();
            format!("{at}{} : attendu {}, obtenu {}", what(&c.what), expected(&c.expected), value(&c.actual))
        }
    }
}

/// The three columns of a check in the run's language.
pub fn check(c: &Check, lang: Lang) -> (String, String, String) {
    match lang {
        Lang::En => (c.what.clone(), c.expected.clone(), c.actual.clone()),
        Lang::Fr => (what(&c.what), expected(&c.expected), value(&c.actual)),
    }
}

/// A reason in the run's language. One written from a check (its [`Check::summary`], alone or
/// after `step N: `) is worded from that check's fields, found among `checks` (the record's):
/// its position and the server's text are never parsed out of the English. Any other reason as
/// [`reason`].
pub fn reason_in(s: &str, checks: &[&Check], lang: Lang) -> String {
    if lang == Lang::En {
        return s.to_string();
    }
    if let Some((n, rest)) = step_prefix(s) {
        return format!("étape {n} : {}", reason_in(rest, checks, lang));
    }
    match checks.iter().find(|c| c.summary() == s) {
        Some(c) => summary(c, lang),
        None => reason(s, lang),
    }
}

/// `step 2: rest` → (`2`, `rest`).
fn step_prefix(s: &str) -> Option<(&str, &str)> {
    s.strip_prefix("step ").and_then(|r| r.split_once(": ")).filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
}

/// A scenario or step reason (plan skip reasons, harness errors, `step N: <check>` of a record
/// without its checks) in the run's language; a shape not known here is shown as it is. A
/// reason written from a check is worded from the check: [`reason_in`].
pub fn reason(s: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return s.to_string();
    }
    if let Some((n, rest)) = step_prefix(s) {
        return format!("étape {n} : {}", reason(rest, lang));
    }
    if let Some((n, rest)) = s.strip_prefix("step ").and_then(|r| r.split_once(" skipped: ")) {
        return format!("étape {n} sautée : {rest}");
    }
    if let Some((what_part, rest)) = s.split_once(": expected ") {
        if let Some((want, got)) = rest.split_once(", got ") {
            return format!("{} : attendu {}, obtenu {}", what(what_part), expected(want), value(got));
        }
    }
    let shapes: [(&str, &str); 12] = [
        ("the target does not claim profile ", "profil non revendiqué par la cible : "),
        ("the target declares no endpoint ", "la cible ne déclare pas le point d'accès "),
        ("the target declares no mailbox ", "la cible ne déclare pas la BAL "),
        ("the target profile has no ", "le profil cible n'a pas "),
        ("the target provides no expired token ", "la cible ne fournit pas de jeton expiré "),
        ("the target provides no revoked token ", "la cible ne fournit pas de jeton révoqué "),
        ("the target provides no expired client certificate ", "la cible ne fournit pas de certificat client expiré "),
        ("the target provides no foreign-CA client certificate ", "la cible ne fournit pas de certificat client d'une autre autorité "),
        ("TLS session refused with the fatal alert ", "session TLS refusée par l'alerte fatale "),
        ("stopped after ", "arrêté après "),
        ("harness task failed: ", "échec interne de l'outil : "),
        ("step did not finish within ", "l'étape n'a pas fini dans les "),
    ];
    for (en, fr) in shapes {
        if let Some(rest) = s.strip_prefix(en) {
            return format!("{fr}{}", rest.replace(" of ", " sur ").replace(" steps", " étapes"));
        }
    }
    if let Some((mailbox, rest)) = s.strip_prefix("mailbox ").and_then(|r| r.split_once(" has no client certificate")) {
        return format!("la BAL {mailbox} n'a pas de certificat client{rest}");
    }
    s.to_string()
}

/// A transcript note of the harness (`*` lines) in French: the common shapes; server text and
/// technical facts (`TLS TLSv1_3 … verification=ok`) as they are.
pub fn note(s: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return s.to_string();
    }
    let exact: [(&str, &str); 6] = [
        ("the server closed the connection during the SASL exchange", "le serveur a fermé la connexion pendant l'échange SASL"),
        ("the server replied and closed before the end of the body", "le serveur a répondu et fermé avant la fin du corps"),
        ("connection closed by the server", "connexion fermée par le serveur"),
        ("MOVE not advertised: moving with COPY + STORE \\Deleted + EXPUNGE", "MOVE non annoncé : déplacement par COPY + STORE \\Deleted + EXPUNGE"),
        ("the target's applicative form is certificate-only: no AUTH sent", "forme applicative de la cible : certificat seul, aucun AUTH envoyé"),
        ("(the line above arrived without a line end)", "(la ligne ci-dessus est arrivée sans fin de ligne)"),
    ];
    if let Some((_, fr)) = exact.iter().find(|(en, _)| *en == s) {
        return fr.to_string();
    }
    if let Some(rest) = s.strip_prefix("transaction: ") {
        return format!("transaction : {}", value(rest));
    }
    if let Some(rest) = s.strip_prefix("step ended in error (") {
        return format!("étape terminée en erreur ({}", reason(rest, lang));
    }
    if let Some(rest) = s.strip_prefix("suite family ") {
        let rest = rest.replace(" suite(s) offered", " suite(s) proposée(s)").replace(": the server accepted ", " : le serveur a accepté ");
        return format!("famille de suites {rest}");
    }
    let prefixes: [(&str, &str); 8] = [
        ("connecting to ", "connexion à "),
        ("connected to ", "connecté à "),
        ("connect ", "connexion à "),
        ("TLS handshake failed: ", "échec de la poignée de main TLS : "),
        ("the server closed the connection within ", "le serveur a fermé la connexion dans les "),
        ("the server answered in plaintext: ", "le serveur a répondu en clair : "),
        ("connection error: ", "erreur de connexion : "),
        ("IDLE refused ", "IDLE refusé "),
    ];
    for (en, fr) in prefixes {
        if let Some(rest) = s.strip_prefix(en) {
            return format!("{fr}{}", rest.replace(": polling instead", " : interrogation périodique à la place").replace("implicit TLS", "TLS implicite"));
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reason written from a check is worded from the check's fields: its position as it is,
    /// an expectation that reads like the English sentence (`, got `) kept whole, the server's
    /// text as sent. Parsing the English summary would cut the expectation at its `, got `.
    #[test]
    fn a_check_reason_is_worded_from_the_check() {
        let mut c = Check::new("reply text", "contains \"OK, got it\"", "235 ok: expected", false);
        c.at = Some("/w/scenarios/app/expired-cert.yaml:37:21".into());
        let checks = [&c];
        let fr = reason_in(&c.summary(), &checks, Lang::Fr);
        assert_eq!(fr, "/w/scenarios/app/expired-cert.yaml:37:21: texte de la réponse : attendu contient \"OK, got it\", obtenu 235 ok: expected");
        let step = reason_in(&format!("step 3: {}", c.summary()), &checks, Lang::Fr);
        assert_eq!(step, format!("étape 3 : {fr}"));
        assert_eq!(reason_in(&c.summary(), &checks, Lang::En), c.summary());
        // Not from a check: the known shapes.
        assert_eq!(reason_in("stopped after 1 of 2 steps", &checks, Lang::Fr), "arrêté après 1 sur 2 étapes");
    }

    #[test]
    fn harness_phrases_are_translated_and_server_text_is_kept() {
        let c = Check::new("reply code", "250", "535 5.7.8 Authentication credentials invalid", false);
        assert_eq!(summary(&c, Lang::Fr), "code de réponse : attendu 250, obtenu 535 5.7.8 Authentication credentials invalid");
        assert_eq!(summary(&c, Lang::En), c.summary());
        assert_eq!(what("capability STARTTLS"), "capacité STARTTLS");
        assert_eq!(what("header Subject as sent"), "en-tête Subject identique à l'envoi");
        assert_eq!(value("not announced"), "non annoncé");
        assert_eq!(value("refused at MAIL FROM, RCPT TO or DATA (5xx), or the connection closed there"), "refusée à MAIL FROM, RCPT TO ou DATA (5xx), ou connexion fermée à ce stade");
        assert_eq!(value("refused at MAIL FROM: 530 5.7.0 Authentication required"), "refusée à MAIL FROM : 530 5.7.0 Authentication required");
        assert_eq!(reason("step 2: reply code: expected 250, got 554 no", Lang::Fr), "étape 2 : code de réponse : attendu 250, obtenu 554 no");
        assert_eq!(reason("the target does not claim profile `app`", Lang::Fr), "profil non revendiqué par la cible : `app`");
        assert_eq!(reason("an unknown shape", Lang::Fr), "an unknown shape");
        // Server text is evidence: never reworded, not even an « or ».
        assert_eq!(value("550 user unknown or disabled"), "550 user unknown or disabled");
        assert_eq!(expected("TLSv1_2 or TLSv1_3"), "TLSv1_2 ou TLSv1_3");
    }

    #[test]
    fn the_html_report_tells_skips_apart_and_names_the_profiles() {
        let skipped = |id: &str, reason: &str| {
            let mut v = crate::evidence::testdata::scenario_json(id);
            v["outcome"] = "skip".into();
            v["reason"] = reason.into();
            serde_json::from_value(v).unwrap()
        };
        let mut record = crate::report::tests::empty_record();
        record.target.claims = vec!["general".into(), "app".into()];
        record.scenarios = vec![
            skipped("OPE/A.01.01", "the target does not claim profile `per-org`"),
            skipped("OPE/A.01.02", "the target provides no revoked token (`negative.revoked_token`)"),
            skipped("OPE/A.01.03", "the target declares no mailbox `app2`"),
        ];
        let index = crate::requirement::RequirementIndex { requirements: vec![] };
        let html = crate::report::html::render_html(&record, &index, Lang::Fr);
        assert!(html.contains("non applicable : 1 · non exécuté — matériel de test manquant : 2"), "the counts split");
        assert!(html.contains(">non applicable</span>") && html.contains(">non exécuté — matériel de test manquant</span>"));
        assert!(html.contains("<li>Général</li><li>BAL APP</li>"), "claims as the agency names them");
        assert!(html.contains("profil non revendiqué par la cible : `per-org`"));
        assert!(html.contains("identifiants OPE/* (exigences, scénarios, preuves) sont ceux de mssconf"));
    }

    #[test]
    fn notes_of_the_harness_are_translated() {
        assert_eq!(note("connecting to 127.0.0.1:587 (Starttls)", Lang::Fr), "connexion à 127.0.0.1:587 (Starttls)");
        assert_eq!(note("transaction: refused at RCPT TO: 554 no", Lang::Fr), "transaction : refusée à RCPT TO : 554 no");
        assert_eq!(note("TLS TLSv1_3 x verification=ok", Lang::Fr), "TLS TLSv1_3 x verification=ok", "facts stay as they are");
        assert_eq!(note("connecting to x", Lang::En), "connecting to x");
    }
}
