//! SASL mechanisms a scenario may name (RFC 4422 mechanisms used by the API LPS). The
//! protocol layer (`exec::sasl`) builds their payloads.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mechanism {
    /// Google's XOAUTH2: `user=<addr>^Aauth=Bearer <token>^A^A` (the API LPS mechanism).
    Xoauth2,
    /// RFC 7628 OAUTHBEARER.
    #[serde(rename = "OAUTHBEARER")]
    OAuthBearer,
    /// RFC 4616 PLAIN (applicative mailboxes, with a client certificate).
    Plain,
    /// RFC 4422 EXTERNAL (identity from the TLS client certificate).
    External,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::Plain => "PLAIN",
            Mechanism::External => "EXTERNAL",
        }
    }
}
