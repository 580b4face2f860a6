//! The mock operator's mailboxes: who they are and how they log in.

use serde::{Deserialize, Serialize};

/// Mailbox types of the MSSanté directory (TRE_R257).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxKind {
    /// Personal mailbox of a professional: XOAUTH2 with a PSC token.
    #[serde(rename = "PER")]
    Personal,
    /// Organisational mailbox: XOAUTH2 with a PSC token.
    #[serde(rename = "ORG")]
    Organisational,
    /// Applicative mailbox: client certificate + PLAIN.
    #[serde(rename = "APP")]
    Applicative,
}

/// What a mailbox does besides receiving mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Ordinary,
    /// Answers a message carrying `Disposition-Notification-To` with an RFC 8098 MDN.
    MdnResponder,
    /// Never answers MDN requests.
    MdnSilent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Role name used in the generated target profile (`per1`, `app1`…).
    pub role: &'static str,
    pub address: String,
    pub kind: MailboxKind,
    pub behaviour: Behaviour,
    /// Fictitious RPPS of the professional (PER/ORG), for token claims.
    pub rpps: &'static str,
}

#[derive(Debug, Clone)]
pub struct Accounts {
    pub domain: String,
    list: Vec<Account>,
}

impl Accounts {
    /// The fixed set of fictitious mailboxes of the mock operator under `domain`.
    pub fn standard(domain: &str) -> Self {
        use Behaviour::*;
        use MailboxKind::*;
        let mk = |role, local: &str, kind, behaviour, rpps| Account {
            role,
            address: format!("{local}@{domain}"),
            kind,
            behaviour,
            rpps,
        };
        Accounts {
            domain: domain.to_string(),
            list: vec![
                mk("per1", "dr.martin.fictif", Personal, Ordinary, "99900000001"),
                mk("per2", "dr.durand.fictif", Personal, Ordinary, "99900000002"),
                mk("org1", "secretariat.fictif", Organisational, Ordinary, "99900000003"),
                mk("app1", "app.dpi.fictif", Applicative, Ordinary, ""),
                mk("app2", "app.labo.fictif", Applicative, Ordinary, ""),
                mk("mdn_responder", "repondeur.mdn.fictif", Organisational, MdnResponder, "99900000004"),
                mk("mdn_silent", "silencieux.mdn.fictif", Organisational, MdnSilent, "99900000005"),
            ],
        }
    }

    pub fn all(&self) -> &[Account] {
        &self.list
    }

    pub fn get(&self, address: &str) -> Option<&Account> {
        self.list.iter().find(|a| a.address.eq_ignore_ascii_case(address.trim()))
    }

    pub fn by_role(&self, role: &str) -> Option<&Account> {
        self.list.iter().find(|a| a.role == role)
    }

    /// True when `address` belongs to this operator's domain (whether or not the mailbox exists).
    pub fn is_local_domain(&self, address: &str) -> bool {
        address.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(&self.domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive() {
        let acc = Accounts::standard("op.test");
        assert_eq!(acc.get("DR.MARTIN.FICTIF@op.test").unwrap().role, "per1");
        assert!(acc.is_local_domain("nobody@OP.test"));
        assert!(!acc.is_local_domain("x@other.test"));
        assert_eq!(acc.by_role("app1").unwrap().kind, MailboxKind::Applicative);
    }
}
