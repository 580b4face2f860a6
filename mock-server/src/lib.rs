//! mssconf-mock: a simulated MSSanté operator on real sockets.
//!
//! It shares no code with mssconf's own protocol layer (a shared bug would hide itself); it uses
//! the same third-party codecs (smtp-proto, imap-next) for parsing.

pub mod accounts;
pub mod faults;
pub mod store;
pub mod tokens;
pub mod context;
pub mod tls;
pub mod imap;
