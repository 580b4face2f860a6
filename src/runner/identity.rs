//! Observing the service identity of a run's target (issue #18 item 3): one SMTP and one IMAP
//! session, paced like any other, on endpoints the run's scenarios use; the exchanges themselves
//! are [`crate::exec::identity`]'s. Never fails: what could not be observed is written down.

use std::collections::BTreeSet;
use std::time::Duration;

use super::scenario::open;
use crate::exec::env::RunEnv;
use crate::exec::identity::{ServiceIdentity, imap_identity, smtp_identity};
use crate::exec::imap::ImapTimeouts;
use crate::exec::net::Endpoint;
use crate::exec::smtp::SmtpTimeouts;
use crate::exec::transcript::Transcript;
use crate::scenario::model::{Scenario, StepAction};

/// The endpoint names the steps of `scenarios` connect to (SMTP, IMAP and TLS steps).
pub fn endpoints_used<'a>(scenarios: impl IntoIterator<Item = &'a Scenario>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for step in scenarios.into_iter().flat_map(|s| &s.steps) {
        match step.action() {
            Some(StepAction::Smtp(s)) => used.insert(s.endpoint.value.clone()),
            Some(StepAction::Imap(s)) => used.insert(s.endpoint.value.clone()),
            Some(StepAction::Tls(s)) => used.insert(s.endpoint.value.clone()),
            _ => false,
        };
    }
    used
}

/// The first endpoint of `names` the profile declares and the run uses.
fn pick<'a>(env: &'a RunEnv, used: &BTreeSet<String>, names: &[&'a str]) -> Option<(&'a str, &'a Endpoint)> {
    names.iter().filter(|n| used.contains(**n)).find_map(|n| env.target.endpoints.get(*n).map(|e| (*n, e)))
}

/// The longest one identity exchange (greeting, EHLO/CAPABILITY, STARTTLS, ID) may take.
const IDENTITY_BOUND: Duration = Duration::from_secs(15);

/// Observes the SMTP and IMAP services of the run's target, on endpoints among `used` (the run
/// contacts nothing it would not contact anyway); never fails.
pub async fn observe(env: &RunEnv, used: &BTreeSet<String>) -> ServiceIdentity {
    let mut out = ServiceIdentity::default();
    let tls = match env.tls_settings(None, None) {
        Ok(t) => t,
        Err(e) => {
            out.unobserved.push(format!("TLS settings: {}", e.message()));
            return out;
        }
    };
    let connect = Duration::from_millis(env.target.timeouts.connect);
    let reply = Duration::from_millis(env.target.timeouts.reply);
    // One bound for the whole exchange, so a server that trickles or floods cannot hold the
    // run: the identity is an observation, and a server slower than this is said unobserved.
    let bound = (connect + reply * 6).min(IDENTITY_BOUND);
    let t = Transcript::new(env.secrets.clone());
    match pick(env, used, &["smtp_starttls", "smtp_implicit"]) {
        None => out.unobserved.push("SMTP: no SMTP endpoint used by this run".into()),
        Some((name, ep)) => {
            let t = t.for_conn("identity-smtp");
            let opened = tokio::time::timeout(bound, async {
                let (session, greeting, _slot) = open::smtp(env, ep, &tls, SmtpTimeouts::new(connect, reply), &t).await?;
                Ok::<_, crate::exec::smtp::SmtpError>(smtp_identity(session, &greeting, ep.tls, &tls, &format!("{name}={ep}")).await)
            });
            match opened.await {
                Ok(Ok(id)) => out.smtp = Some(id),
                Ok(Err(e)) => out.unobserved.push(format!("SMTP {name}={ep}: {e}")),
                Err(_) => out.unobserved.push(format!("SMTP {name}={ep}: no end within {bound:?}")),
            }
        }
    }
    match pick(env, used, &["imap_starttls", "imap_implicit"]) {
        None => out.unobserved.push("IMAP: no IMAP endpoint used by this run".into()),
        Some((name, ep)) => {
            let t = t.for_conn("identity-imap");
            let opened = tokio::time::timeout(bound, async {
                let timeouts = ImapTimeouts { connect, response: reply };
                let (session, greeting, _slot) = open::imap(env, ep, &tls, timeouts, &t).await?;
                Ok::<_, crate::exec::imap::ImapError>(imap_identity(session, &greeting, ep.tls, &tls, &format!("{name}={ep}")).await)
            });
            match opened.await {
                Ok(Ok(id)) => out.imap = Some(id),
                Ok(Err(e)) => out.unobserved.push(format!("IMAP {name}={ep}: {e}")),
                Err(_) => out.unobserved.push(format!("IMAP {name}={ep}: no end within {bound:?}")),
            }
        }
    }
    out
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_endpoints_the_run_uses_are_observed() {
        let yaml = "id: 'OPE/X.01.01'\ntitle: t\nrequirements: []\nprofile: general\nsteps:\n\
                    - { title: a, imap: { endpoint: imap_implicit, actions: [] } }\n\
                    - { title: b, http: { url: 'https://x.test/', expect: {} } }\n";
        let s: Scenario = serde_saphyr::from_str(yaml).unwrap();
        let used = endpoints_used([&s]);
        assert_eq!(used.into_iter().collect::<Vec<_>>(), ["imap_implicit"]);
        let http_only: Scenario =
            serde_saphyr::from_str(&yaml.replace("imap: { endpoint: imap_implicit, actions: [] }", "http: { url: 'https://y.test/' }")).unwrap();
        assert!(endpoints_used([&http_only]).is_empty(), "an HTTP-only run contacts no mail server");
    }
}
