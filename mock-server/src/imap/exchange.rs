//! The state of an AUTHENTICATE between two client lines, kept by the session and advanced by
//! the login code.

use imap_types::core::Tag;

use super::sasl::Mechanism;

/// An AUTHENTICATE waiting for the client's next line.
pub struct AuthExchange {
    pub tag: Tag<'static>,
    pub mechanism: Mechanism,
    pub awaiting: Awaiting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// The SASL response (no initial response was sent).
    Response,
    /// The client's acknowledgement of the error challenge.
    ErrorAck,
}
