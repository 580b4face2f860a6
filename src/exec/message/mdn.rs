//! A read receipt (MDN, RFC 8098) the harness writes itself, as the recipient's LPS would:
//! `multipart/report; report-type=disposition-notification` with a human-readable part and a
//! `message/disposition-notification` part (api-lps-spec H3). Fictitious data only.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;

/// What the receipt reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdnDraft {
    /// Message-ID of the message read (with or without angle brackets).
    pub original_message_id: String,
    /// The mailbox that read it (`Final-Recipient: rfc822; …`).
    pub final_recipient: String,
    /// e.g. `manual-action/MDN-sent-manually; displayed`.
    pub disposition: String,
}

impl MdnDraft {
    /// The `message/disposition-notification` fields, CRLF-terminated.
    pub fn fields(&self) -> String {
        let id = self.original_message_id.trim().trim_start_matches('<').trim_end_matches('>');
        format!(
            "Reporting-UA: mssconf; harness acting as the recipient's LPS\r\nFinal-Recipient: rfc822; {}\r\n\
             Original-Message-ID: <{id}>\r\nDisposition: {}\r\n",
            self.final_recipient.trim(),
            self.disposition.trim()
        )
    }
}

/// Sets the report as the message body: the text (`body`) then the notification fields.
pub fn set_report<'a>(mut b: MessageBuilder<'a>, body: String, mdn: &MdnDraft) -> MessageBuilder<'a> {
    let text = MimePart::new("text/plain; charset=utf-8", body);
    let fields = MimePart::new("message/disposition-notification", mdn.fields()).transfer_encoding("7bit");
    let report = ContentType::new("multipart/report").attribute("report-type", "disposition-notification");
    b.body = Some(MimePart::new(report, vec![text, fields]));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The receipt parses back as an MDN naming the original message and the disposition.
    #[test]
    fn a_built_receipt_reads_back_as_an_mdn() {
        let mdn = MdnDraft {
            original_message_id: "<m1.test@op.test>".into(),
            final_recipient: "per2@op.test".into(),
            disposition: "manual-action/MDN-sent-manually; displayed".into(),
        };
        let b = MessageBuilder::new().from("per2@op.test").to("per1@op.test").subject("Accusé").message_id("r1@op.test");
        let bytes = set_report(b, "Message lu.".into(), &mdn).write_to_vec().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("report-type=") && text.contains("disposition-notification"), "{text}");
        assert!(text.contains("Original-Message-ID: <m1.test@op.test>\r\n"), "{text}");
        assert!(text.contains("Disposition: manual-action/MDN-sent-manually; displayed\r\n"), "{text}");
        let facts = crate::exec::report_parse::parse(&bytes).expect("a report");
        assert_eq!(facts.report_type, "disposition-notification");
        assert_eq!(facts.original_message_id.as_deref(), Some("<m1.test@op.test>"));
        assert!(facts.disposition.as_deref().is_some_and(|d| d.ends_with("displayed")), "{facts:?}");
    }
}
