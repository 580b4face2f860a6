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


#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn target(form: &str) -> Target {
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general, app]\ndomain: op.test\nserver_name: mx.op.test\n\
             trust_anchors: []\napp_auth_form: {form}\nmailboxes:\n  per1: {{ address: p@op.test, type: PER, token: issuer }}\n\
             \x20 app1: {{ address: a@op.test, type: APP, certificate: {{ cert: /c.pem, key: /k.pem }} }}\nendpoints: {{}}\n"
        );
        crate::yaml::read::parse_yaml(Path::new("t.yaml"), &yaml).unwrap()
    }

    /// Only an applicative mailbox's PLAIN is replaced, by the form the target declares for that
    /// protocol; everything else logs in as written.
    #[test]
    fn only_an_applicative_plain_is_replaced_per_protocol() {
        use Mechanism::*;
        let t = target("{ smtp: certificate-only, imap: external }");
        assert_eq!(mechanism(&t, Protocol::Smtp, "app1", Plain), None);
        assert_eq!(mechanism(&t, Protocol::Imap, "app1", Plain), Some((External, true)));
        assert_eq!(mechanism(&t, Protocol::Smtp, "app1", Xoauth2), Some((Xoauth2, false)));
        assert_eq!(mechanism(&t, Protocol::Smtp, "per1", Plain), Some((Plain, false)));
        assert_eq!(mechanism(&t, Protocol::Imap, "undeclared", Plain), Some((Plain, false)));
        let t = target("plain");
        assert_eq!(mechanism(&t, Protocol::Smtp, "app1", Plain), Some((Plain, false)));
        assert_eq!(mechanism(&t, Protocol::Imap, "app1", Plain), Some((Plain, false)));
        let t = target("external");
        assert_eq!(mechanism(&t, Protocol::Smtp, "app1", Plain), Some((External, true)));
        assert_eq!(mechanism(&t, Protocol::Smtp, "app1", External), Some((External, false)));
    }
}
