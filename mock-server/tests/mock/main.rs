//! Tests of the mock operator over real sockets (one test binary, one module per subject).

mod imap_common;
mod support;
mod http_and_profile;
mod imap_auth;
mod imap_faults;
mod imap_mailbox;
mod real_clients;
mod smtp_behaviours;
mod smtp_submission;
mod tls_listeners;
