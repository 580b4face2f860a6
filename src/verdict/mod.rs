//! Stage 4 of the pipeline. Pure judging: expectations × observations → checks, and the
//! outcomes of steps and scenarios ([`outcome`]). No IO here.

pub mod capabilities;
pub mod check;
pub mod key_exchange;
pub mod french;
pub mod identity;
pub mod identity_labels;
mod message;
pub mod outcome;
mod tls;
pub mod temporary;
pub mod transaction;

pub use check::Check;
use check::Checks;

use crate::exec::observation::*;
use crate::scenario::model::{HttpExpect, HttpItem, ImapExpect, ImapItem, ScenarioNature, SmtpExpect, SmtpItem};

/// Gives a step's checks the weight of the scenario's nature: in a préconisation or an
/// observation scenario, no check is binding (docs/verdicts.md).
pub fn weigh(nature: ScenarioNature, checks: &mut [Check]) {
    if !nature.binding() {
        checks.iter_mut().for_each(|c| c.advisory = true);
    }
}

/// Does an SMTP reply code match `250`, `5xx`, `4xx|5xx`?
pub fn code_matches(pattern: &str, code: u16) -> bool {
    let code = code.to_string();
    pattern.split('|').any(|p| {
        p.len() == 3 && p.chars().zip(code.chars()).all(|(want, got)| want == 'x' || want == got)
    })
}

pub fn judge_smtp(e: &SmtpExpect, o: &SmtpObservation) -> Vec<Check> {
    let mut c = Checks::default();
    let reply = if o.code == 0 { "no reply".to_string() } else { format!("{} {}", o.code, first_line(&o.text)) };
    for item in e.items() {
        match item {
            SmtpItem::Code(code) => c.push("reply code", code, &reply, code_matches(code, o.code)),
            SmtpItem::Enhanced(esc) => {
                let got = o.enhanced.clone().unwrap_or_else(|| "none".into());
                c.push("enhanced status", format!("{esc}*"), got.clone(), got.starts_with(esc));
            }
            SmtpItem::TextContains(t) => c.contains("reply text", &o.text, t),
            SmtpItem::Capabilities(caps) => capabilities::judge(&mut c, caps, &o.capabilities),
            SmtpItem::ChallengeContains(t) => c.contains("SASL challenge", &o.challenges.join(" | "), t),
            SmtpItem::Closes(closes) => closed(&mut c, closes, o.closed),
            SmtpItem::Tls(t) => tls::judge_facts(&mut c, t, o.tls.as_ref(), &[], None),
            SmtpItem::Observe(advice) => c.advise(judge_smtp(advice, o)),
        }
    }
    c.into_vec()
}

fn closed(c: &mut Checks, want: bool, got: bool) {
    c.push("connection closed by server", want.to_string(), got.to_string(), got == want);
}

pub fn judge_imap(e: &ImapExpect, o: &ImapObservation) -> Vec<Check> {
    let mut c = Checks::default();
    for item in e.items() {
        match item {
            ImapItem::Status(want) => {
                let ok = want.split('|').any(|w| w.trim().eq_ignore_ascii_case(&o.status));
                let got = if o.status.is_empty() { "no status".into() } else { format!("{} {}", o.status, o.text) };
                c.push("tagged status", want.to_uppercase(), got, ok);
            }
            ImapItem::Code(code) => {
                let got = o.code.clone().unwrap_or_else(|| "none".into());
                let ok = got.split_whitespace().next().is_some_and(|g| g.eq_ignore_ascii_case(code));
                c.push("response code", code, got, ok);
            }
            ImapItem::TextContains(t) => c.contains("response text", &o.text, t),
            ImapItem::Capabilities(caps) => capabilities::judge(&mut c, caps, &o.capabilities),
            ImapItem::ChallengeContains(t) => c.contains("SASL challenge", &o.challenges.join(" | "), t),
            ImapItem::UntaggedContains(t) => c.contains("untagged responses", &o.untagged.join(" | "), t),
            ImapItem::Found(found) => {
                let got = if o.found.is_empty() { "nothing found".to_string() } else { format!("UID {:?}", o.found) };
                c.push("message found", found.to_string(), got, !o.found.is_empty() == found);
            }
            ImapItem::CountAtLeast(n) => {
                c.push("result count", format!("at least {n}"), o.found.len().to_string(), o.found.len() as u32 >= n);
            }
            ImapItem::WaitMethod(want) => {
                let got = o.wait_method.clone().unwrap_or_else(|| "no wait".into());
                // `polling (200 ms)` is the method `polling`.
                let method = got.split_whitespace().next().unwrap_or("");
                c.push("wait method", want, &got, method.eq_ignore_ascii_case(want.trim()));
            }
            ImapItem::Closes(closes) => closed(&mut c, closes, o.closed),
            ImapItem::Message(m) => match &o.message {
                Some(fetched) => message::judge(&mut c, &m, fetched),
                None => c.push("fetched message", "a message", "none fetched", false),
            },
            ImapItem::Tls(t) => tls::judge_facts(&mut c, t, o.tls.as_ref(), &[], None),
            ImapItem::Observe(advice) => c.advise(judge_imap(advice, o)),
        }
    }
    c.into_vec()
}

pub use tls::{judge_refusal, judge_tls, revocation_unknown};

pub fn judge_http(e: &HttpExpect, o: &HttpObservation) -> Vec<Check> {
    let mut c = Checks::default();
    for item in e.items() {
        match item {
            HttpItem::Status(s) => c.push("HTTP status", s.to_string(), o.status.to_string(), s == o.status),
            HttpItem::BodyContains(want) => c.contains("body", &o.body, want),
            HttpItem::HeaderContains(name, want) => {
                let got = o.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("");
                c.contains(&format!("header {name}"), got, want);
            }
            HttpItem::Whitelist { has, lacks } => whitelist(&mut c, has, lacks, o.whitelist.as_deref()),
        }
    }
    c.into_vec()
}

/// An entry may be an address (`addresses.outside_whitelist`): its domain is looked up.
fn whitelist(c: &mut Checks, has: &[String], lacks: &[String], domains: Option<&[String]>) {
    let Some(domains) = domains else {
        c.push("whitelist document", "an MSSanté whitelist XML", "not a whitelist", false);
        return;
    };
    let listed = |d: &str| {
        let d = d.rsplit_once('@').map_or(d, |(_, domain)| domain);
        domains.iter().any(|x| x.eq_ignore_ascii_case(d))
    };
    for d in has {
        c.push(format!("whitelist entry {d}"), "listed", format!("{} domains", domains.len()), listed(d));
    }
    for d in lacks {
        c.push(format!("whitelist entry {d}"), "not listed", format!("{} domains", domains.len()), !listed(d));
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_patterns() {
        assert!(code_matches("250", 250));
        assert!(code_matches("5xx", 535));
        assert!(!code_matches("5xx", 250));
        assert!(code_matches("4xx|5xx", 451));
        assert!(!code_matches("2xx", 0));
    }

    #[test]
    fn smtp_expectations_fail_when_they_should() {
        let e: SmtpExpect = serde_saphyr::from_str("{code: '535', enhanced: '5.7', closes: true, challenge_contains: '401'}").unwrap();
        let good = SmtpObservation {
            code: 535,
            enhanced: Some("5.7.8".into()),
            text: "bad".into(),
            challenges: vec![r#"{"status":"401"}"#.into()],
            closed: true,
            ..Default::default()
        };
        assert!(judge_smtp(&e, &good).iter().all(|c| c.passed));
        let bad = SmtpObservation { code: 235, enhanced: Some("2.7.0".into()), ..Default::default() };
        let checks = judge_smtp(&e, &bad);
        assert_eq!(checks.iter().filter(|c| !c.passed).count(), 4);
        assert!(checks[0].summary().contains("expected 535, got 235"));
    }

    #[test]
    fn imap_expectations() {
        let e: ImapExpect = serde_saphyr::from_str("{status: 'no|bad', code: AUTHENTICATIONFAILED}").unwrap();
        let o = ImapObservation { status: "NO".into(), code: Some("AUTHENTICATIONFAILED".into()), ..Default::default() };
        assert!(judge_imap(&e, &o).iter().all(|c| c.passed));
        let o = ImapObservation { status: "OK".into(), ..Default::default() };
        assert!(judge_imap(&e, &o).iter().all(|c| !c.passed));
    }

    #[test]
    fn wait_method_is_judged() {
        let e: ImapExpect = serde_saphyr::from_str("{found: true, wait_method: idle}").unwrap();
        let idle = ImapObservation { found: vec![3], wait_method: Some("idle".into()), ..Default::default() };
        assert!(judge_imap(&e, &idle).iter().all(|c| c.passed));
        let polled = ImapObservation { found: vec![3], wait_method: Some("polling (200 ms)".into()), ..Default::default() };
        let checks = judge_imap(&e, &polled);
        assert_eq!(checks.iter().filter(|c| !c.passed).count(), 1);
        assert!(checks.iter().any(|c| c.summary().contains("polling (200 ms)")));
        let e: ImapExpect = serde_saphyr::from_str("{wait_method: polling}").unwrap();
        assert!(judge_imap(&e, &polled).iter().all(|c| c.passed));
        assert!(!judge_imap(&e, &ImapObservation::default()).iter().all(|c| c.passed));
    }

    #[test]
    fn http_whitelist() {
        let e: HttpExpect = serde_saphyr::from_str("{status: 200, whitelist_has: [a.test], whitelist_lacks: [b.test]}").unwrap();
        let o = HttpObservation { status: 200, whitelist: Some(vec!["A.test".into()]), ..Default::default() };
        assert!(judge_http(&e, &o).iter().all(|c| c.passed));
        let o = HttpObservation { status: 200, whitelist: Some(vec!["b.test".into()]), ..Default::default() };
        assert_eq!(judge_http(&e, &o).iter().filter(|c| !c.passed).count(), 2);
        // An address stands for its domain.
        let e: HttpExpect = serde_saphyr::from_str("{whitelist_lacks: [x@b.test], whitelist_has: [y@a.test]}").unwrap();
        let o = HttpObservation { status: 200, whitelist: Some(vec!["a.test".into()]), ..Default::default() };
        assert!(judge_http(&e, &o).iter().all(|c| c.passed));
        let o = HttpObservation { status: 200, whitelist: Some(vec!["B.test".into()]), ..Default::default() };
        assert_eq!(judge_http(&e, &o).iter().filter(|c| !c.passed).count(), 2);
    }

    /// Expecting headers to be absent from a fetched message needs a message: none fetched is
    /// a failure, not a silent pass.
    #[test]
    fn absent_headers_need_a_fetched_message() {
        let e: ImapExpect = serde_saphyr::from_str("{status: ok, headers_absent: [X-MSS-INS]}").unwrap();
        let o = ImapObservation { status: "OK".into(), ..Default::default() };
        let checks = judge_imap(&e, &o);
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().any(|c| !c.passed && c.what == "fetched message"), "{checks:?}");
    }
}
