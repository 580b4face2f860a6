//! The walk through one family of cipher suites (the families are in [`crate::cipher::families`]):
//! offer the family, then the same family without each suite the server picked.

use super::response::ProbeOutcome;
use crate::cipher::families::FamilyOffer;
use crate::cipher::suites::describe_suite;

/// The walk through one family: what to offer next, and what the server accepted so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumeration {
    remaining: Vec<u16>,
    accepted: Vec<u16>,
    end: Option<String>,
}

impl Enumeration {
    pub fn new(offer: &FamilyOffer) -> Self {
        Enumeration { remaining: offer.suites.clone(), accepted: Vec::new(), end: None }
    }

    /// The suites of the next ClientHello; `None` once the walk is over. Each call after
    /// [`Enumeration::record`] offers strictly fewer suites, so the walk ends.
    pub fn next_offer(&self) -> Option<&[u16]> {
        (self.end.is_none() && !self.remaining.is_empty()).then_some(self.remaining.as_slice())
    }

    /// Takes the server's answer to the last offer.
    pub fn record(&mut self, outcome: &ProbeOutcome) {
        let ProbeOutcome::ServerHello { cipher_suite, .. } = outcome else {
            self.end = Some(outcome.describe());
            return;
        };
        self.accepted.push(*cipher_suite);
        let before = self.remaining.len();
        self.remaining.retain(|s| s != cipher_suite);
        if self.remaining.len() == before {
            self.end = Some(format!("the server picked {}, which was not offered", describe_suite(*cipher_suite)));
        } else if self.remaining.is_empty() {
            self.end = Some("every suite of the family was accepted".into());
        }
    }

    /// Every suite the server picked, in order.
    pub fn accepted(&self) -> &[u16] {
        &self.accepted
    }

    /// How the walk ended (the last answer), once it has.
    pub fn end(&self) -> Option<&str> {
        self.end.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::families::*;
    use crate::cipher::suites::suite_name;

    #[test]
    fn every_suite_is_named_and_in_one_family_only() {
        let mut seen = std::collections::BTreeSet::new();
        for f in FAMILIES {
            assert!(!f.suites.is_empty(), "{}", f.id);
            for s in f.suites {
                assert!(suite_name(*s).is_some(), "{}: 0x{s:04X} has no name", f.id);
                assert!(seen.insert(*s), "0x{s:04X} is in two families");
            }
        }
    }

    /// The family a suite is in must match what its IANA name says, so a misfiled code is caught.
    #[test]
    fn names_match_their_family() {
        let rule: &[(&str, fn(&str) -> bool)] = &[
            ("static-rsa-cbc", |n| n.starts_with("TLS_RSA_WITH_") && n.contains("_CBC_")),
            ("static-rsa-aead", |n| n.starts_with("TLS_RSA_WITH_") && (n.contains("GCM") || n.contains("CCM"))),
            ("ecdhe-cbc-sha1", |n| n.starts_with("TLS_ECDHE_") && n.ends_with("_CBC_SHA")),
            ("ecdhe-cbc-sha2", |n| n.starts_with("TLS_ECDHE_") && n.contains("_CBC_SHA") && !n.ends_with("_CBC_SHA")),
            ("ecdhe-aead", |n| n.starts_with("TLS_ECDHE_") && (n.contains("GCM") || n.contains("CCM"))),
            ("chacha20", |n| n.contains("CHACHA20")),
            ("dhe", |n| n.starts_with("TLS_DHE_")),
            ("static-dh", |n| n.starts_with("TLS_DH_") || n.starts_with("TLS_ECDH_")),
            ("3des", |n| n.contains("3DES")),
            ("rc4", |n| n.contains("RC4")),
            ("null", |n| n.contains("NULL")),
            ("export-des", |n| n.contains("EXPORT") || n.contains("_DES_CBC_")),
            ("anonymous", |n| n.contains("_anon_")),
        ];
        assert_eq!(rule.len(), FAMILIES.len());
        for (id, fits) in rule {
            let f = family(id).unwrap();
            for s in f.suites {
                let name = suite_name(*s).unwrap();
                assert!(fits(name), "{name} filed under {id}");
            }
        }
    }

    #[test]
    fn the_allow_list_is_taken_out_and_empty_offers_dropped() {
        let allow: Vec<String> = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "tls_dhe_rsa_with_aes_256_gcm_sha384"]
            .map(String::from)
            .to_vec();
        let offers = plan(None, &[], &allow).unwrap();
        assert_eq!(offers.len(), FAMILIES.len());
        let all: Vec<u16> = offers.iter().flat_map(|o| o.suites.clone()).collect();
        assert!(!all.contains(&0xC02F) && !all.contains(&0x009F) && all.contains(&0x0035));
        let only = plan(Some(&["chacha20".into()]), &["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()], &allow).unwrap();
        assert_eq!(only.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["chacha20"], "the candidate is allowed: dropped");
        let cands = plan(Some(&[]), &["TLS_RSA_WITH_AES_256_CBC_SHA".into()], &allow).unwrap();
        assert_eq!((cands[0].id.as_str(), cands[0].suites.as_slice()), (CANDIDATES, &[0x0035][..]));
    }

    /// A server accepting some suites picks the first offered one it accepts (client order).
    fn walk(offer: &FamilyOffer, accepts: &[u16]) -> (Enumeration, usize) {
        let mut e = Enumeration::new(offer);
        let mut connections = 0;
        while let Some(suites) = e.next_offer() {
            connections += 1;
            let outcome = match suites.iter().find(|s| accepts.contains(s)) {
                Some(&cipher_suite) => ProbeOutcome::ServerHello { version: 0x0303, cipher_suite },
                None => ProbeOutcome::Alert { level: 2, description: 40 },
            };
            e.record(&outcome);
            assert!(connections <= offer.suites.len() + 1, "the walk must end");
        }
        (e, connections)
    }

    #[test]
    fn the_walk_names_every_accepted_suite_and_ends() {
        let offer = plan(Some(&["static-rsa-cbc".into()]), &[], &[]).unwrap().remove(0);
        let (e, n) = walk(&offer, &[]);
        assert_eq!((e.accepted(), n), (&[][..], 1), "a conformant server: one connection");
        assert!(e.end().unwrap().contains("handshake_failure"));
        let (e, n) = walk(&offer, &[0x0035, 0x0041, 0xFFFF]);
        assert_eq!((e.accepted(), n), (&[0x0035, 0x0041][..], 3));
        let (e, n) = walk(&offer, offer.suites.as_slice());
        assert_eq!((e.accepted().len(), n), (offer.suites.len(), offer.suites.len()));
        assert_eq!(e.end(), Some("every suite of the family was accepted"));
        // A server answering with a suite that was not offered ends the walk at once.
        let mut e = Enumeration::new(&offer);
        e.record(&ProbeOutcome::ServerHello { version: 0x0303, cipher_suite: 0xC030 });
        assert_eq!((e.next_offer(), e.accepted()), (None, &[0xC030][..]));
        assert!(e.end().unwrap().contains("not offered"));
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = plan(Some(&["rc5".into()]), &[], &[]).unwrap_err();
        assert!(e.contains("`rc5`") && e.contains("static-rsa-cbc"), "{e}");
        assert!(plan(None, &["TLS_NOPE".into()], &[]).unwrap_err().contains("TLS_NOPE"));
    }
}
