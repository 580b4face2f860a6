//! Judging a submission attempt as a whole: where the referential says *that* a submission is
//! refused but not *at which stage* (MAIL FROM, RCPT TO, DATA) nor with which code, every stage
//! passes, and the check says which one refused.

use super::check::Checks;
use super::code_matches;
use crate::exec::observation::TransactionObservation;
use crate::scenario::model::{SmtpStage, SmtpTransaction, TransactionOutcome};

/// What an attempt must show: the expected outcome, where a refusal may come, and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRule {
    pub outcome: TransactionOutcome,
    pub stages: Vec<SmtpStage>,
    pub code: String,
}

impl TransactionRule {
    pub fn of(t: &SmtpTransaction) -> Self {
        TransactionRule { outcome: t.expect.outcome.value, stages: t.refusal_stages(), code: t.refusal_code().to_string() }
    }

    /// `refused at MAIL FROM, RCPT TO or DATA (5xx), or the connection closed`
    fn describe_refusal(&self) -> String {
        let names: Vec<&str> = self.stages.iter().map(|s| s.name()).collect();
        let stages = match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "no stage".into(),
        };
        format!("refused at {stages} ({}), or the connection closed there", self.code)
    }

    fn describe(&self) -> String {
        match self.outcome {
            TransactionOutcome::Refused => self.describe_refusal(),
            TransactionOutcome::Accepted => "accepted (every command)".into(),
            TransactionOutcome::Either => format!("accepted, or {}", self.describe_refusal()),
        }
    }
}

pub fn judge(rule: &TransactionRule, o: &TransactionObservation) -> Vec<super::Check> {
    let mut c = Checks::default();
    let seen = o.describe();
    let ok = match (&o.refusal, rule.outcome) {
        (None, TransactionOutcome::Accepted | TransactionOutcome::Either) => true,
        (None, TransactionOutcome::Refused) => false,
        (Some(_), TransactionOutcome::Accepted) => false,
        (Some(r), TransactionOutcome::Refused | TransactionOutcome::Either) => {
            // A close is a refusal whatever the class: nothing more can be sent.
            rule.stages.contains(&r.stage) && (r.closed || code_matches(&rule.code, r.code))
        }
    };
    c.push("submission outcome", rule.describe(), seen, ok);
    c.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::observation::Refusal;

    fn rule(outcome: TransactionOutcome, stages: &[SmtpStage]) -> TransactionRule {
        TransactionRule { outcome, stages: stages.to_vec(), code: "5xx".into() }
    }

    fn refused(stage: SmtpStage, code: u16, closed: bool) -> TransactionObservation {
        TransactionObservation { refusal: Some(Refusal { stage, code, reply: format!("{code} no"), closed }), ..Default::default() }
    }

    const ALL: [SmtpStage; 3] = [SmtpStage::Mail, SmtpStage::Rcpt, SmtpStage::Data];

    #[test]
    fn a_refusal_at_any_allowed_stage_passes_and_says_where() {
        for stage in ALL {
            let checks = judge(&rule(TransactionOutcome::Refused, &ALL), &refused(stage, 554, false));
            assert!(checks[0].passed, "{checks:?}");
            assert!(checks[0].actual.contains(stage.name()), "{}", checks[0].actual);
        }
        let closed = judge(&rule(TransactionOutcome::Refused, &ALL), &refused(SmtpStage::Rcpt, 0, true));
        assert!(closed[0].passed && closed[0].actual.contains("closed"), "{closed:?}");
    }

    #[test]
    fn acceptance_a_temporary_reply_or_a_wrong_stage_fail() {
        let accepted = TransactionObservation::default();
        assert!(!judge(&rule(TransactionOutcome::Refused, &ALL), &accepted)[0].passed);
        assert!(!judge(&rule(TransactionOutcome::Refused, &ALL), &refused(SmtpStage::Rcpt, 451, false))[0].passed);
        let only_rcpt = rule(TransactionOutcome::Either, &[SmtpStage::Rcpt]);
        assert!(!judge(&only_rcpt, &refused(SmtpStage::Mail, 550, false))[0].passed);
        assert!(judge(&only_rcpt, &refused(SmtpStage::Rcpt, 550, false))[0].passed);
        assert!(judge(&only_rcpt, &accepted)[0].passed);
        assert!(!judge(&rule(TransactionOutcome::Accepted, &ALL), &refused(SmtpStage::Data, 554, false))[0].passed);
    }

    #[test]
    fn the_expectation_names_the_stages() {
        let r = rule(TransactionOutcome::Refused, &ALL);
        assert_eq!(r.describe(), "refused at MAIL FROM, RCPT TO or DATA (5xx), or the connection closed there");
    }
}
