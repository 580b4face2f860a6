//! How a mailbox of the target logs in when a scenario writes a mechanism: the catalogue writes
//! the spec's applicative form (PLAIN); a target declaring another one (`app_auth_form`, per
//! protocol) gets it. Other mailboxes log in as written. The one decision the executor, `mssconf
//! load`, the dry run and the audit screen share, so what is announced is what is played.

use crate::scenario::model::Mechanism;
use crate::target::model::{AppAuthForm, MailboxType, Target};

/// Which protocol logs in (the target may declare one applicative form per protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Smtp,
    Imap,
}

/// The mechanism played for `mechanism` written in a scenario: `None` when the applicative
/// form is the client certificate alone (no AUTH is sent), else the mechanism and whether the
/// target's form replaced the written one.
pub fn mechanism(target: &Target, protocol: Protocol, role: &str, mechanism: Mechanism) -> Option<(Mechanism, bool)> {
    let is_app = target.mailboxes.get(role).is_some_and(|m| m.kind == MailboxType::App);
    let form = match protocol {
        Protocol::Smtp => target.app_auth_form.smtp(),
        Protocol::Imap => target.app_auth_form.imap(),
    };
    match (is_app, mechanism, form) {
        (true, Mechanism::Plain, AppAuthForm::External) => Some((Mechanism::External, true)),
        (true, Mechanism::Plain, AppAuthForm::CertificateOnly) => None,
        (_, m, _) => Some((m, false)),
    }
}

