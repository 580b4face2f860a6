//! Helpers for unit tests: a context with a quick ECDSA certificate instead of the full PKI.

use crate::accounts::Accounts;
use crate::behaviours::{Behaviour, BehaviourSet};
use crate::context::MockContext;
use crate::faults::{Fault, FaultSet};
use crate::store::Store;
use crate::tls::ServerTls;
use crate::tokens::TokenService;

pub const DOMAIN: &str = "operateur.mock.mssante.test";

pub fn context(faults: &[Fault]) -> MockContext {
    context_with(faults, &[])
}

pub fn context_with(faults: &[Fault], behaviours: &[Behaviour]) -> MockContext {
    let faults: FaultSet = faults.iter().copied().collect();
    let accounts = Accounts::standard(DOMAIN);
    let store = Store::new(accounts.all().iter().map(|a| a.address.as_str()));
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("test cert");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let tls = ServerTls::with_faults(vec![cert.cert.der().clone()], key, vec![cert.cert.der().clone()], &faults)
        .expect("test TLS");
    MockContext {
        store,
        tokens: TokenService::new("test-issuer", faults.clone()),
        faults,
        behaviours: behaviours.iter().copied().collect::<BehaviourSet>(),
        accounts,
        tls,
        host_name: "mock.mssante.test".into(),
        max_message_size: 10 * 1024 * 1024,
        whitelist: crate::default_whitelist(DOMAIN),
        crl: None,
        log_wire: false,
        flaky_once: Default::default(),
        connections: Default::default(),
    }
}
