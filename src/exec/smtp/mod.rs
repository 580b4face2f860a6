//! The harness's SMTP client: commands out, replies back as observations, every line in the
//! transcript (secrets only as descriptions).
//!
//! ```text
//! SmtpSession::connect → ehlo → starttls → ehlo → auth → mail_from → rcpt_to → data → quit
//! ```
//! A reply of any code is `Ok(Reply)`; [`SmtpError`] means no reply could be observed.

mod auth;
mod capabilities;
mod data;
mod error;
pub(crate) mod linebuf;
pub(crate) mod reply;
mod session;
mod wire;

pub use auth::{AuthExchange, AuthStep};
pub use capabilities::{Capabilities, Extension};
pub use data::DataExchange;
pub use error::{Fault, SmtpError, Stage};
pub use reply::Reply;
pub use session::{SmtpSession, SmtpTimeouts};

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
