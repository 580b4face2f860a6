//! mssconf-mock: a simulated MSSanté operator on real sockets.
//!
//! It shares no code with mssconf's own protocol layer (a shared bug would hide itself); it uses
//! the same third-party codecs (smtp-proto, imap-next) for parsing.
//!
//! [`MockOperator::start`] generates (or reuses) the test PKI, binds the SMTP submission
//! (STARTTLS and implicit TLS), IMAP (STARTTLS and implicit TLS) and HTTP listeners, and
//! returns a [`MockHandle`] that describes the instance as a target profile.

pub mod accounts;
pub mod admission;
pub mod behaviours;
pub mod context;
pub mod faults;
pub mod grant_book;
pub mod grants;
pub mod http;
pub mod imap;
pub mod misbehave;
pub mod pki;
pub mod profile;
pub mod smtp;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod wire;

#[cfg(test)]
mod test_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::accounts::Accounts;
use crate::behaviours::BehaviourSet;
use crate::context::MockContext;
use crate::faults::{Fault, FaultSet};
use crate::pki::{Pki, PkiError, PkiFiles, PkiSpec};
use crate::store::Store;
use crate::tls::{ServerTls, TlsSetupError};
use crate::tokens::TokenService;

/// Ports to listen on; 0 lets the system choose a free one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    pub smtp_starttls: u16,
    pub smtp_implicit: u16,
    pub imap_starttls: u16,
    pub imap_implicit: u16,
    pub http: u16,
}

#[derive(Debug, Clone)]
pub struct MockConfig {
    pub bind: IpAddr,
    pub ports: Ports,
    /// Where the test PKI is generated (and reused from on the next start).
    pub pki_dir: PathBuf,
    pub faults: FaultSet,
    /// Conformant behaviours (one per family; the defaults unless told otherwise).
    pub behaviours: BehaviourSet,
    /// Log each session's lines (secrets redacted) on stderr.
    pub log_wire: bool,
    /// The operator's mail domain.
    pub domain: String,
    /// Host name in greetings and in the server certificate.
    pub host_name: String,
    pub max_message_size: usize,
    /// Lifetime (seconds) of the tokens the token endpoint's grants hand out, and the longest
    /// its issuer hands out; `None`: 300 s for grants, the issuer as asked.
    pub token_lifetime: Option<i64>,
}

impl MockConfig {
    /// Loopback, free ports, no fault, domain `operateur.mock.mssante.test`, host
    /// `mock.mssante.test`, 10 MiB messages.
    pub fn new(pki_dir: impl Into<PathBuf>) -> Self {
        MockConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: Ports::default(),
            pki_dir: pki_dir.into(),
            faults: FaultSet::none(),
            behaviours: BehaviourSet::default(),
            log_wire: false,
            domain: "operateur.mock.mssante.test".into(),
            host_name: "mock.mssante.test".into(),
            max_message_size: 10 * 1024 * 1024,
            token_lifetime: None,
        }
    }
}

/// Where a running mock listens (addresses a client can connect to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub smtp_starttls: SocketAddr,
    pub smtp_implicit: SocketAddr,
    pub imap_starttls: SocketAddr,
    pub imap_implicit: SocketAddr,
    pub http: SocketAddr,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("mock TLS configuration (mock bug): {0}")]
    Tls(#[from] TlsSetupError),
    #[error("cannot listen for {service} on {addr}: {source} (port in use? choose another or 0)")]
    Bind { service: &'static str, addr: SocketAddr, source: std::io::Error },
}

/// The domains of the whitelist the mock serves and enforces: its own, another (fictitious)
/// operator, the patients' domain and an IDN name.
pub fn default_whitelist(domain: &str) -> Vec<String> {
    [domain, "autre-operateur.mssante.test", "patient.mssante.test", "hôpital-fictif.mssante.test"]
        .map(String::from)
        .to_vec()
}

pub struct MockOperator;

impl MockOperator {
    /// Prepares the PKI, binds every listener and returns once all of them listen.
    pub async fn start(config: MockConfig) -> Result<MockHandle, MockError> {
        let started = Instant::now();
        let accounts = Accounts::standard(&config.domain);
        let spec = PkiSpec {
            host_name: config.host_name.clone(),
            app1: role_address(&accounts, "app1"),
            app2: role_address(&accounts, "app2"),
        };
        let pki_dir = config.pki_dir.clone();
        let pki = tokio::task::spawn_blocking(move || Pki::prepare(&pki_dir, &spec))
            .await
            .map_err(|e| PkiError::Generate(format!("PKI task failed: {e}")))??;
        let listeners = Listeners::bind(&config).await?;
        let endpoints = listeners.endpoints(config.bind)?;
        let ctx = build_context(&config, &pki, accounts, endpoints.http)?;
        let tasks = listeners.spawn(&ctx, endpoints);
        Ok(MockHandle { config, endpoints, ctx, pki, tasks, startup: started.elapsed() })
    }
}

fn role_address(accounts: &Accounts, role: &str) -> String {
    accounts.by_role(role).map(|a| a.address.clone()).unwrap_or_default()
}

fn build_context(config: &MockConfig, pki: &Pki, accounts: Accounts, http: SocketAddr) -> Result<MockContext, MockError> {
    let chain = if config.faults.is_on(Fault::ForeignCaCert) {
        pki.foreign_server_chain.clone()
    } else if config.faults.is_on(Fault::ExpiredServerCert) {
        pki.expired_server_chain.clone()
    } else {
        pki.server_chain.clone()
    };
    let tls = ServerTls::with_crls(chain, pki.server_key(), vec![pki.root.clone()], vec![pki.crl.clone()], &config.faults)?;
    let store = Store::new(accounts.all().iter().map(|a| a.address.as_str()));
    let tokens = TokenService::new(format!("http://{http}/psc"), config.faults.clone());
    if let Some(secs) = config.token_lifetime {
        tokens.grants.set_lifetime(secs);
    }
    Ok(MockContext {
        store,
        tokens,
        faults: config.faults.clone(),
        behaviours: config.behaviours,
        whitelist: default_whitelist(&accounts.domain),
        crl: Some(std::sync::Arc::new(published_crl(config, pki).as_ref().to_vec())),
        accounts,
        tls,
        host_name: config.host_name.clone(),
        max_message_size: config.max_message_size,
        log_wire: config.log_wire,
        flaky_once: Default::default(),
        connections: Default::default(),
    })
}

/// The CRL the HTTP endpoint publishes: under fault `revoked-server-cert`, the one listing the
/// server certificate too.
fn published_crl<'a>(config: &MockConfig, pki: &'a Pki) -> &'a rustls::pki_types::CertificateRevocationListDer<'static> {
    if config.faults.is_on(Fault::RevokedServerCert) { &pki.crl_server_revoked } else { &pki.crl }
}

struct Listeners {
    smtp_starttls: TcpListener,
    smtp_implicit: TcpListener,
    imap_starttls: TcpListener,
    imap_implicit: TcpListener,
    http: TcpListener,
}

impl Listeners {
    async fn bind(config: &MockConfig) -> Result<Listeners, MockError> {
        let p = config.ports;
        Ok(Listeners {
            smtp_starttls: listen("SMTP submission (STARTTLS)", config.bind, p.smtp_starttls).await?,
            smtp_implicit: listen("SMTP submission (implicit TLS)", config.bind, p.smtp_implicit).await?,
            imap_starttls: listen("IMAP (STARTTLS)", config.bind, p.imap_starttls).await?,
            imap_implicit: listen("IMAP (implicit TLS)", config.bind, p.imap_implicit).await?,
            http: listen("HTTP", config.bind, p.http).await?,
        })
    }

    fn endpoints(&self, bind: IpAddr) -> Result<Endpoints, MockError> {
        let addr = |l: &TcpListener, service| -> Result<SocketAddr, MockError> {
            let mut a = l.local_addr().map_err(|source| MockError::Bind { service, addr: SocketAddr::new(bind, 0), source })?;
            if a.ip().is_unspecified() {
                a.set_ip(if a.is_ipv6() { Ipv4Addr::LOCALHOST.to_ipv6_mapped().into() } else { Ipv4Addr::LOCALHOST.into() });
            }
            Ok(a)
        };
        Ok(Endpoints {
            smtp_starttls: addr(&self.smtp_starttls, "SMTP submission (STARTTLS)")?,
            smtp_implicit: addr(&self.smtp_implicit, "SMTP submission (implicit TLS)")?,
            imap_starttls: addr(&self.imap_starttls, "IMAP (STARTTLS)")?,
            imap_implicit: addr(&self.imap_implicit, "IMAP (implicit TLS)")?,
            http: addr(&self.http, "HTTP")?,
        })
    }

    fn spawn(self, ctx: &MockContext, endpoints: Endpoints) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(smtp::serve(self.smtp_starttls, ctx.clone(), false)),
            tokio::spawn(smtp::serve(self.smtp_implicit, ctx.clone(), true)),
            tokio::spawn(imap::serve(self.imap_starttls, ctx.clone(), false)),
            tokio::spawn(imap::serve(self.imap_implicit, ctx.clone(), true)),
            tokio::spawn(http::serve(self.http, ctx.clone(), endpoints)),
        ]
    }
}

async fn listen(service: &'static str, ip: IpAddr, port: u16) -> Result<TcpListener, MockError> {
    let addr = SocketAddr::new(ip, port);
    TcpListener::bind(addr).await.map_err(|source| MockError::Bind { service, addr, source })
}

/// A running mock operator. Dropping it stops the listeners too; [`MockHandle::shutdown`]
/// also waits for them to end.
pub struct MockHandle {
    config: MockConfig,
    endpoints: Endpoints,
    ctx: MockContext,
    pki: Pki,
    tasks: Vec<JoinHandle<()>>,
    startup: Duration,
}

impl MockHandle {
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn context(&self) -> &MockContext {
        &self.ctx
    }

    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    /// Absolute paths of the PKI files (trust anchor, client certificates…).
    pub fn pki_files(&self) -> &PkiFiles {
        &self.pki.files
    }

    /// How long `start` took, and whether the PKI of an earlier start was reused.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    pub fn pki_reused(&self) -> bool {
        self.pki.reused
    }

    /// The target profile describing this instance (`docs/target-profile.md`).
    pub fn target_profile_yaml(&self) -> String {
        profile::render(&profile::ProfileInput {
            host_name: &self.config.host_name,
            endpoints: &self.endpoints,
            pki: &self.pki.files,
            accounts: &self.ctx.accounts,
            max_message_size: self.config.max_message_size,
        })
    }

    /// Writes the target profile to `path` (parent directories created).
    pub fn write_target(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.target_profile_yaml())
    }

    /// Lines to print at start: where everything listens, the PKI and the faults.
    pub fn describe_endpoints(&self) -> String {
        let e = &self.endpoints;
        let faults: Vec<_> = self.config.faults.iter().map(|f| f.name()).collect();
        let mut out = String::new();
        out += &format!("SMTP submission (STARTTLS)      {}\n", e.smtp_starttls);
        out += &format!("SMTP submission (implicit TLS)  {}\n", e.smtp_implicit);
        out += &format!("IMAP (STARTTLS)                 {}\n", e.imap_starttls);
        out += &format!("IMAP (implicit TLS)             {}\n", e.imap_implicit);
        out += &format!("Token issuer                    http://{}/psc/token\n", e.http);
        out += &format!(
            "Token lifetime                  {} s (grants: refresh_token, client_credentials)\n",
            self.ctx.tokens.grants.lifetime()
        );
        out += &format!("Token introspection             http://{}/psc/introspect\n", e.http);
        out += &format!("Whitelist                       http://{}/listeblanchemssante.xml\n", e.http);
        out += &format!("Autoconfig                      http://{}/.well-known/autoconfig/mail/config-v1.1.xml\n", e.http);
        out += &format!("Domain / host name              {} / {}\n", self.ctx.accounts.domain, self.config.host_name);
        out += &format!(
            "Test PKI                        {} (trust anchor {}; {})\n",
            self.pki.files.dir.display(),
            self.pki.files.ca.display(),
            if self.pki.reused { "reused" } else { "generated" }
        );
        out += &format!(
            "Faults                          {}\n",
            if faults.is_empty() { "none".to_string() } else { faults.join(", ") }
        );
        let behaviours: Vec<_> = self.config.behaviours.iter().map(|b| b.name()).collect();
        out += &format!("Behaviours                      {}\n", behaviours.join(", "));
        out += &format!("Started in                      {} ms\n", self.startup.as_millis());
        out
    }

    /// Stops every listener and its sessions, and waits for them.
    pub async fn shutdown(mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
