//! Conformant variations the mock operator can be switched into: not faults, but choices every
//! conformant operator may make where the sources do not say *when* or *how* (which SMTP stage
//! refuses, whether an unknown recipient is refused at once or bounced, whether the session
//! closes after a refused AUTH, whether the From: header is bound to the mailbox).
//!
//! They are how mssconf proves it gives no false « non conforme »: the whole catalogue must pass
//! against every behaviour and every combination. Each behaviour belongs to one family; a mock
//! instance shows exactly one behaviour per family (the default one unless told otherwise).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Behaviour {
    RefuseAtMail,
    RefuseAtRcpt,
    RefuseAtData,
    RefuseAtDataCommand,
    UnknownRecipientDsn,
    UnknownRecipientAtRcpt,
    CloseAfterTokenFailure,
    CloseAfterAuthFailure,
    KeepOpenAfterAuthFailure,
    FromHeaderChecked,
    FromHeaderUnchecked,
}

/// What a behaviour chooses; one behaviour per family is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Where a transaction that must be refused is refused (no authentication, an envelope sender
    /// other than the authenticated mailbox).
    RefusalStage,
    /// How a recipient of the operator's domain without a mailbox is reported.
    UnknownRecipient,
    /// Whether the session closes after a refused AUTH.
    AuthFailure,
    /// Whether the message's From: header must be the authenticated mailbox (no source says so:
    /// only the envelope sender is bound).
    FromHeader,
}

impl Behaviour {
    pub const ALL: [Behaviour; 11] = [
        Behaviour::RefuseAtMail,
        Behaviour::RefuseAtRcpt,
        Behaviour::RefuseAtData,
        Behaviour::RefuseAtDataCommand,
        Behaviour::UnknownRecipientDsn,
        Behaviour::UnknownRecipientAtRcpt,
        Behaviour::CloseAfterTokenFailure,
        Behaviour::CloseAfterAuthFailure,
        Behaviour::KeepOpenAfterAuthFailure,
        Behaviour::FromHeaderChecked,
        Behaviour::FromHeaderUnchecked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Behaviour::RefuseAtMail => "refuse-at-mail",
            Behaviour::RefuseAtRcpt => "refuse-at-rcpt",
            Behaviour::RefuseAtData => "refuse-at-data",
            Behaviour::RefuseAtDataCommand => "refuse-at-data-command",
            Behaviour::UnknownRecipientDsn => "unknown-recipient-dsn",
            Behaviour::UnknownRecipientAtRcpt => "unknown-recipient-at-rcpt",
            Behaviour::CloseAfterTokenFailure => "close-after-token-failure",
            Behaviour::CloseAfterAuthFailure => "close-after-auth-failure",
            Behaviour::KeepOpenAfterAuthFailure => "keep-open-after-auth-failure",
            Behaviour::FromHeaderChecked => "from-header-checked",
            Behaviour::FromHeaderUnchecked => "from-header-unchecked",
        }
    }

    /// What the mock does with the behaviour on, for `mssconf mock --list-behaviours`.
    pub fn describes(self) -> &'static str {
        match self {
            Behaviour::RefuseAtMail => {
                "MAIL FROM refused without authentication (530) or with a sender other than the mailbox (553)"
            }
            Behaviour::RefuseAtRcpt => {
                "MAIL FROM 250, then every RCPT TO refused (554 relay access denied / 553 sender not owned), like Postfix's smtpd_delay_reject"
            }
            Behaviour::RefuseAtData => "MAIL FROM and RCPT TO 250, DATA 354, then the end of data refused (554)",
            Behaviour::RefuseAtDataCommand => "MAIL FROM and RCPT TO 250, the DATA command refused (554), like Postfix's smtpd_data_restrictions",
            Behaviour::UnknownRecipientDsn => "unknown local recipient accepted at RCPT TO, then a failure DSN (5.1.1)",
            Behaviour::UnknownRecipientAtRcpt => "unknown local recipient refused at RCPT TO (550 5.1.1), no DSN",
            Behaviour::CloseAfterTokenFailure => {
                "a refused bearer token: RFC 7628 error challenge, 535, connection closed; a refused PLAIN keeps it open"
            }
            Behaviour::CloseAfterAuthFailure => "every refused AUTH (token or certificate): 535, connection closed",
            Behaviour::KeepOpenAfterAuthFailure => {
                "every refused AUTH: 535, the session stays open and refuses what follows (see the refusal stage)"
            }
            Behaviour::FromHeaderChecked => "a From: header other than the authenticated mailbox refused at the end of DATA (550)",
            Behaviour::FromHeaderUnchecked => "the From: header is not checked (only the envelope sender is bound), like a stock Postfix",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Behaviour::RefuseAtMail | Behaviour::RefuseAtRcpt | Behaviour::RefuseAtData | Behaviour::RefuseAtDataCommand => {
                Family::RefusalStage
            }
            Behaviour::UnknownRecipientDsn | Behaviour::UnknownRecipientAtRcpt => Family::UnknownRecipient,
            Behaviour::CloseAfterTokenFailure | Behaviour::CloseAfterAuthFailure | Behaviour::KeepOpenAfterAuthFailure => {
                Family::AuthFailure
            }
            Behaviour::FromHeaderChecked | Behaviour::FromHeaderUnchecked => Family::FromHeader,
        }
    }

    /// On unless another behaviour of its family is chosen.
    pub fn is_default(self) -> bool {
        BehaviourSet::default().iter().any(|b| b == self)
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Behaviour {
    type Err = BehaviourError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Behaviour::ALL.into_iter().find(|b| b.name() == s.trim()).ok_or_else(|| BehaviourError::Unknown(s.trim().to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BehaviourError {
    #[error("unknown behaviour `{0}`; known behaviours: {known}", known = Behaviour::ALL.iter().map(|b| b.name()).collect::<Vec<_>>().join(", "))]
    Unknown(String),
    #[error("behaviours `{0}` and `{1}` exclude each other (one per family)")]
    SameFamily(Behaviour, Behaviour),
}

/// Where a transaction that must be refused is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalStage {
    Mail,
    Rcpt,
    /// After the end of data.
    Data,
    /// The DATA command itself (no 354).
    DataCommand,
}

/// How an unknown recipient of the operator's domain is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownRecipient {
    Dsn,
    AtRcpt,
}

/// What follows a refused AUTH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Closed after a refused bearer token; a refused PLAIN keeps the session open.
    CloseAfterToken,
    CloseAlways,
    KeepOpen,
}

/// The behaviours of one mock instance, one per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BehaviourSet {
    pub refusal: RefusalStage,
    pub unknown_recipient: UnknownRecipient,
    pub auth_failure: AuthFailure,
    /// The From: header must be the authenticated mailbox.
    pub check_from_header: bool,
}

impl Default for BehaviourSet {
    /// What the mock did before behaviours were switchable.
    fn default() -> Self {
        BehaviourSet {
            refusal: RefusalStage::Mail,
            unknown_recipient: UnknownRecipient::Dsn,
            auth_failure: AuthFailure::CloseAfterToken,
            check_from_header: true,
        }
    }
}

impl BehaviourSet {
    /// This set with `behaviour` chosen for its family (replacing the previous choice).
    pub fn with(mut self, behaviour: Behaviour) -> Self {
        match behaviour {
            Behaviour::RefuseAtMail => self.refusal = RefusalStage::Mail,
            Behaviour::RefuseAtRcpt => self.refusal = RefusalStage::Rcpt,
            Behaviour::RefuseAtData => self.refusal = RefusalStage::Data,
            Behaviour::RefuseAtDataCommand => self.refusal = RefusalStage::DataCommand,
            Behaviour::UnknownRecipientDsn => self.unknown_recipient = UnknownRecipient::Dsn,
            Behaviour::UnknownRecipientAtRcpt => self.unknown_recipient = UnknownRecipient::AtRcpt,
            Behaviour::CloseAfterTokenFailure => self.auth_failure = AuthFailure::CloseAfterToken,
            Behaviour::CloseAfterAuthFailure => self.auth_failure = AuthFailure::CloseAlways,
            Behaviour::KeepOpenAfterAuthFailure => self.auth_failure = AuthFailure::KeepOpen,
            Behaviour::FromHeaderChecked => self.check_from_header = true,
            Behaviour::FromHeaderUnchecked => self.check_from_header = false,
        }
        self
    }

    /// The chosen behaviour of each family.
    pub fn iter(&self) -> impl Iterator<Item = Behaviour> {
        let refusal = match self.refusal {
            RefusalStage::Mail => Behaviour::RefuseAtMail,
            RefusalStage::Rcpt => Behaviour::RefuseAtRcpt,
            RefusalStage::Data => Behaviour::RefuseAtData,
            RefusalStage::DataCommand => Behaviour::RefuseAtDataCommand,
        };
        let unknown = match self.unknown_recipient {
            UnknownRecipient::Dsn => Behaviour::UnknownRecipientDsn,
            UnknownRecipient::AtRcpt => Behaviour::UnknownRecipientAtRcpt,
        };
        let auth = match self.auth_failure {
            AuthFailure::CloseAfterToken => Behaviour::CloseAfterTokenFailure,
            AuthFailure::CloseAlways => Behaviour::CloseAfterAuthFailure,
            AuthFailure::KeepOpen => Behaviour::KeepOpenAfterAuthFailure,
        };
        let from = if self.check_from_header { Behaviour::FromHeaderChecked } else { Behaviour::FromHeaderUnchecked };
        [refusal, unknown, auth, from].into_iter()
    }

    /// Parses a comma-separated list (`MSSCONF_MOCK_BEHAVIOURS=refuse-at-rcpt,keep-open-after-auth-failure`);
    /// empty items are ignored; two behaviours of one family are an error.
    pub fn parse_list(list: &str) -> Result<Vec<Behaviour>, BehaviourError> {
        let mut chosen: Vec<Behaviour> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let b: Behaviour = item.parse()?;
            match chosen.iter().find(|c| c.family() == b.family()) {
                Some(&c) if c != b => return Err(BehaviourError::SameFamily(c, b)),
                Some(_) => {}
                None => chosen.push(b),
            }
        }
        Ok(chosen)
    }

    /// The default set with the listed behaviours chosen.
    pub fn from_list(list: &str) -> Result<Self, BehaviourError> {
        Ok(Self::parse_list(list)?.into_iter().fold(Self::default(), Self::with))
    }
}

impl FromIterator<Behaviour> for BehaviourSet {
    /// Later behaviours replace earlier ones of the same family.
    fn from_iter<I: IntoIterator<Item = Behaviour>>(iter: I) -> Self {
        iter.into_iter().fold(Self::default(), Self::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_round_trip_and_each_family_has_one_default() {
        let names: BTreeSet<_> = Behaviour::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(names.len(), Behaviour::ALL.len());
        for b in Behaviour::ALL {
            assert_eq!(b.name().parse::<Behaviour>(), Ok(b));
            assert!(BehaviourSet::default().with(b).iter().any(|x| x == b), "{b} is chosen by with()");
        }
        let defaults: Vec<_> = Behaviour::ALL.into_iter().filter(|b| b.is_default()).collect();
        assert_eq!(
            defaults,
            [Behaviour::RefuseAtMail, Behaviour::UnknownRecipientDsn, Behaviour::CloseAfterTokenFailure, Behaviour::FromHeaderChecked]
        );
        let families: BTreeSet<_> = defaults.iter().map(|b| b.family()).collect();
        assert_eq!(families.len(), 4);
    }

    #[test]
    fn lists_combine_families_and_refuse_two_of_one() {
        let set = BehaviourSet::from_list(" refuse-at-rcpt, keep-open-after-auth-failure,").unwrap();
        assert_eq!(set.refusal, RefusalStage::Rcpt);
        assert_eq!(set.auth_failure, AuthFailure::KeepOpen);
        assert_eq!(set.unknown_recipient, UnknownRecipient::Dsn, "untouched family keeps its default");
        assert_eq!(BehaviourSet::from_list("").unwrap(), BehaviourSet::default());
        assert!(BehaviourSet::from_list("refuse-at-data,refuse-at-data").is_ok(), "a repeat is no conflict");
        let err = BehaviourSet::from_list("refuse-at-rcpt,refuse-at-data").unwrap_err();
        assert_eq!(err, BehaviourError::SameFamily(Behaviour::RefuseAtRcpt, Behaviour::RefuseAtData));
        let err = BehaviourSet::from_list("refuse-at-rpct").unwrap_err().to_string();
        assert!(err.contains("refuse-at-rpct") && err.contains("refuse-at-rcpt"), "{err}");
        let later_wins: BehaviourSet = [Behaviour::RefuseAtRcpt, Behaviour::RefuseAtData].into_iter().collect();
        assert_eq!(later_wins.refusal, RefusalStage::Data);
    }
}
