//! IMAP server of the mock operator.

mod header;
mod mime;
mod structure;
