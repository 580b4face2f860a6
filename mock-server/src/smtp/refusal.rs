//! Why a transaction must not go through (no authentication, an envelope sender other than the
//! authenticated mailbox), decided at MAIL FROM and answered at the stage the refusal-stage
//! behaviour chooses, with the wording real servers use there.

use super::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotAuthenticated,
    ForeignSender { sender: String, mailbox: String },
}

impl Refusal {
    /// `None` when `sender` may open a transaction for the `authenticated` mailbox.
    pub fn of(authenticated: Option<&str>, sender: &str, check_sender: bool) -> Option<Refusal> {
        match authenticated {
            None => Some(Refusal::NotAuthenticated),
            Some(m) if check_sender && !sender.eq_ignore_ascii_case(m) => {
                Some(Refusal::ForeignSender { sender: sender.to_string(), mailbox: m.to_string() })
            }
            Some(_) => None,
        }
    }

    /// At MAIL FROM.
    pub fn at_mail(&self) -> Reply {
        match self {
            Refusal::NotAuthenticated => super::reply::auth_required(),
            Refusal::ForeignSender { sender, .. } => {
                Reply::new(553, format!("5.7.1 Sender <{sender}> is not the authenticated mailbox"))
            }
        }
    }

    /// At each RCPT TO, after MAIL FROM was accepted (Postfix with `smtpd_delay_reject = yes`).
    pub fn at_rcpt(&self, recipient: &str) -> Reply {
        match self {
            Refusal::NotAuthenticated => Reply::new(554, format!("5.7.1 <{recipient}>: Relay access denied")),
            Refusal::ForeignSender { sender, mailbox } => {
                Reply::new(553, format!("5.7.1 <{sender}>: Sender address rejected: not owned by user {mailbox}"))
            }
        }
    }

    /// At the DATA command, or after the end of data (the message read and discarded).
    pub fn at_data(&self) -> Reply {
        match self {
            Refusal::NotAuthenticated => Reply::new(554, "5.7.1 Transaction refused: authentication required"),
            Refusal::ForeignSender { sender, mailbox } => {
                Reply::new(554, format!("5.7.1 Transaction refused: sender <{sender}> not owned by user {mailbox}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_decided_once_and_worded_per_stage() {
        assert_eq!(Refusal::of(Some("me@x.test"), "ME@x.test", true), None);
        assert_eq!(Refusal::of(Some("me@x.test"), "other@x.test", false), None, "sender check off (fault)");
        assert_eq!(Refusal::of(None, "me@x.test", false), Some(Refusal::NotAuthenticated));
        let foreign = Refusal::of(Some("me@x.test"), "other@x.test", true).unwrap();
        assert_eq!((foreign.at_mail().code, foreign.at_rcpt("r@y.test").code, foreign.at_data().code), (553, 553, 554));
        assert!(foreign.at_rcpt("r@y.test").lines[0].contains("not owned by user me@x.test"));
        let anonymous = Refusal::NotAuthenticated;
        assert_eq!((anonymous.at_mail().code, anonymous.at_rcpt("r@y.test").code, anonymous.at_data().code), (530, 554, 554));
        assert!(anonymous.at_rcpt("r@y.test").lines[0].starts_with("5.7.1 <r@y.test>: Relay access denied"));
    }
}
