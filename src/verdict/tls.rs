//! Judging TLS facts and probe results.

use super::check::{Check, Checks};
use crate::exec::observation::{TlsObservation, TlsRefused};
use crate::exec::revocation::{RevocationFacts, RevocationStatus};
use crate::exec::tls::TlsFacts;
use crate::scenario::model::{TlsExpect, TlsItem};

/// A refusal at the TLS level, for a step that accepts one (`accept_tls_refusal`): the server
/// refused, which is what the step asks.
pub fn judge_refusal(r: &TlsRefused) -> Check {
    Check::new(
        "refusal by the server",
        "refused (TLS alert or authentication failure)",
        format!("TLS session refused with the fatal alert {} ({})", r.alert, r.detail),
        true,
    )
}

/// The facts of a handshake against `e`. `not_revoked` is judged only where a CRL was read
/// (`revocation`; see [`revocation_unknown`]).
pub fn judge_facts(c: &mut Checks, e: &TlsExpect, facts: Option<&TlsFacts>, allow_list: &[String], revocation: Option<&RevocationFacts>) {
    for item in e.items() {
        match item {
            TlsItem::Established(want) => {
                let established = facts.is_some_and(|f| f.version.is_some());
                let got = match facts {
                    Some(f) if f.version.is_some() => format!("established ({})", f.version.as_deref().unwrap_or("?")),
                    Some(f) => format!("not established (verification: {})", f.verification.as_deref().unwrap_or("-")),
                    None => "no TLS".into(),
                };
                c.push("TLS handshake", if want { "established" } else { "refused" }, got, established == want);
            }
            TlsItem::VersionIn(versions) => {
                let got = facts.and_then(|f| f.version.clone()).unwrap_or_else(|| "none".into());
                let ok = versions.iter().any(|v| v.eq_ignore_ascii_case(&got));
                c.push("TLS version", versions.join(" or "), got, ok);
            }
            TlsItem::ChainVerified(want) => {
                let got = facts.and_then(|f| f.verification.clone()).unwrap_or_else(|| "not verified".into());
                c.push("server chain verified against the target's trust anchors", want.to_string(), got.clone(), (got == "ok") == want);
            }
            TlsItem::SuiteAllowed(want) => {
                let suite = facts.and_then(|f| f.cipher_suite.clone()).unwrap_or_default();
                let version = facts.and_then(|f| f.version.clone()).unwrap_or_default();
                // The allow-list restricts TLS 1.2 only; TLS 1.3 suites are all acceptable.
                let allowed = version == "TLSv1_3" || allow_list.iter().any(|a| a.eq_ignore_ascii_case(&suite));
                c.push("cipher suite in the allow-list", want.to_string(), format!("{version} {suite}"), allowed == want);
            }
            TlsItem::NotRevoked(want) => judge_revocation(c, want, revocation),
        }
    }
}

pub fn judge_tls(e: &TlsExpect, o: &TlsObservation) -> Vec<Check> {
    let mut c = Checks::default();
    if o.probes.is_empty() {
        judge_facts(&mut c, e, o.facts.as_ref(), &o.allow_list, o.revocation.as_ref());
        return c.into_vec();
    }
    // Probes: `established: false` means every offer must be refused.
    let want_accept = e.established.unwrap_or(false);
    for p in &o.probes {
        c.push(format!("offer {}", p.offer), if want_accept { "accepted" } else { "refused" }, &p.answer, p.accepted == want_accept);
    }
    c.into_vec()
}

/// `not_revoked`: judged only when a CRL of the issuer was read (else see
/// [`revocation_unknown`]).
fn judge_revocation(c: &mut Checks, want: bool, r: Option<&RevocationFacts>) {
    let Some(r) = r else { return };
    let revoked = match r.status {
        RevocationStatus::NotRevoked => false,
        RevocationStatus::Revoked => true,
        RevocationStatus::Unknown => return,
    };
    let got = if revoked { "listed by its issuer's CRL (revoked)" } else { "not listed by its issuer's CRL" };
    c.push("server certificate revocation (CRL)", if want { "not revoked" } else { "revoked" }, got, revoked != want);
}

/// Why a `not_revoked` check could not be made (no CRL of the issuer could be fetched): the
/// scenario is skipped with this reason rather than passed.
pub fn revocation_unknown(e: &TlsExpect, o: &TlsObservation) -> Option<String> {
    e.not_revoked?;
    let r = o.revocation.as_ref()?;
    (r.status == RevocationStatus::Unknown).then(|| {
        let named = if r.crl_urls.is_empty() { "no CRL distribution point".to_string() } else { format!("CRL {}", r.crl_urls.join(", ")) };
        let ocsp = if r.ocsp_urls.is_empty() { String::new() } else { format!(", OCSP {} (not queried)", r.ocsp_urls.join(", ")) };
        let tried = if r.sources.is_empty() { String::new() } else { format!("; {}", r.sources.join("; ")) };
        format!("revocation status not established: the certificate names {named}{ocsp}{tried}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::observation::ProbeResult;

    #[test]
    fn probes_must_all_be_refused() {
        let e = TlsExpect { established: Some(false), ..Default::default() };
        let refused = ProbeResult { offer: "TLS 1.0".into(), answer: "alert 70".into(), accepted: false, accepted_suites: vec![] };
        let accepted = ProbeResult { offer: "TLS 1.1".into(), answer: "ServerHello 0x0302".into(), accepted: true, accepted_suites: vec![] };
        let o = TlsObservation { probes: vec![refused.clone()], ..Default::default() };
        assert!(judge_tls(&e, &o).iter().all(|c| c.passed));
        let o = TlsObservation { probes: vec![refused, accepted], ..Default::default() };
        assert_eq!(judge_tls(&e, &o).iter().filter(|c| !c.passed).count(), 1);
    }

    #[test]
    fn suite_allow_list_applies_to_tls12_only() {
        let e = TlsExpect { suite_allowed: Some(true), ..Default::default() };
        let allow = vec!["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()];
        let facts = |v: &str, s: &str| TlsFacts { version: Some(v.into()), cipher_suite: Some(s.into()), ..Default::default() };
        let o = |f| TlsObservation { facts: Some(f), established: true, allow_list: allow.clone(), ..Default::default() };
        assert!(judge_tls(&e, &o(facts("TLSv1_2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")))[0].passed);
        assert!(!judge_tls(&e, &o(facts("TLSv1_2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")))[0].passed);
        assert!(judge_tls(&e, &o(facts("TLSv1_3", "TLS13_AES_256_GCM_SHA384")))[0].passed);
    }

    /// `not_revoked`: judged on a CRL's answer; with none, no check and a skip reason instead.
    #[test]
    fn revocation_is_judged_only_when_a_crl_answered() {
        let e = TlsExpect { not_revoked: Some(true), ..Default::default() };
        let with = |status| TlsObservation {
            revocation: Some(RevocationFacts {
                crl_urls: vec!["http://ca.test/root.crl".into()],
                ocsp_urls: vec!["http://ca.test/ocsp".into()],
                sources: vec!["http://ca.test/root.crl: not fetched: host `ca.test` is not declared".into()],
                status,
            }),
            ..Default::default()
        };
        let good = judge_tls(&e, &with(RevocationStatus::NotRevoked));
        assert!(good.len() == 1 && good[0].passed);
        assert_eq!(revocation_unknown(&e, &with(RevocationStatus::NotRevoked)), None);
        let revoked = judge_tls(&e, &with(RevocationStatus::Revoked));
        assert!(revoked.len() == 1 && !revoked[0].passed && revoked[0].actual.contains("revoked"));
        assert!(judge_tls(&e, &with(RevocationStatus::Unknown)).is_empty());
        let why = revocation_unknown(&e, &with(RevocationStatus::Unknown)).unwrap();
        assert!(why.contains("CRL http://ca.test/root.crl") && why.contains("OCSP http://ca.test/ocsp (not queried)") && why.contains("not declared"), "{why}");
        let unasked = TlsExpect { established: Some(true), ..Default::default() };
        assert_eq!(revocation_unknown(&unasked, &with(RevocationStatus::Unknown)), None);
    }
}
