//! The SMTP envelope of one transaction: sender, recipients and their DSN parameters
//! (RFC 3461), and where each recipient goes.

use smtp_proto::{
    MAIL_RET_FULL, MAIL_RET_HDRS, MailFrom, RCPT_NOTIFY_DELAY, RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_NEVER,
    RCPT_NOTIFY_SUCCESS, RcptTo,
};

use super::refusal::Refusal;
use super::reply::Reply;
use crate::behaviours::{RefusalStage, UnknownRecipient};
use crate::context::MockContext;
use crate::faults::Fault;

/// At most this many recipients per message (more get 452 4.5.3).
pub const MAX_RECIPIENTS: usize = 100;

/// `RET=` of MAIL FROM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Full,
    Headers,
    /// Not given: the MTA chooses (full message for failures, headers for successes).
    Unspecified,
}

/// `NOTIFY=` of RCPT TO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Notify {
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
    pub never: bool,
    /// False when the client gave no NOTIFY (RFC 3461 default: failures are reported).
    pub explicit: bool,
}

impl Notify {
    pub fn from_flags(flags: u64) -> Self {
        let has = |f| flags & f != 0;
        let n = Notify {
            success: has(RCPT_NOTIFY_SUCCESS),
            failure: has(RCPT_NOTIFY_FAILURE),
            delay: has(RCPT_NOTIFY_DELAY),
            never: has(RCPT_NOTIFY_NEVER),
            explicit: false,
        };
        Notify { explicit: n.success || n.failure || n.delay || n.never, ..n }
    }
}

/// Where a recipient's copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A mailbox of this operator.
    Local,
    /// This operator's domain but no such mailbox: accepted, then bounced (5.1.1), unless
    /// behaviour `unknown-recipient-at-rcpt` refused it at RCPT TO.
    UnknownLocal,
    /// Another whitelisted domain: "relayed" (discarded by the mock).
    Relay,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: String,
    /// `ORCPT=rfc822;…`, decoded.
    pub orcpt: Option<String>,
    pub notify: Notify,
    pub destination: Destination,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub sender: String,
    pub env_id: Option<String>,
    pub ret: Ret,
    pub recipients: Vec<Recipient>,
    /// A refusal decided at MAIL FROM that the refusal-stage behaviour defers to RCPT TO or
    /// to the end of DATA.
    pub refusal: Option<Refusal>,
}

impl Envelope {
    /// Checks MAIL FROM for the mailbox the client `authenticated` as (`None`: not
    /// authenticated). A refusal is answered here, or kept for a later stage (behaviours
    /// `refuse-at-rcpt`, `refuse-at-data`).
    pub fn open(ctx: &MockContext, authenticated: Option<&str>, from: &MailFrom<String>) -> Result<Envelope, Reply> {
        let refusal = Refusal::of(authenticated, &from.address, !ctx.faults.is_on(Fault::NoSenderCheck));
        if let Some(refusal) = &refusal
            && ctx.behaviours.refusal == RefusalStage::Mail
        {
            return Err(refusal.at_mail());
        }
        if from.size > ctx.max_message_size {
            return Err(super::reply::too_big());
        }
        let ret = match from.flags {
            f if f & MAIL_RET_FULL != 0 => Ret::Full,
            f if f & MAIL_RET_HDRS != 0 => Ret::Headers,
            _ => Ret::Unspecified,
        };
        Ok(Envelope { sender: from.address.clone(), env_id: from.env_id.clone(), ret, recipients: Vec::new(), refusal })
    }

    /// Checks and records RCPT TO.
    pub fn add_recipient(&mut self, ctx: &MockContext, to: &RcptTo<String>) -> Result<Reply, Reply> {
        if let Some(refusal) = &self.refusal
            && ctx.behaviours.refusal == RefusalStage::Rcpt
        {
            return Err(refusal.at_rcpt(&to.address));
        }
        if self.recipients.len() >= MAX_RECIPIENTS {
            return Err(Reply::new(452, "4.5.3 Too many recipients"));
        }
        let destination = destination(ctx, &to.address)?;
        self.recipients.push(Recipient {
            address: to.address.clone(),
            orcpt: to.orcpt.clone(),
            notify: Notify::from_flags(to.flags),
            destination,
        });
        Ok(Reply::new(250, format!("2.1.5 Recipient <{}> OK", to.address)))
    }
}

/// Local domain: accepted (unknown mailboxes bounce later, or are refused here by behaviour
/// `unknown-recipient-at-rcpt`); other whitelisted domains: relayed; anything else: refused, the
/// MSSanté trust space being the whitelist.
fn destination(ctx: &MockContext, address: &str) -> Result<Destination, Reply> {
    let Some((_, domain)) = address.rsplit_once('@').filter(|(l, d)| !l.is_empty() && !d.is_empty()) else {
        return Err(Reply::new(501, format!("5.1.3 Bad recipient address syntax <{address}>")));
    };
    if ctx.accounts.is_local_domain(address) {
        return match (ctx.store.has_mailbox(address), ctx.behaviours.unknown_recipient) {
            (true, _) => Ok(Destination::Local),
            (false, UnknownRecipient::Dsn) => Ok(Destination::UnknownLocal),
            (false, UnknownRecipient::AtRcpt) => Err(Reply::new(
                550,
                format!("5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"),
            )),
        };
    }
    // Fault `refuse-other-domains`: the trust space shrunk to the operator's own domain.
    let whitelisted = ctx.whitelist.iter().any(|d| same_domain(d, domain)) && !ctx.faults.is_on(Fault::RefuseOtherDomains);
    if whitelisted || ctx.faults.is_on(Fault::NoWhitelist) {
        Ok(Destination::Relay)
    } else {
        Err(Reply::new(550, format!("5.7.1 Recipient domain {domain} is outside the MSSanté trust space (whitelist)")))
    }
}

/// Domains compare case-insensitively and in their ASCII (punycode) form, so that
/// `hôpital-fictif…` and `xn--hpital-fictif-…` are the same name.
fn same_domain(a: &str, b: &str) -> bool {
    let ascii = |d: &str| idna::domain_to_ascii(d).unwrap_or_else(|_| d.to_lowercase());
    ascii(a) == ascii(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviours::Behaviour;
    use crate::test_support::{context, context_with};

    fn rcpt(address: &str, flags: u64) -> RcptTo<String> {
        RcptTo { address: address.into(), orcpt: None, rrvs: 0, flags }
    }

    #[test]
    fn recipients_are_classified_by_domain() {
        let ctx = context(&[]);
        let per1 = ctx.accounts.by_role("per1").unwrap().address.clone();
        let mut env = Envelope { sender: per1.clone(), env_id: None, ret: Ret::Unspecified, recipients: vec![], refusal: None };
        env.add_recipient(&ctx, &rcpt(&per1, RCPT_NOTIFY_SUCCESS)).unwrap();
        env.add_recipient(&ctx, &rcpt(&format!("nobody@{}", ctx.accounts.domain), 0)).unwrap();
        env.add_recipient(&ctx, &rcpt("x@patient.mssante.test", 0)).unwrap();
        let refused = env.add_recipient(&ctx, &rcpt("x@exterieur.example", 0)).unwrap_err();
        assert_eq!(refused.code, 550);
        let kinds: Vec<_> = env.recipients.iter().map(|r| r.destination).collect();
        assert_eq!(kinds, [Destination::Local, Destination::UnknownLocal, Destination::Relay]);
        assert!(env.recipients[0].notify.success && env.recipients[0].notify.explicit);
        assert!(!env.recipients[1].notify.explicit);
        assert_eq!(env.add_recipient(&ctx, &rcpt("nodomain", 0)).unwrap_err().code, 501);
        assert!(same_domain("hôpital-fictif.mssante.test", "xn--hpital-fictif-plb.mssante.test"));
        assert!(same_domain("Patient.MSSante.test", "patient.mssante.test"));
        env.add_recipient(&ctx, &rcpt("dr@HÔPITAL-fictif.mssante.test", 0)).unwrap();

        let ctx = context(&[Fault::NoWhitelist]);
        assert!(env.add_recipient(&ctx, &rcpt("x@exterieur.example", 0)).is_ok());
    }

    /// Fault `refuse-other-domains`: another operator of the whitelist is refused too; the
    /// operator's own domain is still served.
    #[test]
    fn refuse_other_domains_refuses_whitelisted_operators() {
        let ctx = context(&[Fault::RefuseOtherDomains]);
        let per1 = ctx.accounts.by_role("per1").unwrap().address.clone();
        let mut env = Envelope { sender: per1.clone(), env_id: None, ret: Ret::Unspecified, recipients: vec![], refusal: None };
        assert_eq!(env.add_recipient(&ctx, &rcpt("x@autre-operateur.mssante.test", 0)).unwrap_err().code, 550);
        assert_eq!(env.add_recipient(&ctx, &rcpt("x@exterieur.example", 0)).unwrap_err().code, 550);
        assert!(env.add_recipient(&ctx, &rcpt(&per1, 0)).is_ok());
        let conformant = context(&[]);
        assert!(env.add_recipient(&conformant, &rcpt("x@autre-operateur.mssante.test", 0)).is_ok());
    }

    #[test]
    fn sender_must_be_the_authenticated_mailbox() {
        let ctx = context(&[]);
        let from = MailFrom { address: "other@x.test".to_string(), ..Default::default() };
        assert_eq!(Envelope::open(&ctx, Some("me@x.test"), &from).unwrap_err().code, 553);
        assert_eq!(Envelope::open(&ctx, None, &from).unwrap_err().code, 530);
        let mine = MailFrom { address: "ME@x.test".to_string(), flags: MAIL_RET_HDRS, ..Default::default() };
        assert_eq!(Envelope::open(&ctx, Some("me@x.test"), &mine).unwrap().ret, Ret::Headers);
        let huge = MailFrom { address: "me@x.test".to_string(), size: usize::MAX - 1, ..Default::default() };
        assert_eq!(Envelope::open(&ctx, Some("me@x.test"), &huge).unwrap_err().code, 552);
        let ctx = context(&[Fault::NoSenderCheck]);
        assert!(Envelope::open(&ctx, Some("me@x.test"), &from).unwrap().refusal.is_none());
    }

    #[test]
    fn refusal_at_rcpt_refuses_every_recipient_after_mail_from() {
        let ctx = context_with(&[], &[Behaviour::RefuseAtRcpt]);
        let per2 = ctx.accounts.by_role("per2").unwrap().address.clone();
        let from = MailFrom { address: "other@x.test".to_string(), ..Default::default() };
        let mut env = Envelope::open(&ctx, Some("me@x.test"), &from).expect("MAIL FROM accepted");
        let r = env.add_recipient(&ctx, &rcpt(&per2, 0)).unwrap_err();
        assert_eq!(r.code, 553);
        assert!(r.lines[0].contains("<other@x.test>: Sender address rejected"), "{r:?}");
        let mut env = Envelope::open(&ctx, None, &from).expect("MAIL FROM accepted without AUTH");
        let r = env.add_recipient(&ctx, &rcpt(&per2, 0)).unwrap_err();
        assert_eq!(r.code, 554);
        assert!(r.lines[0].contains("Relay access denied"), "{r:?}");
        assert!(env.recipients.is_empty());
        let mine = MailFrom { address: "me@x.test".to_string(), ..Default::default() };
        let mut env = Envelope::open(&ctx, Some("me@x.test"), &mine).unwrap();
        assert_eq!(env.add_recipient(&ctx, &rcpt(&per2, 0)).unwrap().code, 250, "a legitimate transaction goes through");
    }

    #[test]
    fn refusal_at_data_accepts_the_envelope_but_remembers_why() {
        let ctx = context_with(&[], &[Behaviour::RefuseAtData]);
        let per2 = ctx.accounts.by_role("per2").unwrap().address.clone();
        let from = MailFrom { address: "other@x.test".to_string(), ..Default::default() };
        let mut env = Envelope::open(&ctx, Some("me@x.test"), &from).expect("MAIL FROM accepted");
        assert_eq!(env.add_recipient(&ctx, &rcpt(&per2, 0)).unwrap().code, 250);
        assert_eq!(env.add_recipient(&ctx, &rcpt("x@exterieur.example", 0)).unwrap_err().code, 550, "whitelist still at RCPT");
        assert!(matches!(env.refusal, Some(Refusal::ForeignSender { .. })));
    }

    #[test]
    fn unknown_local_recipient_is_refused_at_rcpt_when_chosen() {
        let ctx = context_with(&[], &[Behaviour::UnknownRecipientAtRcpt]);
        let per1 = ctx.accounts.by_role("per1").unwrap().address.clone();
        let mut env = Envelope::open(&ctx, Some(&per1), &MailFrom { address: per1.clone(), ..Default::default() }).unwrap();
        let r = env.add_recipient(&ctx, &rcpt(&format!("nobody@{}", ctx.accounts.domain), 0)).unwrap_err();
        assert_eq!(r.code, 550);
        assert!(r.lines[0].starts_with("5.1.1 <nobody@"), "{r:?}");
        assert!(env.add_recipient(&ctx, &rcpt(&per1, 0)).is_ok());
        assert!(env.add_recipient(&ctx, &rcpt("x@patient.mssante.test", 0)).is_ok());
    }
}
