//! Faults `weak-curve` and `small-dh`: simulated weak TLS 1.2 key exchanges (SC.MSS/CONF.03).
//!
//! rustls does no finite-field DHE and no curve under 256 bits, so, like `static-rsa-suite`, the
//! mock answers the first ClientHello itself when it matches, with a ServerHello and a
//! ServerKeyExchange naming the weak parameters (placeholder point and signature: a probe reads
//! the parameters only), then closes:
//! - `weak-curve`: a TLS 1.2 hello offering ECDHE suites with only curves under 256 bits gets
//!   the first of those curves;
//! - `small-dh`: a TLS 1.2 hello offering an allow-listed DHE suite (0x009F, 0x009E) and no
//!   ECDHE suite gets that suite with a 1024-bit prime.
//! What cannot be shown: a real weak handshake completed end to end.

use tokio::net::TcpStream;

use super::legacy_hello::{HelloOffer, answer_with, server_hello};

const TLS12: u16 = 0x0303;
/// Curves under 256 bits (RFC 4492 §5.1.1 codes).
const WEAK_CURVES: [u16; 15] = [1, 2, 3, 4, 5, 6, 7, 8, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15];
const ALLOWED_DHE: [u16; 2] = [0x009F, 0x009E];

pub async fn answer_if_weak_curve(tcp: &mut TcpStream) -> std::io::Result<bool> {
    answer_with(tcp, |record, offer| {
        let groups = supported_groups(record)?;
        let suite = *offer.cipher_suites.iter().find(|s| is_ecdhe(**s))?;
        let all_weak = !groups.is_empty() && groups.iter().all(|g| WEAK_CURVES.contains(g));
        (tls12_only(offer) && all_weak).then(|| flight(suite, &ecdhe_params(groups[0])))
    })
    .await
}

pub async fn answer_if_small_dh(tcp: &mut TcpStream) -> std::io::Result<bool> {
    answer_with(tcp, |_, offer| {
        let suite = *offer.cipher_suites.iter().find(|s| ALLOWED_DHE.contains(s))?;
        (tls12_only(offer) && !offer.cipher_suites.iter().any(|s| is_ecdhe(*s))).then(|| flight(suite, &dh_params(1024)))
    })
    .await
}

fn tls12_only(offer: &HelloOffer) -> bool {
    offer.highest_version() == TLS12
}

fn is_ecdhe(suite: u16) -> bool {
    (0xC006..=0xC014).contains(&suite) || (0xC023..=0xC032).contains(&suite) || [0xCCA8, 0xCCA9].contains(&suite)
}

/// ServerHello, then a ServerKeyExchange carrying `params` and a placeholder signature.
fn flight(suite: u16, params: &[u8]) -> Vec<u8> {
    let mut out = server_hello(TLS12, suite);
    let mut body = params.to_vec();
    body.extend([0x04, 0x01, 0x00, 0x02, 0x00, 0x00]); // rsa_pkcs1_sha256, 2-byte signature
    let mut message = vec![12, 0];
    message.extend((body.len() as u16).to_be_bytes());
    message.extend(body);
    out.extend([0x16, 0x03, 0x03]);
    out.extend((message.len() as u16).to_be_bytes());
    out.extend(message);
    out
}

/// named_curve, the curve, a placeholder one-byte point.
fn ecdhe_params(curve: u16) -> Vec<u8> {
    let mut p = vec![3];
    p.extend(curve.to_be_bytes());
    p.extend([1, 0x04]);
    p
}

/// A `bits`-bit odd prime stand-in (top bit set), g = 2, a one-byte Ys.
fn dh_params(bits: usize) -> Vec<u8> {
    let len = bits / 8;
    let mut p = (len as u16).to_be_bytes().to_vec();
    p.push(0xC9);
    p.extend(std::iter::repeat_n(0xFF, len - 1));
    p.extend([0, 1, 2, 0, 1, 5]);
    p
}

/// The supported_groups of a ClientHello record, or `None` when it has none.
fn supported_groups(record: &[u8]) -> Option<Vec<u16>> {
    let u16_at = |i: usize| record.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let mut i = 5 + 4 + 2 + 32; // record header, handshake header, version, random
    i += 1 + usize::from(*record.get(i)?);
    i += 2 + usize::from(u16_at(i)?);
    i += 1 + usize::from(*record.get(i)?);
    let end = i + 2 + usize::from(u16_at(i)?);
    i += 2;
    while i + 4 <= end {
        let (kind, len) = (u16_at(i)?, usize::from(u16_at(i + 2)?));
        if kind == 0x000A {
            let list = record.get(i + 6..i + 4 + len)?;
            return Some(list.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect());
        }
        i += 4 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.2 ClientHello record with `suites` and `groups`.
    fn hello(suites: &[u16], groups: &[u16]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([0u8; 32]);
        body.push(0);
        body.extend(((suites.len() * 2) as u16).to_be_bytes());
        suites.iter().for_each(|s| body.extend(s.to_be_bytes()));
        body.extend([1, 0]);
        let mut list = ((groups.len() * 2) as u16).to_be_bytes().to_vec();
        groups.iter().for_each(|g| list.extend(g.to_be_bytes()));
        let mut ext = vec![0x00, 0x0B, 0, 2, 1, 0, 0x00, 0x0A];
        ext.extend((list.len() as u16).to_be_bytes());
        ext.extend(list);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn supported_groups_are_read() {
        assert_eq!(supported_groups(&hello(&[0xC02F], &[0x13, 0x15])), Some(vec![0x13, 0x15]));
        assert_eq!(supported_groups(&hello(&[0xC02F], &[])), Some(vec![]));
        assert_eq!(supported_groups(&[0x16, 3, 1]), None);
    }

    #[test]
    fn flights_carry_the_weak_parameters() {
        let f = flight(0x009F, &dh_params(1024));
        let ske = &f[f.len() - (4 + 2 + 128 + 6 + 6)..];
        assert_eq!((ske[0], u16::from_be_bytes([ske[4], ske[5]])), (12, 128));
        let f = flight(0xC02F, &ecdhe_params(0x13));
        assert_eq!(&f[f.len() - 11..f.len() - 8], &[3, 0, 0x13]);
    }
}
