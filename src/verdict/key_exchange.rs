//! Judging key-exchange probes (SC.MSS/CONF.03: DH group ≥ 2048 bits, ECDH ≥ 256 bits).
//! A server that does no DHE passes the DH part (the sources require a size, not DHE); a server
//! that picks a curve of 256 bits or more although none was offered passes the ECDH part (the
//! size is what is required). The groups accepted are reported, never judged.

use super::check::{Check, Checks};
use crate::exec::observation::{KxProbe, KxPurpose};
use crate::exec::probe::key_exchange::{Kx, describe_group, group_bits};
use crate::scenario::model::TlsKxProbe;

pub fn judge(rule: &TlsKxProbe, probes: &[KxProbe]) -> Vec<Check> {
    let mut c = Checks::default();
    let mut accepted_groups = Vec::new();
    for p in probes {
        match p.purpose {
            KxPurpose::Dhe => dh(&mut c, rule.min_dh_bits, p),
            KxPurpose::WeakCurves => weak_curves(&mut c, rule.min_ecdh_bits, p),
            KxPurpose::Group(g) if p.accepted => {
                // The server may answer with another curve than the one offered: judged by size.
                let used = match p.kx {
                    Kx::Ecdh { group } => group,
                    _ => g,
                };
                if group_bits(used).is_some_and(|b| b < rule.min_ecdh_bits) {
                    c.push(format!("ECDH curve when offering {}", describe_group(g)), at_least(rule.min_ecdh_bits), p.kx.describe(), false);
                }
                accepted_groups.push(describe_group(used));
            }
            KxPurpose::Group(_) => {}
        }
    }
    let got = if accepted_groups.is_empty() { "none (ECDHE refused with each group alone)".to_string() } else { accepted_groups.join(", ") };
    c.push("TLS 1.2 ECDHE groups accepted (reported)", "recorded", got, true);
    c.into_vec()
}

fn at_least(bits: u32) -> String {
    format!("at least {bits} bits")
}

fn dh(c: &mut Checks, min: u32, p: &KxProbe) {
    let what = "DH group size (DHE suites offered alone)";
    let expected = format!("{}, or no DHE suite accepted", at_least(min));
    match (p.accepted, p.kx) {
        (false, _) => c.push(what, expected, format!("no DHE suite accepted: {}", p.answer), true),
        (true, Kx::Dh { bits }) => {
            c.push(what, expected, format!("{bits} bits with {}", p.suite.as_deref().unwrap_or("?")), bits >= min)
        }
        // Accepted, but the size could not be read: nothing to judge, said as such.
        (true, kx) => c.0.push(Check {
            advisory: true,
            ..Check::new(what, expected, format!("{} accepted, {}: size not observed", p.suite.as_deref().unwrap_or("?"), kx.describe()), false)
        }),
    }
}

fn weak_curves(c: &mut Checks, min: u32, p: &KxProbe) {
    let what = "ECDH with curves under 256 bits only offered";
    let expected = format!("refused, or a curve of {}", at_least(min));
    match (p.accepted, p.kx) {
        (false, _) => c.push(what, expected, format!("refused: {}", p.answer), true),
        (true, Kx::Ecdh { group }) => {
            let ok = group_bits(group).is_some_and(|b| b >= min);
            c.push(what, expected, format!("accepted {} with {}", p.suite.as_deref().unwrap_or("?"), p.kx.describe()), ok)
        }
        (true, kx) => c.0.push(Check {
            advisory: true,
            ..Check::new(what, expected, format!("{} accepted, {}: curve not observed", p.suite.as_deref().unwrap_or("?"), kx.describe()), false)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> TlsKxProbe {
        crate::yaml::read::parse_yaml(std::path::Path::new("r.yaml"), "{}").unwrap()
    }

    fn probe(purpose: KxPurpose, accepted: bool, kx: Kx) -> KxProbe {
        let suite = accepted.then(|| "TLS_X (0x0000)".to_string());
        KxProbe { purpose, offer: "o".into(), answer: if accepted { "hello" } else { "alert" }.into(), accepted, suite, kx }
    }

    fn failing(probes: &[KxProbe]) -> Vec<String> {
        judge(&rule(), probes).iter().filter(|c| c.fails()).map(|c| c.summary()).collect()
    }

    #[test]
    fn dh_groups_under_2048_bits_fail_and_no_dhe_passes() {
        let refused = probe(KxPurpose::WeakCurves, false, Kx::NoneSeen);
        assert!(failing(&[probe(KxPurpose::Dhe, false, Kx::NoneSeen), refused.clone()]).is_empty());
        assert!(failing(&[probe(KxPurpose::Dhe, true, Kx::Dh { bits: 2048 }), refused.clone()]).is_empty());
        let f = failing(&[probe(KxPurpose::Dhe, true, Kx::Dh { bits: 1024 }), refused.clone()]);
        assert!(f.len() == 1 && f[0].contains("1024 bits"), "{f:?}");
        // Accepted but not observed: advisory, not a failure.
        let checks = judge(&rule(), &[probe(KxPurpose::Dhe, true, Kx::NoneSeen)]);
        assert!(checks.iter().any(|c| c.unmet_advice()) && !checks.iter().any(|c| c.fails()));
    }

    #[test]
    fn weak_curves_fail_only_when_a_weak_curve_is_used() {
        let f = failing(&[probe(KxPurpose::WeakCurves, true, Kx::Ecdh { group: 0x0013 })]);
        assert!(f.len() == 1 && f[0].contains("secp192r1"), "{f:?}");
        assert!(failing(&[probe(KxPurpose::WeakCurves, true, Kx::Ecdh { group: 0x0017 })]).is_empty(), "P-256 anyway: the size holds");
    }

    #[test]
    fn accepted_groups_are_reported() {
        let checks = judge(
            &rule(),
            &[probe(KxPurpose::Group(0x001D), true, Kx::Ecdh { group: 0x001D }), probe(KxPurpose::Group(0x0019), false, Kx::NoneSeen)],
        );
        let report = checks.iter().find(|c| c.what.contains("groups accepted")).unwrap();
        assert!(report.passed && report.actual == "x25519 (0x001D)", "{report:?}");
    }
}
