//! Target profiles: where the operator's endpoints are and which test mailboxes may be used.

pub mod allow;
pub mod anchors;
pub mod load;
pub mod model;
pub mod private_file;
pub mod secret_value;
pub mod token_check;
pub mod token_source;

/// Endpoint names a profile may declare.
pub const ENDPOINT_NAMES: [&str; 4] = ["smtp_starttls", "smtp_implicit", "imap_starttls", "imap_implicit"];

/// The operator contract allows at most 25 test mailboxes during provisional integration.
pub const MAX_TEST_MAILBOXES: usize = 25;

/// The longest wait a profile timeout or a scenario duration (`timeout_ms`, `within_ms`,
/// `wait.ms`) may ask for: one hour. Larger values are refused at load (a `u64::MAX` deadline
/// would overflow the clock).
pub const MAX_WAIT_MS: u64 = 3_600_000;

/// Mailbox roles the catalogue refers to.
pub const STANDARD_ROLES: [&str; 7] = ["per1", "per2", "org1", "app1", "app2", "mdn_responder", "mdn_silent"];

/// A profile with every optional part filled in: what `${target.…}` paths may name.
pub fn reference_vars() -> serde_json::Value {
    use model::*;
    let endpoint = |port| Endpoint { host: "127.0.0.1".into(), port, tls: TlsMode::Starttls };
    let mailboxes = STANDARD_ROLES
        .iter()
        .map(|r| {
            let mb = Mailbox {
                address: format!("{r}@example.test"),
                kind: MailboxType::Per,
                token: Some(TokenSource::Issuer),
                certificate: None,
                password: None,
            };
            (r.to_string(), mb)
        })
        .collect();
    let t = Target {
        name: String::new(),
        operator: String::new(),
        service: String::new(),
        version: String::new(),
        software: vec![],
        environment: Environment::Test,
        claims: vec![],
        domain: String::new(),
        server_name: String::new(),
        endpoints: ENDPOINT_NAMES.iter().map(|n| (n.to_string(), endpoint(1))).collect(),
        http: HttpUrls {
            token_issuer: Some(String::new()),
            introspection: Some(String::new()),
            whitelist: Some(String::new()),
            autoconfig: Some(String::new()),
            crl: vec![String::new()],
        },
        trust_anchors: vec![],
        tls: TlsPolicy::default(),
        app_auth_form: AppAuthForms::Same(AppAuthForm::Plain),
        addresses: Addresses {
            outside_whitelist: Some(String::new()),
            unknown_local: Some(String::new()),
            other_operator: Some(String::new()),
        },
        mailboxes,
        negative: Negative::default(),
        limits: Limits::default(),
        timeouts: Timeouts::default(),
        rate: Rate::default(),
    };
    serde_json::to_value(t).expect("target serializes")
}
