//! ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2) of a parsed message.
//!
//! Strings IMAP wants as sent (Date, Subject, Message-ID, Content-ID…) come from the raw header
//! fields; addresses and Content-Type/Disposition parameters from mail-parser's parse.

use imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_types::core::{IString, NString, Vec1};
use imap_types::envelope::{Address, Envelope};
use mail_parser::{Addr, ContentType, HeaderValue, Message, MimeHeaders};

use super::header;
use super::mime::{Node, NodeKind, line_count};

/// The ENVELOPE of a message whose root entity is `root`.
pub fn envelope(message: &Message<'_>, root: &Node<'_>) -> Envelope<'static> {
    let raw = |name| nstring(header::value(root.header, name));
    let from = addresses(message.from());
    let or_from = |list: Vec<Address<'static>>| if list.is_empty() { from.clone() } else { list };
    Envelope {
        date: raw("Date"),
        subject: raw("Subject"),
        sender: or_from(addresses(message.sender())),
        reply_to: or_from(addresses(message.reply_to())),
        from: from.clone(),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        bcc: addresses(message.bcc()),
        in_reply_to: raw("In-Reply-To"),
        message_id: raw("Message-ID"),
    }
}

/// BODYSTRUCTURE (`extended = true`) or BODY (`false`) of an entity.
pub fn body_structure(node: &Node<'_>, extended: bool) -> BodyStructure<'static> {
    if let NodeKind::Multipart(children) = &node.kind {
        let bodies: Vec<_> = children.iter().map(|c| body_structure(c, extended)).collect();
        if let Ok(bodies) = Vec1::try_from(bodies) {
            let ct = node.part.content_type();
            let extension_data = extended.then(|| MultiPartExtensionData {
                parameter_list: parameters(ct),
                tail: Some(disposition(node)),
            });
            let subtype = ct.and_then(|c| c.c_subtype.as_deref()).unwrap_or("mixed");
            return BodyStructure::Multi { bodies, subtype: istring(subtype), extension_data };
        }
        // A multipart without any readable part is shown as the single opaque entity it is.
    }
    single(node, extended)
}

fn single(node: &Node<'_>, extended: bool) -> BodyStructure<'static> {
    let ct = node.part.content_type();
    let (main, sub) = match ct {
        Some(c) => (c.c_type.as_ref(), c.c_subtype.as_deref().unwrap_or("")),
        None => ("text", "plain"),
    };
    let mut parameter_list = parameters(ct);
    if ct.is_none() {
        parameter_list.push((istring("charset"), istring("us-ascii")));
    }
    let basic = BasicFields {
        parameter_list,
        id: nstring(header::value(node.header, "Content-ID")),
        description: nstring(header::value(node.header, "Content-Description")),
        content_transfer_encoding: istring(
            &header::value(node.header, "Content-Transfer-Encoding").unwrap_or_else(|| "7BIT".into()).to_uppercase(),
        ),
        size: node.body.len().try_into().unwrap_or(u32::MAX),
    };
    let specific = match &node.kind {
        NodeKind::Message { message, root } => SpecificFields::Message {
            envelope: Box::new(envelope(message, root)),
            body_structure: Box::new(body_structure(root, extended)),
            number_of_lines: line_count(node.body),
        },
        _ if main.eq_ignore_ascii_case("text") => {
            SpecificFields::Text { subtype: istring(sub), number_of_lines: line_count(node.body) }
        }
        _ => SpecificFields::Basic { r#type: istring(main), subtype: istring(sub) },
    };
    let extension_data = extended.then(|| SinglePartExtensionData {
        md5: nstring(header::value(node.header, "Content-MD5")),
        tail: Some(disposition(node)),
    });
    BodyStructure::Single { body: Body { basic, specific }, extension_data }
}

fn disposition(node: &Node<'_>) -> Disposition<'static> {
    let disposition = node.part.content_disposition().map(|d| (istring(&d.c_type), parameters(Some(d))));
    let language = match node.part.content_language() {
        HeaderValue::Text(t) => vec![istring(t)],
        HeaderValue::TextList(list) => list.iter().map(|t| istring(t)).collect(),
        _ => Vec::new(),
    };
    Disposition {
        disposition,
        tail: Some(Language {
            language,
            tail: Some(Location {
                location: nstring(header::value(node.header, "Content-Location")),
                extensions: Vec::new(),
            }),
        }),
    }
}

fn parameters(ct: Option<&ContentType<'_>>) -> Vec<(IString<'static>, IString<'static>)> {
    ct.and_then(|c| c.attributes.as_ref())
        .map(|attrs| attrs.iter().map(|a| (istring(&a.name), istring(&a.value))).collect())
        .unwrap_or_default()
}

fn addresses(list: Option<&mail_parser::Address<'_>>) -> Vec<Address<'static>> {
    let Some(list) = list else { return Vec::new() };
    let addrs: Vec<&Addr<'_>> = match list {
        mail_parser::Address::List(l) => l.iter().collect(),
        mail_parser::Address::Group(groups) => groups.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    addrs.into_iter().filter_map(address).collect()
}

fn address(addr: &Addr<'_>) -> Option<Address<'static>> {
    let spec = addr.address.as_deref()?;
    let (local, host) = spec.rsplit_once('@').unwrap_or((spec, ""));
    Some(Address {
        name: nstring(addr.name.as_deref().map(str::to_string)),
        adl: NString::NIL,
        mailbox: nstring(Some(local.to_string())),
        // An empty host, not NIL: NIL host marks a group in RFC 3501 syntax.
        host: nstring(Some(host.to_string())),
    })
}

/// A string for the wire: quoted when possible, literal otherwise; NUL bytes (which IMAP strings
/// cannot carry) become spaces rather than failing the whole response.
pub fn istring(s: &str) -> IString<'static> {
    let clean: String = s.chars().map(|c| if c == '\0' { ' ' } else { c }).collect();
    IString::try_from(clean).unwrap_or_else(|_| IString::try_from("").expect("empty quoted string"))
}

pub fn nstring(s: Option<String>) -> NString<'static> {
    NString(s.map(|s| istring(&s)))
}

#[cfg(test)]
mod tests {
    use super::super::mime::{parse, tests::*, tree};
    use super::*;
    use imap_codec::ResponseCodec;
    use imap_codec::encode::Encoder;
    use imap_types::fetch::MessageDataItem;
    use imap_types::response::{Data, Response};

    fn encode(items: Vec<MessageDataItem<'static>>) -> String {
        let data = Data::fetch(1, items).unwrap();
        String::from_utf8(ResponseCodec::default().encode(&Response::Data(data)).dump()).unwrap()
    }

    #[test]
    fn envelope_of_a_simple_message() {
        let message = parse(SIMPLE).unwrap();
        let root = tree(&message).unwrap();
        let line = encode(vec![MessageDataItem::Envelope(envelope(&message, &root))]);
        assert_eq!(
            line,
            "* 1 FETCH (ENVELOPE (NIL \"Bonjour\" ((\"Dr Martin\" NIL \"dr.martin\" \"op.test\")) ((\"Dr Martin\" NIL \"dr.martin\" \"op.test\")) ((\"Dr Martin\" NIL \"dr.martin\" \"op.test\")) ((NIL NIL \"b\" \"op.test\")) NIL NIL NIL \"<1@op.test>\"))\r\n"
        );
    }

    #[test]
    fn bodystructure_of_a_nested_multipart() {
        let message = parse(MIXED).unwrap();
        let root = tree(&message).unwrap();
        let line = encode(vec![MessageDataItem::BodyStructure(body_structure(&root, true))]);
        assert!(line.contains("(\"TEXT\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 10 1"), "{line}");
        assert!(line.contains("\"alternative\""), "{line}");
        assert!(line.contains("\"application\" \"zip\" (\"name\" \"IHE_XDM.zip\") NIL NIL \"BASE64\" 8"), "{line}");
        assert!(line.contains("(\"attachment\" (\"filename\" \"IHE_XDM.zip\"))"), "{line}");
        assert!(line.contains("(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 49 (NIL \"inner\""), "{line}");
        assert!(line.contains("\"inner\""), "{line}");
        assert!(line.contains("\"mixed\" (\"boundary\" \"b1\")"), "{line}");
        let basic = encode(vec![MessageDataItem::Body(body_structure(&root, false))]);
        assert!(!basic.contains("attachment"), "{basic}");
    }

    #[test]
    fn message_without_content_type_is_plain_us_ascii() {
        let message = parse(SIMPLE).unwrap();
        let root = tree(&message).unwrap();
        let line = encode(vec![MessageDataItem::Body(body_structure(&root, false))]);
        assert_eq!(line, "* 1 FETCH (BODY (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 20 2))\r\n");
    }
}
