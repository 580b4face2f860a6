//! Messages the harness builds and sends (fictitious data only).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// A message built by the harness from fictitious data only.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    /// Name under which the sent message is remembered (`${captured.<name>.message_id}`, and
    /// IMAP steps compare against it).
    #[schemars(with = "String")]
    pub name: Pos<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// Extra headers, e.g. `X-MSS-NIL`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Plain text body (UTF-8).
    #[serde(default)]
    pub body: Option<String>,
    /// Send the text body unencoded (`Content-Transfer-Encoding: 8bit`, CRLF line ends) rather
    /// than quoted-printable or base64, to check 8BITMIME transport (pair it with
    /// `BODY=8BITMIME` on MAIL FROM). Default false.
    #[serde(default)]
    pub body_8bit: bool,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Ask for a read receipt (RFC 8098) to this address.
    #[serde(default)]
    pub disposition_notification_to: Option<String>,
    /// Pad the message with a generated attachment (`padding.bin`) to reach about this many bytes.
    #[serde(default)]
    pub pad_to_bytes: Option<u64>,
    /// Send this message as a read receipt (RFC 8098 `multipart/report;
    /// report-type=disposition-notification`) the harness writes itself; `body` is its text part.
    /// Attachments are not allowed with it.
    #[serde(default)]
    pub mdn: Option<MdnSpec>,
}

/// The fields of a read receipt the harness sends.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MdnSpec {
    /// Message-ID of the message read, e.g. `${captured.received.message_id}`.
    pub original_message_id: String,
    /// The mailbox that read it (`Final-Recipient`).
    pub final_recipient: String,
    /// Default `manual-action/MDN-sent-manually; displayed`.
    #[serde(default)]
    pub disposition: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Attachment {
    /// An `IHE_XDM.ZIP` built from a fixture patient's CDA documents.
    Xdm(XdmAttachment),
    /// A file from `fixtures/`.
    File(FileAttachment),
    /// Fictitious bytes of a given size, generated while the message is sent (never stored):
    /// for large messages (e.g. the 25 MB ceiling of Mon espace santé).
    Generated(GeneratedAttachment),
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XdmAttachment {
    /// Fixture patient key (`patients.<key>` of `fixtures/fixtures.yaml`).
    pub patient: String,
    /// Fixture document keys (`documents.<key>`), one CDA R2 file each, in this order.
    pub documents: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAttachment {
    /// Path relative to `fixtures/`.
    pub path: String,
    pub content_type: String,
    #[serde(default)]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedAttachment {
    /// Size of the attachment before encoding, in bytes (base64 adds about 37 % on the wire).
    pub size: u64,
    /// Default `generated.bin`.
    #[serde(default)]
    pub filename: Option<String>,
    /// Default `application/octet-stream`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Seed of the pseudo-random content (default 1): the same seed gives the same bytes.
    #[serde(default)]
    pub seed: Option<u64>,
}
