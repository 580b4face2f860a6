//! What happens to an accepted message: the From: check, local delivery (trace headers
//! prepended, everything else byte for byte — unless a fault alters it), MDN from the responder
//! mailbox, and DSNs to the sender.

use std::collections::BTreeSet;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use mail_parser::{Message, MessageParser, MimeHeaders};

use super::dsn::{self, Outcome, Report};
use super::envelope::Envelope;
use super::headers;
use super::mdn;
use super::reply::Reply;
use crate::accounts::Behaviour;
use crate::context::MockContext;
use crate::faults::Fault;

/// An accepted transaction.
pub struct Accepted<'a> {
    pub queue_id: &'a str,
    pub envelope: &'a Envelope,
    /// EHLO name, client address, TLS and authentication, for the Received header.
    pub helo: &'a str,
    pub peer: IpAddr,
    pub tls: bool,
    pub raw: &'a [u8],
    pub arrival: DateTime<Utc>,
}

/// What delivery did (for logs and tests).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub stored: Vec<String>,
    pub dsns: usize,
    pub mdns: usize,
}

/// The message's From: must be exactly the authenticated mailbox (every address of it), unless
/// behaviour `from-header-unchecked` (or fault `no-sender-check`) is on.
pub fn check_from(ctx: &MockContext, mailbox: &str, raw: &[u8]) -> Result<(), Reply> {
    if ctx.faults.is_on(Fault::NoSenderCheck) || !ctx.behaviours.check_from_header {
        return Ok(());
    }
    let parsed = MessageParser::default().parse_headers(raw);
    let from: Vec<String> = parsed
        .as_ref()
        .and_then(|m| m.from())
        .map(|a| a.iter().filter_map(|a| a.address()).map(str::to_string).collect())
        .unwrap_or_default();
    if !from.is_empty() && from.iter().all(|a| a.eq_ignore_ascii_case(mailbox)) {
        Ok(())
    } else {
        Err(Reply::new(550, format!("5.7.1 From: header {from:?} is not the authenticated mailbox <{mailbox}>")))
    }
}

/// Delivers `accepted` to its local recipients and sends the notifications it calls for.
pub fn deliver(ctx: &MockContext, accepted: &Accepted<'_>) -> Delivered {
    let stored_copy = apply_delivery_faults(ctx, accepted.raw);
    let parsed = MessageParser::default().parse(accepted.raw);
    let mut done = Delivered::default();
    let mut outcomes = Vec::new();
    for recipient in &accepted.envelope.recipients {
        let stored = recipient.destination == super::envelope::Destination::Local && {
            let mut copy = trace_headers(ctx, accepted, &recipient.address).into_bytes();
            copy.extend_from_slice(&stored_copy);
            ctx.store.deliver(&recipient.address, "INBOX", copy, BTreeSet::new()).is_some()
        };
        if stored {
            done.stored.push(recipient.address.clone());
            if let Some(message) = &parsed {
                done.mdns += answer_mdn(ctx, accepted, &recipient.address, message);
            }
        }
        outcomes.push((recipient, Outcome::of(recipient.destination, stored)));
    }
    done.dsns = send_dsns(ctx, accepted, &outcomes);
    done
}

/// `Return-Path` and `Received`, the only headers the operator adds.
fn trace_headers(ctx: &MockContext, accepted: &Accepted<'_>, recipient: &str) -> String {
    let with = if accepted.tls { "ESMTPSA" } else { "ESMTPA" };
    format!(
        "Return-Path: <{}>\r\nReceived: from {} ([{}])\r\n\tby {} (mssconf-mock) with {with} id {}\r\n\tfor <{recipient}>; {}\r\n",
        accepted.envelope.sender,
        accepted.helo,
        accepted.peer,
        ctx.host_name,
        accepted.queue_id,
        accepted.arrival.to_rfc2822()
    )
}

/// Faults `strip-xmss-headers`, `alter-attachment` and `alter-mdn` change the stored copy.
fn apply_delivery_faults(ctx: &MockContext, raw: &[u8]) -> Vec<u8> {
    let mut copy = raw.to_vec();
    if ctx.faults.is_on(Fault::StripXmssHeaders) {
        copy = headers::without_fields(&copy, |name| name.to_ascii_lowercase().starts_with("x-mss-"));
    }
    if ctx.faults.is_on(Fault::AlterAttachment) {
        alter_first_attachment(&mut copy);
    }
    if ctx.faults.is_on(Fault::AlterMdn)
        && let Some(altered) = mdn::altered(&copy)
    {
        copy = altered;
    }
    copy
}

/// Flips one character of the first attachment's encoded body (the first base64 character
/// fully determines the first decoded byte, so the decoded attachment changes by one byte).
/// Returns whether something was changed.
pub fn alter_first_attachment(raw: &mut [u8]) -> bool {
    // A report's machine-readable part (message/disposition-notification…) is not an attachment.
    let range = MessageParser::default().parse(&raw[..]).and_then(|m| {
        m.attachments()
            .find(|p| p.content_type().is_none_or(|c| !c.ctype().eq_ignore_ascii_case("message")))
            .map(|p| (p.offset_body as usize, p.offset_end as usize))
    });
    let Some((start, end)) = range else { return false };
    let Some(body) = raw.get_mut(start..end) else { return false };
    match body.iter_mut().find(|b| b.is_ascii_alphanumeric() || **b == b'+' || **b == b'/') {
        Some(b) => {
            *b = if *b == b'A' { b'B' } else { b'A' };
            true
        }
        None => false,
    }
}

/// The `mdn_responder` mailbox answers a `Disposition-Notification-To` request, if the request
/// is addressed back to the envelope sender (RFC 8098 §3: otherwise a user would have to
/// confirm) and that address is a local mailbox. `mdn_silent` never answers.
fn answer_mdn(ctx: &MockContext, accepted: &Accepted<'_>, recipient: &str, message: &Message<'_>) -> usize {
    let responder = ctx.accounts.get(recipient).filter(|a| a.behaviour == Behaviour::MdnResponder);
    let (Some(responder), Some(to)) = (responder, mdn::requested_by(message)) else { return 0 };
    if !to.eq_ignore_ascii_case(&accepted.envelope.sender) || !ctx.store.has_mailbox(&to) {
        return 0;
    }
    let mdn = mdn::build(&ctx.host_name, &responder.address, &to, accepted.raw, message);
    let mut copy = b"Return-Path: <>\r\n".to_vec();
    copy.extend(mdn);
    usize::from(ctx.store.deliver(&to, "INBOX", copy, BTreeSet::new()).is_some())
}

/// One DSN for the failures and one for the successes that NOTIFY asked for, into the sender's
/// INBOX. Fault `no-dsn` keeps only the bounces any MTA sends (failures, NOTIFY ignored).
fn send_dsns(ctx: &MockContext, accepted: &Accepted<'_>, outcomes: &[(&super::envelope::Recipient, Outcome)]) -> usize {
    let no_dsn = ctx.faults.is_on(Fault::NoDsn);
    let mut sent = 0;
    for failures in [true, false] {
        let entries: Vec<_> = outcomes
            .iter()
            .filter(|(_, o)| o.is_failure() == failures)
            .filter(|(r, o)| if no_dsn { o.is_failure() } else { dsn::wanted(r, *o) })
            .map(|(r, o)| (*r, *o))
            .collect();
        if entries.is_empty() || !ctx.store.has_mailbox(&accepted.envelope.sender) {
            continue;
        }
        let report = Report {
            host: &ctx.host_name,
            queue_id: &format!("{}.{}", accepted.queue_id, if failures { "f" } else { "s" }),
            envelope: accepted.envelope,
            entries,
            original: accepted.raw,
            arrival: accepted.arrival,
        };
        let mut copy = b"Return-Path: <>\r\n".to_vec();
        copy.extend(dsn::build(&report));
        sent += usize::from(ctx.store.deliver(&accepted.envelope.sender, "INBOX", copy, BTreeSet::new()).is_some());
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_must_match_the_authenticated_mailbox() {
        let ctx = crate::test_support::context(&[]);
        assert!(check_from(&ctx, "a@x.test", b"From: Dr A <A@x.test>\r\n\r\nhi").is_ok());
        assert_eq!(check_from(&ctx, "a@x.test", b"From: b@x.test\r\n\r\nhi").unwrap_err().code, 550);
        assert_eq!(check_from(&ctx, "a@x.test", b"Subject: none\r\n\r\nhi").unwrap_err().code, 550);
        let ctx = crate::test_support::context(&[Fault::NoSenderCheck]);
        assert!(check_from(&ctx, "a@x.test", b"From: b@x.test\r\n\r\nhi").is_ok());
        let ctx = crate::test_support::context_with(&[], &[crate::behaviours::Behaviour::FromHeaderUnchecked]);
        assert!(check_from(&ctx, "a@x.test", b"From: b@x.test\r\n\r\nhi").is_ok());
    }

    #[test]
    fn alteration_changes_one_byte_of_the_first_attachment() {
        let msg = b"From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/zip; name=IHE_XDM.ZIP\r\n\
Content-Disposition: attachment; filename=IHE_XDM.ZIP\r\nContent-Transfer-Encoding: base64\r\n\r\n\
UEsDBAoAAAAAAA==\r\n--b--\r\n";
        let mut altered = msg.to_vec();
        assert!(alter_first_attachment(&mut altered));
        let diffs: Vec<_> = msg.iter().zip(&altered).enumerate().filter(|(_, (a, b))| a != b).collect();
        assert_eq!(diffs.len(), 1);
        let before = MessageParser::default().parse(&msg[..]).unwrap();
        let after = MessageParser::default().parse(&altered[..]).unwrap();
        assert_ne!(before.attachment(0).unwrap().contents(), after.attachment(0).unwrap().contents());
        assert!(!alter_first_attachment(&mut b"From: a\r\n\r\nno attachment".to_vec()));
        // A read receipt's notification part is not an attachment (fault alter-mdn's business).
        let mdn = b"From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; \
boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b\r\nContent-Type: message/disposition-notification\r\n\r\n\
Final-Recipient: rfc822; a@x\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n";
        assert!(!alter_first_attachment(&mut mdn.to_vec()));
    }
}
