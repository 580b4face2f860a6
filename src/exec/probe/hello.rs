//! A hand-built ClientHello record (RFC 5246 §7.4.1.2), because rustls cannot offer TLS 1.0/1.1
//! or suites outside its allow-list, and the legacy checks need exactly that.

use serde::{Deserialize, Serialize};

use crate::cipher::suites::{describe_suite, describe_version};

/// What one probe offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// `client_version`: 0x0300 (SSL 3.0) to 0x0303 (TLS 1.2). TLS 1.3 needs key shares: use rustls.
    pub version: u16,
    pub cipher_suites: Vec<u16>,
    /// Sent as SNI unless empty or an IP address.
    pub server_name: String,
}

/// The suites a pre-1.2 client typically offers: what a server accepting SSL 3.0 or TLS 1.0/1.1
/// would pick from (RC4 last, for SSL 3.0-only servers).
pub const LEGACY_SUITES: &[u16] =
    &[0xC014, 0xC013, 0xC00A, 0xC009, 0x0039, 0x0033, 0x0035, 0x002F, 0xC012, 0x0016, 0x000A, 0x0005, 0x0004];

impl Offer {
    /// An SSL 3.0 (0x0300), TLS 1.0 (0x0301) or 1.1 (0x0302) offer with [`LEGACY_SUITES`].
    pub fn legacy(version: u16, server_name: &str) -> Self {
        Offer { version, cipher_suites: LEGACY_SUITES.to_vec(), server_name: server_name.to_string() }
    }

    /// A TLS 1.2 offer of exactly `suites`.
    pub fn tls12(suites: &[u16], server_name: &str) -> Self {
        Offer { version: 0x0303, cipher_suites: suites.to_vec(), server_name: server_name.to_string() }
    }

    /// One line for the transcript.
    pub fn describe(&self) -> String {
        let suites: Vec<String> = self.cipher_suites.iter().map(|s| describe_suite(*s)).collect();
        let sni = if sends_sni(&self.server_name) { self.server_name.as_str() } else { "(none)" };
        format!(
            "<TLS ClientHello: version {}, suites [{}], SNI {sni}>",
            describe_version(self.version),
            suites.join(", ")
        )
    }

    /// Why this offer cannot be encoded, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(0x0300..=0x0303).contains(&self.version) {
            return Err(format!("version 0x{:04X} is not 0x0300..=0x0303", self.version));
        }
        if self.cipher_suites.is_empty() || self.cipher_suites.len() > 1000 {
            return Err("between 1 and 1000 cipher suites must be offered".into());
        }
        if self.server_name.len() > 255 || !self.server_name.is_ascii() {
            return Err("the server name must be ASCII, at most 255 bytes".into());
        }
        Ok(())
    }
}

fn sends_sni(name: &str) -> bool {
    !name.is_empty() && name.parse::<std::net::IpAddr>().is_err()
}

/// The record carrying the ClientHello. `offer` must have passed [`Offer::check`].
pub(crate) fn client_hello_record(offer: &Offer, random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&offer.version.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // empty session id
    put_u16(&mut body, offer.cipher_suites.len() * 2);
    for suite in &offer.cipher_suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    let extensions = extensions(offer);
    put_u16(&mut body, extensions.len());
    body.extend_from_slice(&extensions);

    let mut handshake = vec![1]; // client_hello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    // Record version 0x0301 whatever the offer: what deployed clients send (RFC 5246 appendix E.1).
    let mut record = vec![0x16, 0x03, 0x01];
    put_u16(&mut record, handshake.len());
    record.extend_from_slice(&handshake);
    record
}

fn extensions(offer: &Offer) -> Vec<u8> {
    let mut out = Vec::new();
    if sends_sni(&offer.server_name) {
        let name = offer.server_name.as_bytes();
        let mut list = vec![0]; // host_name
        put_u16(&mut list, name.len());
        list.extend_from_slice(name);
        let mut data = Vec::new();
        put_u16(&mut data, list.len());
        data.extend_from_slice(&list);
        extension(&mut out, 0x0000, &data);
    }
    // supported_groups: x25519, secp256r1, secp384r1.
    extension(&mut out, 0x000A, &[0, 6, 0x00, 0x1D, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed.
    extension(&mut out, 0x000B, &[1, 0]);
    if offer.version >= 0x0303 {
        extension(&mut out, 0x000D, &signature_algorithms());
    }
    extension(&mut out, 0x0017, &[]); // extended_master_secret
    extension(&mut out, 0xFF01, &[0]); // renegotiation_info, initial handshake
    out
}

fn signature_algorithms() -> Vec<u8> {
    const SCHEMES: [u16; 11] = [
        0x0403, 0x0503, 0x0603, // ecdsa_secp{256,384,521}r1_sha{256,384,512}
        0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha{256,384,512}
        0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha{256,384,512}
        0x0807, // ed25519
        0x0201, // rsa_pkcs1_sha1 (what a legacy server may still need)
    ];
    let mut data = Vec::new();
    put_u16(&mut data, SCHEMES.len() * 2);
    for s in SCHEMES {
        data.extend_from_slice(&s.to_be_bytes());
    }
    data
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    put_u16(out, data.len());
    out.extend_from_slice(data);
}

/// Lengths here are bounded by [`Offer::check`] far below 64 KiB.
fn put_u16(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u16).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], i: usize) -> u16 {
        u16::from_be_bytes([b[i], b[i + 1]])
    }

    /// The extension types of a record built with an empty session id.
    fn extension_kinds(rec: &[u8]) -> Vec<u16> {
        let suites_len = u16_at(rec, 44) as usize;
        let mut i = 46 + suites_len + 2 + 2;
        let mut kinds = Vec::new();
        while i < rec.len() {
            kinds.push(u16_at(rec, i));
            i += 4 + u16_at(rec, i + 2) as usize;
        }
        assert_eq!(i, rec.len(), "extension lengths do not add up");
        kinds
    }

    #[test]
    fn record_layout_is_consistent() {
        let offer = Offer::tls12(&[0xC02B, 0xC030], "mx.op.test");
        let rec = client_hello_record(&offer, [7; 32]);
        assert_eq!(&rec[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16_at(&rec, 3) as usize, rec.len() - 5);
        assert_eq!(rec[5], 1);
        let hs_len = u32::from_be_bytes([0, rec[6], rec[7], rec[8]]) as usize;
        assert_eq!(hs_len, rec.len() - 9);
        assert_eq!(u16_at(&rec, 9), 0x0303);
        assert_eq!(&rec[11..43], &[7; 32]);
        assert_eq!(rec[43], 0);
        assert_eq!(u16_at(&rec, 44), 4);
        assert_eq!((u16_at(&rec, 46), u16_at(&rec, 48)), (0xC02B, 0xC030));
        assert_eq!(&rec[50..52], &[1, 0]);
        let ext_len = u16_at(&rec, 52) as usize;
        assert_eq!(ext_len, rec.len() - 54);
        assert_eq!(extension_kinds(&rec), [0x0000, 0x000A, 0x000B, 0x000D, 0x0017, 0xFF01]);
        let sni = b"mx.op.test";
        assert!(rec.windows(sni.len()).any(|w| w == sni));
    }

    #[test]
    fn legacy_offer_has_no_signature_algorithms_and_ip_gets_no_sni() {
        let rec = client_hello_record(&Offer::legacy(0x0301, "127.0.0.1"), [0; 32]);
        assert_eq!(u16_at(&rec, 9), 0x0301);
        assert_eq!(extension_kinds(&rec), [0x000A, 0x000B, 0x0017, 0xFF01]);
        assert!(!rec.windows(9).any(|w| w == b"127.0.0.1"));
    }

    #[test]
    fn invalid_offers_are_refused() {
        assert!(Offer { version: 0x0304, ..Offer::tls12(&[0x1301], "x") }.check().is_err());
        assert!(Offer::tls12(&[], "x").check().is_err());
        assert!(Offer::tls12(&[0xC02F], &"a".repeat(300)).check().is_err());
        assert!(Offer::legacy(0x0302, "mx").check().is_ok());
    }

    #[test]
    fn description_names_suites() {
        let d = Offer::tls12(&[0xC030, 0x1234], "mx").describe();
        assert_eq!(
            d,
            "<TLS ClientHello: version TLS 1.2 (0x0303), suites [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (0xC030), 0x1234], SNI mx>"
        );
    }
}
