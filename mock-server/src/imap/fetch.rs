//! FETCH and UID FETCH: message data items computed from the stored bytes.

use std::borrow::Cow;

use chrono::{FixedOffset, Timelike};
use imap_types::ToStatic;
use imap_types::core::{IString, Literal, NString, Vec1};
use imap_types::datetime::DateTime;
use imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section};
use imap_types::response::Data;
use imap_types::sequence::SequenceSet;

use crate::store::{Store, StoredMessage};

use super::flags;
use super::header;
use super::mime::{self, Node, NodeKind};
use super::outcome::Outcome;
use super::structure;
use super::view::View;

pub fn fetch(
    store: &Store,
    mailbox: &str,
    view: &View,
    set: &SequenceSet,
    by_uid: bool,
    items: &MacroOrMessageDataItemNames<'_>,
) -> Outcome {
    let mut names: Vec<MessageDataItemName<'static>> = match items {
        MacroOrMessageDataItemNames::Macro(m) => m.expand().iter().map(|n| n.to_static()).collect(),
        MacroOrMessageDataItemNames::MessageDataItemNames(list) => list.iter().map(|n| n.to_static()).collect(),
    };
    if names.iter().any(|n| matches!(n, MessageDataItemName::Binary { .. } | MessageDataItemName::BinarySize { .. })) {
        return Outcome::bad("BINARY is not supported here");
    }
    // A UID command always reports the UID (RFC 3501 §6.4.8).
    if by_uid && !names.contains(&MessageDataItemName::Uid) {
        names.push(MessageDataItemName::Uid);
    }
    let mut outcome = Outcome::ok(if by_uid { "UID FETCH completed" } else { "FETCH completed" });
    for mut target in view.targets(store, mailbox, set, by_uid) {
        let newly_seen = !view.read_only && !target.message.flags.contains(flags::SEEN) && names.iter().any(marks_seen);
        if newly_seen {
            mark_seen(store, mailbox, &view.folder, target.message.uid);
            target.message.flags.insert(flags::SEEN.to_string());
        }
        let mut items = message_items(&target.message, &names);
        if newly_seen && !names.contains(&MessageDataItemName::Flags) {
            items.push(MessageDataItem::Flags(flags::fetched(&target.message.flags)));
        }
        if let (Ok(items), Ok(seq)) = (Vec1::try_from(items), target.seq.try_into()) {
            outcome.data(Data::Fetch { seq, items });
        }
    }
    outcome
}

/// Non-PEEK body items set `\Seen` (RFC 3501 §6.4.5).
fn marks_seen(name: &MessageDataItemName<'_>) -> bool {
    matches!(
        name,
        MessageDataItemName::BodyExt { peek: false, .. } | MessageDataItemName::Rfc822 | MessageDataItemName::Rfc822Text
    )
}

fn mark_seen(store: &Store, mailbox: &str, folder: &str, uid: u32) {
    store.with_mailbox(mailbox, |m| {
        if let Some(msg) = m.folders.get_mut(folder).and_then(|f| f.messages.iter_mut().find(|msg| msg.uid == uid)) {
            msg.flags.insert(flags::SEEN.to_string());
        }
    });
}

fn needs_structure(name: &MessageDataItemName<'_>) -> bool {
    !matches!(
        name,
        MessageDataItemName::Flags
            | MessageDataItemName::Uid
            | MessageDataItemName::InternalDate
            | MessageDataItemName::Rfc822Size
            | MessageDataItemName::Rfc822
            | MessageDataItemName::BodyExt { section: None, .. }
    )
}

fn message_items(msg: &StoredMessage, names: &[MessageDataItemName<'_>]) -> Vec<MessageDataItem<'static>> {
    let raw: &[u8] = msg.raw.as_slice();
    let parsed = if names.iter().any(needs_structure) { mime::parse(raw) } else { None };
    let root = parsed.as_ref().and_then(|m| mime::tree(m));
    let root = root.as_ref();
    names
        .iter()
        .map(|name| match name {
            MessageDataItemName::Flags => MessageDataItem::Flags(flags::fetched(&msg.flags)),
            MessageDataItemName::Uid => MessageDataItem::Uid(msg.uid.try_into().unwrap_or(std::num::NonZeroU32::MIN)),
            MessageDataItemName::Rfc822Size => MessageDataItem::Rfc822Size(raw.len().try_into().unwrap_or(u32::MAX)),
            MessageDataItemName::InternalDate => MessageDataItem::InternalDate(internal_date(msg)),
            MessageDataItemName::Rfc822 => MessageDataItem::Rfc822(literal(raw)),
            MessageDataItemName::Rfc822Header => MessageDataItem::Rfc822Header(literal(root.map_or(&[][..], |r| r.header))),
            MessageDataItemName::Rfc822Text => MessageDataItem::Rfc822Text(literal(root.map_or(raw, |r| r.body))),
            MessageDataItemName::Envelope => MessageDataItem::Envelope(match (parsed.as_ref(), root) {
                (Some(m), Some(r)) => structure::envelope(m, r),
                _ => empty_envelope(),
            }),
            MessageDataItemName::BodyStructure => MessageDataItem::BodyStructure(body(root, true)),
            MessageDataItemName::Body => MessageDataItem::Body(body(root, false)),
            MessageDataItemName::BodyExt { section, partial, .. } => {
                let bytes = section_bytes(raw, root, section.as_ref());
                let (data, origin) = match (bytes, partial) {
                    (Some(b), Some((origin, len))) => (Some(partial_of(&b, *origin, len.get())), Some(*origin)),
                    (Some(b), None) => (Some(b), None),
                    (None, partial) => (None, partial.map(|p| p.0)),
                };
                MessageDataItem::BodyExt {
                    section: section.as_ref().map(|s| s.to_static()),
                    origin,
                    data: data.map_or(NString::NIL, |b| literal(&b)),
                }
            }
            // Refused before reaching here (BINARY), or feature-gated names: report the size.
            _ => MessageDataItem::Rfc822Size(raw.len().try_into().unwrap_or(u32::MAX)),
        })
        .collect()
}

fn body(root: Option<&Node<'_>>, extended: bool) -> imap_types::body::BodyStructure<'static> {
    match root {
        Some(root) => structure::body_structure(root, extended),
        None => {
            let empty = mime::parse(b"\r\n").expect("an empty message parses");
            let root = mime::tree(&empty).expect("an empty message has a root part");
            structure::body_structure(&root, extended)
        }
    }
}

fn empty_envelope() -> imap_types::envelope::Envelope<'static> {
    imap_types::envelope::Envelope {
        date: NString::NIL,
        subject: NString::NIL,
        from: vec![],
        sender: vec![],
        reply_to: vec![],
        to: vec![],
        cc: vec![],
        bcc: vec![],
        in_reply_to: NString::NIL,
        message_id: NString::NIL,
    }
}

/// The bytes of a body section (RFC 3501 §6.4.5); `None` when the message has no such part.
pub fn section_bytes<'a>(raw: &'a [u8], root: Option<&Node<'a>>, section: Option<&Section<'_>>) -> Option<Cow<'a, [u8]>> {
    let Some(section) = section else { return Some(Cow::Borrowed(raw)) };
    let root = root?;
    let names = |list: &Vec1<imap_types::core::AString<'_>>| -> Vec<String> {
        list.as_ref().iter().map(|n| String::from_utf8_lossy(n.as_ref()).into_owned()).collect()
    };
    // HEADER, TEXT and HEADER.FIELDS of part `p` address the message encapsulated in `p`.
    let message_root = |part: &Option<imap_types::fetch::Part>| -> Option<&Node<'a>> {
        match part {
            None => Some(root),
            Some(p) => match &mime::resolve(root, p.0.as_ref())?.kind {
                NodeKind::Message { root, .. } => Some(root.as_ref()),
                _ => None,
            },
        }
    };
    Some(match section {
        Section::Part(p) => Cow::Borrowed(mime::resolve(root, p.0.as_ref())?.body),
        Section::Mime(p) => Cow::Borrowed(mime::resolve(root, p.0.as_ref())?.header),
        Section::Header(p) => Cow::Borrowed(message_root(p)?.header),
        Section::Text(p) => Cow::Borrowed(message_root(p)?.body),
        Section::HeaderFields(p, list) => Cow::Owned(header::select(message_root(p)?.header, &names(list), false)),
        Section::HeaderFieldsNot(p, list) => Cow::Owned(header::select(message_root(p)?.header, &names(list), true)),
    })
}

fn partial_of<'a>(bytes: &Cow<'a, [u8]>, origin: u32, len: u32) -> Cow<'a, [u8]> {
    let start = (origin as usize).min(bytes.len());
    let end = start.saturating_add(len as usize).min(bytes.len());
    Cow::Owned(bytes[start..end].to_vec())
}

/// Body data always goes as a literal, so the bytes arrive exactly as stored. IMAP literals
/// cannot carry NUL: those (never in valid mail) become spaces.
fn literal(bytes: &[u8]) -> NString<'static> {
    let literal = Literal::try_from(bytes.to_vec()).unwrap_or_else(|_| {
        let cleaned: Vec<u8> = bytes.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
        Literal::try_from(cleaned).unwrap_or_else(|_| Literal::try_from(Vec::new()).expect("empty literal"))
    });
    NString(Some(IString::Literal(literal)))
}

fn internal_date(msg: &StoredMessage) -> DateTime {
    let utc = FixedOffset::east_opt(0).expect("UTC offset");
    let date = msg.internal_date.with_nanosecond(0).unwrap_or(msg.internal_date).with_timezone(&utc);
    DateTime::try_from(date).unwrap_or_else(|_| {
        DateTime::try_from(chrono::DateTime::UNIX_EPOCH.with_timezone(&utc)).expect("epoch is a valid IMAP date")
    })
}

#[cfg(test)]
mod tests {
    use super::super::mime::tests::{MIXED, SIMPLE};
    use super::*;
    use imap_types::fetch::Part;
    use std::num::NonZeroU32;

    fn part(path: &[u32]) -> Part {
        Part(Vec1::try_from(path.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect::<Vec<_>>()).unwrap())
    }

    fn bytes(raw: &[u8], section: Option<Section<'_>>) -> Option<Vec<u8>> {
        let message = mime::parse(raw).unwrap();
        let root = mime::tree(&message).unwrap();
        section_bytes(raw, Some(&root), section.as_ref()).map(|c| c.into_owned())
    }

    #[test]
    fn sections_of_a_simple_message() {
        assert_eq!(bytes(SIMPLE, None).unwrap(), SIMPLE);
        assert!(bytes(SIMPLE, Some(Section::Header(None))).unwrap().ends_with(b"X-MSS-NIL: oui\r\n\r\n"));
        assert_eq!(bytes(SIMPLE, Some(Section::Text(None))).unwrap(), b"Line one\r\nLine two\r\n");
        assert_eq!(bytes(SIMPLE, Some(Section::Part(part(&[1])))).unwrap(), b"Line one\r\nLine two\r\n");
        let fields = Vec1::from(imap_types::core::AString::try_from("x-mss-nil").unwrap());
        assert_eq!(bytes(SIMPLE, Some(Section::HeaderFields(None, fields))).unwrap(), b"X-MSS-NIL: oui\r\n\r\n");
    }

    #[test]
    fn sections_of_nested_parts() {
        assert_eq!(bytes(MIXED, Some(Section::Part(part(&[2])))).unwrap(), b"UEsDBAo=");
        assert!(bytes(MIXED, Some(Section::Mime(part(&[2])))).unwrap().starts_with(b"Content-Type: application/zip"));
        assert_eq!(bytes(MIXED, Some(Section::Text(Some(part(&[3]))))).unwrap(), b"inner body");
        assert!(bytes(MIXED, Some(Section::Header(Some(part(&[3]))))).unwrap().starts_with(b"From: inner@op.test"));
        assert_eq!(bytes(MIXED, Some(Section::Header(Some(part(&[2]))))), None);
        assert_eq!(bytes(MIXED, Some(Section::Part(part(&[9])))), None);
    }

    #[test]
    fn unparsable_messages_still_get_a_structure() {
        let structure = body(None, true);
        assert!(matches!(structure, imap_types::body::BodyStructure::Single { .. }));
        let msg = StoredMessage {
            uid: 1,
            flags: Default::default(),
            raw: std::sync::Arc::new(Vec::new()),
            internal_date: chrono::Utc::now(),
        };
        let names = [MessageDataItemName::Envelope, MessageDataItemName::BodyStructure, MessageDataItemName::Rfc822Header];
        assert_eq!(message_items(&msg, &names).len(), 3);
    }

    #[test]
    fn partial_and_literal() {
        let b: Cow<'_, [u8]> = Cow::Borrowed(b"0123456789");
        assert_eq!(partial_of(&b, 2, 3).as_ref(), b"234");
        assert_eq!(partial_of(&b, 20, 3).as_ref(), b"");
        assert!(matches!(literal(b"a\0b").0, Some(IString::Literal(_))));
    }
}
