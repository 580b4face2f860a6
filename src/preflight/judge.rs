//! Pure judgements of what the checks saw: a TLS handshake's facts, a certificate's end date.
//! No IO here.

use chrono::{NaiveDate, Utc};

use super::{EXPIRY_WARNING_DAYS, Finding, Text, same, text};
use crate::exec::tls::{CertFacts, TlsFacts};

/// Days from today (UTC) to a certificate's `not_after` (`2027-03-07 7:26:32.0 +00:00:00`, as
/// [`crate::exec::tls::cert_facts`] writes it); negative once ended. `None` if unreadable.
pub fn days_left(not_after: &str, today: NaiveDate) -> Option<i64> {
    let date = NaiveDate::parse_from_str(not_after.split_whitespace().next()?, "%Y-%m-%d").ok()?;
    Some((date - today).num_days())
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The TLS line of an endpoint whose handshake completed or failed with `facts` (`error`: the
/// handshake's error, if it failed).
pub fn tls(subject: &str, facts: &TlsFacts, error: Option<&str>, today: NaiveDate) -> Finding {
    let version = facts.version.as_deref().unwrap_or("?");
    let leaf = facts.server_chain.first();
    let verification = facts.verification.as_deref();
    if let Some(why) = verification.filter(|v| *v != "ok").or(error) {
        return Finding::fix(subject, "tls", same(format!("{}: {why}", leaf_summary(leaf))), chain_fix(why, leaf));
    }
    let seen = format!("{version} {}, {}", facts.cipher_suite.as_deref().unwrap_or("?"), leaf_summary(leaf));
    if !matches!(version, "TLSv1_2" | "TLSv1_3") {
        return Finding::fix(subject, "tls", same(seen), text("l'opérateur doit proposer TLS 1.2 ou 1.3", "the operator must offer TLS 1.2 or 1.3"));
    }
    match ending_soon(&facts.server_chain, today) {
        Some((cert, days)) => Finding::warning(
            subject,
            "tls",
            same(seen),
            text(
                format!("le certificat « {} » expire dans {days} jour(s) ({}) : le faire renouveler avant l'audit", cert.subject, cert.not_after),
                format!("certificate \"{}\" ends in {days} day(s) ({}): have it renewed before the audit", cert.subject, cert.not_after),
            ),
        ),
        None => Finding::ok(subject, "tls", same(format!("{seen}, chaîne vérifiée / chain verified"))),
    }
}

/// The first certificate of the chain ending within [`EXPIRY_WARNING_DAYS`] days.
fn ending_soon(chain: &[CertFacts], today: NaiveDate) -> Option<(&CertFacts, i64)> {
    chain.iter().find_map(|c| days_left(&c.not_after, today).filter(|d| *d <= EXPIRY_WARNING_DAYS).map(|d| (c, d)))
}

fn leaf_summary(leaf: Option<&CertFacts>) -> String {
    match leaf {
        Some(c) => format!("cert \"{}\" (issuer \"{}\", until {})", c.subject, c.issuer, c.not_after),
        None => "no server certificate seen".into(),
    }
}

/// What to do about a chain the anchors do not verify, from rustls' wording of the reason.
fn chain_fix(why: &str, leaf: Option<&CertFacts>) -> Text {
    let lower = why.to_ascii_lowercase();
    let Some(issuer) = leaf.map(|c| c.issuer.as_str()) else {
        return text(
            "la poignée de main TLS n'a pas abouti avant le certificat : vérifier le port et `tls:` (implicit / starttls) du profil",
            "the TLS handshake ended before any certificate: check the profile's port and `tls:` (implicit / starttls)",
        );
    };
    if lower.contains("expired") {
        text(
            "le certificat serveur est expiré : l'opérateur doit le renouveler (aucun audit possible avant)",
            "the server certificate has expired: the operator must renew it (no audit before that)",
        )
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        text(
            format!("la chaîne ne mène à aucune ancre de `trust_anchors` : ajouter la racine de « {issuer} » (IGC-Santé) au profil, ou l'opérateur présente une mauvaise chaîne"),
            format!("the chain leads to none of `trust_anchors`: add the root of \"{issuer}\" (IGC-Santé) to the profile, or the operator presents a wrong chain"),
        )
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        text(
            "le certificat ne porte pas `server_name` : corriger `server_name` dans le profil ou le certificat du serveur",
            "the certificate does not name `server_name`: fix `server_name` in the profile or the server's certificate",
        )
    } else {
        text(
            "vérifier `trust_anchors` et `server_name` du profil, et la chaîne présentée par le serveur",
            "check the profile's `trust_anchors` and `server_name`, and the chain the server presents",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::Status;

    fn cert(not_after: &str) -> CertFacts {
        CertFacts {
            subject: "CN=mx.op.test".into(),
            issuer: "CN=IGC-Santé TEST".into(),
            not_before: "2026-01-01 0:00:00.0 +00:00:00".into(),
            not_after: not_after.into(),
            sha256: "00".into(),
            san: vec![],
            crl_urls: vec![],
            ocsp_urls: vec![],
            serial: String::new(),
        }
    }

    fn facts(verification: &str, not_after: &str) -> TlsFacts {
        TlsFacts {
            version: Some("TLSv1_3".into()),
            cipher_suite: Some("TLS13_AES_256_GCM_SHA384".into()),
            server_chain: vec![cert(not_after)],
            verification: Some(verification.into()),
            client_certificate: None,
            server_name: "mx.op.test".into(),
        }
    }

    #[test]
    fn days_are_counted_from_the_date_part() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(days_left("2027-01-06 7:26:32.0 +00:00:00", today), Some(30));
        assert_eq!(days_left("2026-12-01 0:00:00.0 +00:00:00", today), Some(-6));
        assert_eq!(days_left("garbage", today), None);
    }

    #[test]
    fn verified_chains_pass_unless_ending_within_30_days() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(tls("smtp", &facts("ok", "2027-03-01 0:00:00.0 +00:00:00"), None, today).status, Status::Ok);
        let soon = tls("smtp", &facts("ok", "2026-12-20 0:00:00.0 +00:00:00"), None, today);
        assert_eq!(soon.status, Status::Warning);
        assert!(soon.fix.unwrap().fr.contains("expire dans 13 jour(s)"));
    }

    #[test]
    fn refused_chains_say_what_to_fix() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let expired = tls("imap", &facts("invalid peer certificate: certificate expired: ...", "2026-11-07 0:00:00.0 +00:00:00"), None, today);
        assert_eq!(expired.status, Status::Fix);
        assert!(expired.fix.unwrap().en.contains("has expired"));
        let foreign = tls("imap", &facts("invalid peer certificate: UnknownIssuer", "2027-11-07 0:00:00.0 +00:00:00"), None, today);
        assert!(foreign.fix.unwrap().en.contains("leads to none of `trust_anchors`"));
    }
}
