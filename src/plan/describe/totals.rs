//! The plan's totals, added up from the described items: connections, messages, hosts, and what
//! the harness would refuse.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

#[derive(Debug, Default)]
pub struct Totals {
    pub connections: usize,
    /// Messages that take a slot of the rate and cap.
    pub messages: usize,
    pub hosts: BTreeSet<String>,
    /// Connections per host (mail endpoints and HTTP, lowercased), for the pacing's minimum time.
    pub per_host: BTreeMap<String, usize>,
    /// What the harness would refuse at run time (undeclared host or recipient).
    pub refusals: Vec<String>,
}

impl Totals {
    pub fn add_step(&mut self, d: &StepDescription<'_>) {
        for i in &d.items {
            self.add_item(&i.does);
        }
    }

    /// Adds `other`, its refusals prefixed with `prefix` (the scenario id).
    pub fn add(&mut self, other: Totals, prefix: &str) {
        self.connections += other.connections;
        self.messages += other.messages;
        self.hosts.extend(other.hosts);
        for (host, n) in other.per_host {
            *self.per_host.entry(host).or_default() += n;
        }
        self.refusals.extend(other.refusals.into_iter().map(|r| format!("{prefix}: {r}")));
    }

    fn add_item(&mut self, d: &Does<'_>) {
        if let Some(at) = d.connection() {
            self.connect(&at, connections(d));
        }
        match d {
            Does::Login(Login { form: LoginForm::Sasl { credential, .. }, .. }) => {
                // The token issuer is contacted too (its connection is not paced with the mail ones).
                self.hosts.extend(credential.source().and_then(Source::host));
            }
            Does::RcptTo(r) => self.refusals.extend(r.refused.clone()),
            Does::Message(_) => self.messages += 1,
            Does::Transaction(t) => {
                self.refusals.extend(t.to.iter().filter_map(|r| r.refused.clone()));
                self.messages += usize::from(t.message.is_some());
            }
            Does::RawCommand { opens_a_message, .. } => self.messages += usize::from(*opens_a_message == Some(true)),
            Does::Http(h) => {
                self.connections += 1;
                if let Some(host) = &h.host {
                    *self.per_host.entry(host.to_ascii_lowercase()).or_default() += 1;
                    self.hosts.insert(host.clone());
                }
                self.refusals.extend(h.refused.clone());
            }
            _ => {}
        }
    }

    fn connect(&mut self, at: &At<'_>, n: usize) {
        self.connections += n;
        if let Some(ep) = at.endpoint.filter(|_| n > 0) {
            self.hosts.insert(ep.host.clone());
            *self.per_host.entry(ep.host.to_ascii_lowercase()).or_default() += n;
        }
    }
}

/// Connections an item opens (the planned ones: a suite probe's retries are not counted).
fn connections(d: &Does<'_>) -> usize {
    match d {
        Does::Connect(_) => 1,
        Does::Tls(t) => match &t.kind {
            TlsKind::Handshake { .. } | TlsKind::Version { .. } => 1,
            TlsKind::Families(f) => f.as_ref().map_or(0, Vec::len),
            TlsKind::KeyExchange { offers, .. } => offers.as_ref().map_or(0, Vec::len),
            TlsKind::Nothing => 0,
        },
        _ => 0,
    }
}
