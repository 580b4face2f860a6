//! Families of TLS 1.2 cipher suites outside any sensible allow-list, probed like testssl.sh:
//! one ClientHello per family offering all of its suites (minus the target's allow-list), then,
//! while the server picks one, the same family without the picked suite. One connection per
//! family for a conformant server, one more per suite it accepts: no family can be missed.
//!
//! Every suite belongs to exactly one family; names come from [`super::suites`] (checked against
//! the IANA registry).

use super::suites::suite_code;

/// A group of suites sharing the property that makes them unwanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// Stable id, used in scenarios (`families: [static-rsa-cbc]`).
    pub id: &'static str,
    pub title: &'static str,
    pub title_fr: &'static str,
    pub suites: &'static [u16],
}

pub const FAMILIES: &[Family] = &[
    Family {
        id: "static-rsa-cbc",
        title: "static RSA key exchange, CBC",
        title_fr: "échange de clés RSA statique, CBC",
        suites: &[
            0x002F, 0x0035, 0x003C, 0x003D, 0x0041, 0x0084, 0x00BA, 0x00C0, 0x0096, 0x0007,
        ],
    },
    Family {
        id: "static-rsa-aead",
        title: "static RSA key exchange, GCM/CCM/ARIA",
        title_fr: "échange de clés RSA statique, GCM/CCM/ARIA",
        suites: &[
            0x009C, 0x009D, 0xC09C, 0xC09D, 0xC0A0, 0xC0A1, 0xC050, 0xC051,
        ],
    },
    Family {
        id: "ecdhe-cbc-sha1",
        title: "ECDHE, CBC with SHA-1",
        title_fr: "ECDHE, CBC avec SHA-1",
        suites: &[
            0xC009, 0xC00A, 0xC013, 0xC014,
        ],
    },
    Family {
        id: "ecdhe-cbc-sha2",
        title: "ECDHE, CBC with SHA-2",
        title_fr: "ECDHE, CBC avec SHA-2",
        suites: &[
            0xC023, 0xC024, 0xC027, 0xC028, 0xC072, 0xC073, 0xC076, 0xC077,
        ],
    },
    Family {
        id: "ecdhe-aead",
        title: "ECDHE, GCM/CCM/ARIA (RSA and ECDSA)",
        title_fr: "ECDHE, GCM/CCM/ARIA (RSA et ECDSA)",
        suites: &[
            0xC02B, 0xC02C, 0xC02F, 0xC030, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF, 0xC05C, 0xC05D, 0xC060,
            0xC061,
        ],
    },
    Family {
        id: "chacha20",
        title: "ChaCha20-Poly1305",
        title_fr: "ChaCha20-Poly1305",
        suites: &[
            0xCCA8, 0xCCA9, 0xCCAA,
        ],
    },
    Family {
        id: "dhe",
        title: "finite-field DHE",
        title_fr: "DHE (groupes finis)",
        suites: &[
            0x0033, 0x0039, 0x0067, 0x006B, 0x009E, 0x009F, 0x0032, 0x0038, 0x0040, 0x006A, 0x00A2,
            0x00A3, 0x0045, 0x0088, 0x00BE, 0x00C4, 0xC09E, 0xC09F, 0xC0A2, 0xC0A3, 0xC052, 0xC053,
            0x009A, 0x0044, 0x0087,
        ],
    },
    Family {
        id: "static-dh",
        title: "static DH and ECDH key exchange",
        title_fr: "échange de clés DH et ECDH statique",
        suites: &[
            0xC004, 0xC005, 0xC00E, 0xC00F, 0xC025, 0xC026, 0xC029, 0xC02A, 0xC02D, 0xC02E, 0xC031,
            0xC032, 0x0030, 0x0031, 0x0036, 0x0037, 0x003E, 0x003F, 0x0068, 0x0069, 0x00A0, 0x00A1,
            0x00A4, 0x00A5,
        ],
    },
    Family {
        id: "3des",
        title: "3DES",
        title_fr: "3DES",
        suites: &[
            0x000A, 0x0016, 0x0013, 0xC012, 0xC008, 0xC003, 0xC00D, 0x000D, 0x0010,
        ],
    },
    Family {
        id: "rc4",
        title: "RC4",
        title_fr: "RC4",
        suites: &[
            0x0004, 0x0005, 0xC011, 0xC007,
        ],
    },
    Family {
        id: "null",
        title: "NULL encryption",
        title_fr: "chiffrement NULL",
        suites: &[
            0x0001, 0x0002, 0x003B, 0xC006, 0xC010,
        ],
    },
    Family {
        id: "export-des",
        title: "EXPORT and single DES",
        title_fr: "EXPORT et DES simple",
        suites: &[
            0x0003, 0x0006, 0x0008, 0x0009, 0x000B, 0x000C, 0x000E, 0x000F, 0x0011, 0x0012, 0x0014,
            0x0015,
        ],
    },
    Family {
        id: "anonymous",
        title: "no server authentication (DH_anon, ECDH_anon)",
        title_fr: "anonymes (sans authentification du serveur)",
        suites: &[
            0x0018, 0x001B, 0x0034, 0x003A, 0x006C, 0x006D, 0x00A6, 0x00A7, 0xC015, 0xC017, 0xC018,
            0xC019, 0x0017, 0x001A,
        ],
    },
];

/// The id scenarios use for explicit `candidates`.
pub const CANDIDATES: &str = "candidates";

/// The family with this id.
pub fn family(id: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.id.eq_ignore_ascii_case(id.trim()))
}

/// Every family id, for error messages and docs.
pub fn family_ids() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.id).collect()
}

/// What one family probe offers first: the family minus the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyOffer {
    pub id: String,
    pub title: String,
    pub suites: Vec<u16>,
}

impl FamilyOffer {
    /// `static-rsa-cbc (static RSA key exchange, CBC): 10 suite(s)`.
    pub fn describe(&self) -> String {
        format!("{} ({}): {} suite(s) outside the allow-list", self.id, self.title, self.suites.len())
    }
}

/// The offers for the families `ids` (`None`: every family) and the explicit `candidates` (one
/// more offer), each without the suites of `allow` (IANA names). Offers left empty are dropped.
/// Errors name an unknown family or suite.
pub fn plan(ids: Option<&[String]>, candidates: &[String], allow: &[String]) -> Result<Vec<FamilyOffer>, String> {
    let allowed: Vec<u16> = allow.iter().filter_map(|a| suite_code(a)).collect();
    let outside = |suites: &[u16]| -> Vec<u16> { suites.iter().copied().filter(|s| !allowed.contains(s)).collect() };
    let chosen: Vec<&Family> = match ids {
        None => FAMILIES.iter().collect(),
        Some(ids) => ids.iter().map(|id| family(id).ok_or_else(|| unknown_family(id))).collect::<Result<_, _>>()?,
    };
    let mut offers: Vec<FamilyOffer> = chosen
        .into_iter()
        .map(|f| FamilyOffer { id: f.id.into(), title: f.title.into(), suites: outside(f.suites) })
        .collect();
    if !candidates.is_empty() {
        let codes = candidates
            .iter()
            .map(|n| suite_code(n).ok_or_else(|| format!("unknown cipher suite name `{n}` (IANA names, e.g. TLS_RSA_WITH_AES_256_CBC_SHA)")))
            .collect::<Result<Vec<u16>, _>>()?;
        offers.push(FamilyOffer { id: CANDIDATES.into(), title: "suites listed in the scenario".into(), suites: outside(&codes) });
    }
    offers.retain(|o| !o.suites.is_empty());
    Ok(offers)
}

fn unknown_family(id: &str) -> String {
    format!("unknown suite family `{id}`; known: all, {}", family_ids().join(", "))
}
