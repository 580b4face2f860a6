//! `mssconf preflight`: is this target profile ready for a run? Every endpoint is reached, its
//! TLS chain checked against the profile's anchors, every mailbox logs in, the files the profile
//! names are readable and private, and the mailboxes fit the operator contract. Nothing is sent
//! (no MAIL FROM, no APPEND): each session ends with QUIT / LOGOUT.
//!
//! The checks return [`Finding`]s; [`render`] prints them. Judging a finding (what is OK, what
//! is a warning, what must be fixed) is done by pure functions ([`judge`], [`profile`]), the IO
//! by [`files`], [`endpoints`], [`http`] and [`logins`].

pub mod endpoints;
pub mod files;
pub mod http;
pub mod judge;
pub mod logins;
pub mod profile;
pub mod render;

use serde::Serialize;

use crate::exec::env::RunEnv;

/// A certificate ending within this many days is a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// The run can start; something should still be looked at.
    Warning,
    /// The run cannot start (or would end in errors) until this is fixed.
    Fix,
}

/// A text in both languages of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub fr: String,
    pub en: String,
}

/// `Text` from a French and an English text.
pub fn text(fr: impl Into<String>, en: impl Into<String>) -> Text {
    Text { fr: fr.into(), en: en.into() }
}

/// The same text in both languages (server answers, file names, error messages).
pub fn same(both: impl Into<String>) -> Text {
    let s = both.into();
    Text { fr: s.clone(), en: s }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked (`profil`, `smtp_starttls`, `per1`…), as the profile names it.
    pub subject: String,
    /// The kind of check (`tls`, `login`…): stable, for `--json` readers.
    pub check: &'static str,
    pub status: Status,
    /// What was seen.
    pub detail: Text,
    /// What to do about it (warnings and fixes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Text>,
}

impl Finding {
    pub fn ok(subject: impl Into<String>, check: &'static str, detail: Text) -> Self {
        Finding { subject: subject.into(), check, status: Status::Ok, detail, fix: None }
    }

    pub fn warning(subject: impl Into<String>, check: &'static str, detail: Text, fix: Text) -> Self {
        Finding { subject: subject.into(), check, status: Status::Warning, detail, fix: Some(fix) }
    }

    pub fn fix(subject: impl Into<String>, check: &'static str, detail: Text, fix: Text) -> Self {
        Finding { subject: subject.into(), check, status: Status::Fix, detail, fix: Some(fix) }
    }
}

/// True when a run could start: nothing left to fix.
pub fn ready(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.status != Status::Fix)
}

/// Every check that needs the network, in table order: endpoints, HTTP URLs, then each mailbox's
/// token and logins. Endpoints and mailboxes are checked side by side; connections go through the
/// run's pacing (`rate.*`), and every wait has the profile's timeouts.
pub async fn network_checks(env: &RunEnv) -> Vec<Finding> {
    let each = env.target.endpoints.iter().map(|(name, endpoint)| endpoints::check(env, name, endpoint));
    let mut out: Vec<Finding> = futures_util::future::join_all(each).await.into_iter().flatten().collect();
    out.extend(http::check(env).await);
    out.extend(logins::check(env).await);
    out
}
