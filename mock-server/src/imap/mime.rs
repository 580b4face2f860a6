//! The MIME tree of a stored message, as IMAP numbers it (RFC 3501 §6.4.5), built from
//! mail-parser's parse of the raw bytes. Every node keeps byte ranges of the stored message so
//! that body sections are returned exactly as received.

use std::num::NonZeroU32;

use mail_parser::{Message, MessageParser, MessagePart, PartType};

/// Deeper structures than this are shown as opaque leaves (a hostile message cannot make the
/// server recurse without bound).
const MAX_DEPTH: usize = 32;

/// One MIME entity: its header block (blank line included) and its body, as stored.
pub struct Node<'a> {
    pub header: &'a [u8],
    pub body: &'a [u8],
    pub part: &'a MessagePart<'a>,
    pub kind: NodeKind<'a>,
}

pub enum NodeKind<'a> {
    Leaf,
    Multipart(Vec<Node<'a>>),
    /// `message/rfc822`: the encapsulated message and its own root entity.
    Message { message: &'a Message<'a>, root: Box<Node<'a>> },
}

/// Parses a stored message. `None` only for input mail-parser cannot read at all.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

/// The root entity of a parsed message.
pub fn tree<'a>(message: &'a Message<'a>) -> Option<Node<'a>> {
    node(message, 0, 0)
}

fn node<'a>(message: &'a Message<'a>, index: usize, depth: usize) -> Option<Node<'a>> {
    let part = message.parts.get(index)?;
    let raw: &'a [u8] = message.raw_message.as_ref();
    let header = slice(raw, part.offset_header, part.offset_body);
    let body = slice(raw, part.offset_body, part.offset_end);
    let kind = if depth >= MAX_DEPTH {
        NodeKind::Leaf
    } else {
        match &part.body {
            PartType::Multipart(ids) => NodeKind::Multipart(
                ids.iter().filter_map(|&id| node(message, id as usize, depth + 1)).collect(),
            ),
            PartType::Message(inner) => match node(inner, 0, depth + 1) {
                Some(root) => NodeKind::Message { message: inner, root: Box::new(root) },
                None => NodeKind::Leaf,
            },
            _ => NodeKind::Leaf,
        }
    };
    Some(Node { header, body, part, kind })
}

fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    raw.get(start as usize..end as usize).unwrap_or_default()
}

/// The entity a part path (`1.2.3`) designates. Numbers inside a message count the parts of its
/// body: the children of a multipart body, or `1` for a single-part body.
pub fn resolve<'n, 'a>(root: &'n Node<'a>, path: &[NonZeroU32]) -> Option<&'n Node<'a>> {
    let mut current: Option<&'n Node<'a>> = None;
    for number in path {
        let index = number.get() as usize - 1;
        current = Some(match current {
            None => body_part(root, index)?,
            Some(node) => match &node.kind {
                NodeKind::Multipart(children) => children.get(index)?,
                NodeKind::Message { root, .. } => body_part(root, index)?,
                NodeKind::Leaf => return None,
            },
        });
    }
    current.or(Some(root))
}

/// Part `index + 1` of the body of the message whose root entity is `message_root`.
fn body_part<'n, 'a>(message_root: &'n Node<'a>, index: usize) -> Option<&'n Node<'a>> {
    match &message_root.kind {
        NodeKind::Multipart(children) => children.get(index),
        _ if index == 0 => Some(message_root),
        _ => None,
    }
}

/// Number of lines of a body, as BODYSTRUCTURE reports them.
pub fn line_count(body: &[u8]) -> u32 {
    let breaks = body.iter().filter(|&&b| b == b'\n').count();
    let unterminated = !body.is_empty() && !body.ends_with(b"\n");
    (breaks + usize::from(unterminated)).try_into().unwrap_or(u32::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const SIMPLE: &[u8] = b"From: Dr Martin <dr.martin@op.test>\r\nTo: b@op.test\r\nSubject: Bonjour\r\nMessage-ID: <1@op.test>\r\nX-MSS-NIL: oui\r\n\r\nLine one\r\nLine two\r\n";

    pub const MIXED: &[u8] = b"From: a@op.test\r\nSubject: pj\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n--b2\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b2--\r\n\r\n--b1\r\nContent-Type: application/zip; name=\"IHE_XDM.zip\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"IHE_XDM.zip\"\r\n\r\nUEsDBAo=\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@op.test\r\nSubject: inner\r\n\r\ninner body\r\n--b1--\r\n";

    fn num(path: &[u32]) -> Vec<NonZeroU32> {
        path.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect()
    }

    #[test]
    fn single_part_sections() {
        let message = parse(SIMPLE).unwrap();
        let root = tree(&message).unwrap();
        assert!(root.header.starts_with(b"From:") && root.header.ends_with(b"oui\r\n\r\n"));
        assert_eq!(root.body, b"Line one\r\nLine two\r\n");
        assert_eq!(resolve(&root, &num(&[1])).unwrap().body, root.body);
        assert!(resolve(&root, &num(&[2])).is_none());
        assert!(resolve(&root, &num(&[1, 1])).is_none());
        assert_eq!(line_count(root.body), 2);
    }

    #[test]
    fn multipart_parts_exclude_the_boundary_line_break() {
        let message = parse(MIXED).unwrap();
        let root = tree(&message).unwrap();
        assert_eq!(resolve(&root, &num(&[1, 1])).unwrap().body, b"plain text");
        assert_eq!(resolve(&root, &num(&[1, 2])).unwrap().body, b"<p>html</p>");
        let zip = resolve(&root, &num(&[2])).unwrap();
        assert_eq!(zip.body, b"UEsDBAo=");
        assert!(zip.header.starts_with(b"Content-Type: application/zip") && zip.header.ends_with(b"\r\n\r\n"));
        let rfc822 = resolve(&root, &num(&[3])).unwrap();
        assert!(rfc822.body.starts_with(b"From: inner@op.test") && rfc822.body.ends_with(b"inner body"));
        let NodeKind::Message { root: inner, .. } = &rfc822.kind else { panic!("not a message") };
        assert_eq!(inner.body, b"inner body");
        assert_eq!(resolve(&root, &num(&[3, 1])).unwrap().body, b"inner body");
        assert!(resolve(&root, &num(&[4])).is_none());
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in [&b""[..], b"\r\n", b"no colon at all", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"] {
            if let Some(m) = parse(raw) {
                let _ = tree(&m).map(|root| resolve(&root, &num(&[1, 2, 3])).is_some());
            }
        }
    }
}
