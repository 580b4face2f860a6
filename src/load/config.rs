//! What a load run may do, checked before anything connects: loopback targets only, declared
//! test mailboxes only, and bounds on every dimension.

use std::net::IpAddr;
use std::time::Duration;

use crate::exec::net::{Endpoint, TlsMode};
use crate::fixtures::guard::Guard;
use crate::target::allow::HostAllowList;
use crate::target::model::Target;

/// Sessions a run may open at once.
pub const MAX_CONCURRENCY: usize = 256;
/// The longest soak.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// Under this size the generated message would not hold its own headers.
pub const MIN_MESSAGE_SIZE: usize = 512;
/// How long the watchers keep waiting for the last deliveries once submission stopped.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(20);

/// A checked load run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: Target,
    /// Concurrent submission sessions.
    pub concurrency: usize,
    /// Submission stops after this long.
    pub duration: Duration,
    /// Bytes of each message, headers included.
    pub message_size: usize,
    /// Submission stops after this many accepted messages, if set.
    pub max_messages: Option<u64>,
    /// The mailbox role that submits (`per1`).
    pub sender: String,
    /// The mailbox roles that receive, one message each, in turn (`per2`).
    pub recipients: Vec<String>,
    /// The submission endpoint used (`smtp_starttls` or `smtp_implicit`).
    pub submission: String,
    /// The IMAP endpoint the watchers use (`imap_implicit` or `imap_starttls`).
    pub imap: String,
    /// How long to wait for deliveries still outstanding at the end.
    pub drain: Duration,
    /// Expunge verified load messages from the recipients' INBOX (the test mailboxes stay small).
    pub expunge: bool,
}

/// What the user asks for, before the checks.
#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub concurrency: usize,
    pub duration: Duration,
    pub message_size: usize,
    pub max_messages: Option<u64>,
    pub sender: String,
    pub recipients: Vec<String>,
    /// Endpoint names; `None`: STARTTLS submission and implicit-TLS IMAP when declared.
    pub submission: Option<String>,
    pub imap: Option<String>,
    pub drain: Duration,
    pub expunge: bool,
}

impl Default for LoadRequest {
    fn default() -> Self {
        LoadRequest {
            concurrency: 4,
            duration: Duration::from_secs(10),
            message_size: 10 * 1024,
            max_messages: None,
            sender: "per1".into(),
            recipients: vec!["per2".into()],
            submission: None,
            imap: None,
            drain: DEFAULT_DRAIN,
            expunge: true,
        }
    }
}

/// Why a load run is refused before it starts (the user's or the profile's fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "safety: load mode only runs against loopback targets; the profile declares host(s) {0} \
         that are not loopback (127.0.0.0/8, ::1, localhost)"
    )]
    NotLoopback(String),
    #[error("the profile declares no mailbox `{0}` (load mode sends only between declared test mailboxes)")]
    UnknownRole(String),
    #[error("safety: {0}")]
    Guard(String),
    #[error("{0}")]
    Bounds(String),
    #[error("the profile declares no endpoint `{0}`")]
    NoEndpoint(String),
}

impl LoadConfig {
    /// Checks `req` against `target` and `fixtures` (the send guard's fictitious data).
    pub fn new(target: Target, fixtures: &serde_json::Value, req: LoadRequest) -> Result<LoadConfig, ConfigError> {
        check_loopback(&target)?;
        check_bounds(&req, target.limits.max_message_size)?;
        let guard = Guard::new(fixtures, &target).map_err(|e| ConfigError::Guard(e.to_string()))?;
        for role in std::iter::once(&req.sender).chain(&req.recipients) {
            let mailbox = target.mailboxes.get(role).ok_or_else(|| ConfigError::UnknownRole(role.clone()))?;
            guard.check_recipient(&mailbox.address, None).map_err(|e| ConfigError::Guard(e.to_string()))?;
        }
        let submission = pick_endpoint(&target, req.submission.as_deref(), &["smtp_starttls", "smtp_implicit"])?;
        let imap = pick_endpoint(&target, req.imap.as_deref(), &["imap_implicit", "imap_starttls"])?;
        Ok(LoadConfig {
            target,
            concurrency: req.concurrency,
            duration: req.duration,
            message_size: req.message_size,
            max_messages: req.max_messages,
            sender: req.sender,
            recipients: req.recipients,
            submission,
            imap,
            drain: req.drain,
            expunge: req.expunge,
        })
    }

    pub fn endpoint(&self, name: &str) -> &Endpoint {
        // Checked by `new`.
        &self.target.endpoints[name]
    }

    pub fn address(&self, role: &str) -> &str {
        // Checked by `new`.
        &self.target.mailboxes[role].address
    }

    /// `STARTTLS` or `implicit TLS`, for the report.
    pub fn tls_mode(&self, endpoint: &str) -> &'static str {
        match self.endpoint(endpoint).tls {
            TlsMode::Implicit => "implicit TLS",
            _ => "STARTTLS",
        }
    }
}

/// Every host the profile names (endpoints and http URLs) must be a loopback address: a load
/// run is a stress test and must never reach an operator's shared environment.
pub fn check_loopback(target: &Target) -> Result<(), ConfigError> {
    let hosts = HostAllowList::of(target);
    let outside: Vec<&str> = hosts.hosts().filter(|h| !is_loopback(h)).collect();
    if outside.is_empty() && hosts.hosts().next().is_some() {
        Ok(())
    } else if outside.is_empty() {
        Err(ConfigError::NotLoopback("(none declared)".into()))
    } else {
        Err(ConfigError::NotLoopback(outside.join(", ")))
    }
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn check_bounds(req: &LoadRequest, max_size: u64) -> Result<(), ConfigError> {
    let fail = |m: String| Err(ConfigError::Bounds(m));
    if req.concurrency == 0 || req.concurrency > MAX_CONCURRENCY {
        return fail(format!("--concurrency must be 1..={MAX_CONCURRENCY}, not {}", req.concurrency));
    }
    if req.duration.is_zero() || req.duration > MAX_DURATION {
        return fail(format!("--duration must be more than 0 and at most {MAX_DURATION:?}, not {:?}", req.duration));
    }
    if req.message_size < MIN_MESSAGE_SIZE || req.message_size as u64 > max_size {
        return fail(format!(
            "--message-size must be {MIN_MESSAGE_SIZE}..={max_size} bytes (the profile's limits.max_message_size), not {}",
            req.message_size
        ));
    }
    if req.max_messages == Some(0) {
        return fail("--max-messages must be at least 1".into());
    }
    if req.recipients.is_empty() {
        return fail("at least one recipient role is needed".into());
    }
    if req.drain > Duration::from_secs(600) {
        return fail("--drain must be at most 600 s".into());
    }
    Ok(())
}

fn pick_endpoint(target: &Target, asked: Option<&str>, preference: &[&str]) -> Result<String, ConfigError> {
    match asked {
        Some(name) if target.endpoints.contains_key(name) && preference.contains(&name) => Ok(name.to_string()),
        Some(name) => Err(ConfigError::NoEndpoint(name.to_string())),
        None => preference
            .iter()
            .find(|n| target.endpoints.contains_key(**n))
            .map(|n| n.to_string())
            .ok_or_else(|| ConfigError::NoEndpoint(preference.join(" or "))),
    }
}

/// `30s`, `2m`, `1h`, `500ms`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 2m, 500ms)"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{text}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is out of range"))
}

/// `10000`, `10k`, `10KiB`, `1M`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: usize = number.parse().map_err(|_| format!("`{text}` is not a size (e.g. 10k, 1M)"))?;
    let factor = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return Err(format!("`{text}`: unknown unit `{unit}` (k, M)")),
    };
    value.checked_mul(factor).ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        let mut t: Target = serde_json::from_value(crate::target::reference_vars()).expect("reference target");
        t.http = Default::default();
        t
    }

    fn fixtures() -> serde_json::Value {
        crate::fixtures::testdata::value()
    }

    #[test]
    fn loopback_target_with_declared_roles_is_accepted() {
        let cfg = LoadConfig::new(target(), &fixtures(), LoadRequest::default()).expect("accepted");
        assert_eq!((cfg.submission.as_str(), cfg.imap.as_str()), ("smtp_starttls", "imap_implicit"));
        assert_eq!(cfg.address("per2"), "per2@example.test");
    }

    #[test]
    fn non_loopback_host_is_refused_by_name() {
        let mut t = target();
        t.endpoints.get_mut("imap_implicit").unwrap().host = "imap.operateur.example".into();
        let err = LoadConfig::new(t.clone(), &fixtures(), LoadRequest::default()).unwrap_err();
        assert!(matches!(&err, ConfigError::NotLoopback(h) if h == "imap.operateur.example"), "{err}");
        assert!(err.to_string().contains("only runs against loopback"));
        t.endpoints.get_mut("imap_implicit").unwrap().host = "127.0.0.1".into();
        t.http.whitelist = Some("https://liste.example/x.xml".into());
        assert!(matches!(LoadConfig::new(t, &fixtures(), LoadRequest::default()), Err(ConfigError::NotLoopback(_))));
        assert!(is_loopback("127.8.9.1") && is_loopback("[::1]") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("10.0.0.1") && !is_loopback("localhost.example"));
    }

    #[test]
    fn undeclared_recipient_is_refused() {
        let req = LoadRequest { recipients: vec!["someone".into()], ..Default::default() };
        assert_eq!(LoadConfig::new(target(), &fixtures(), req).unwrap_err(), ConfigError::UnknownRole("someone".into()));
        let req = LoadRequest { sender: "nobody".into(), ..Default::default() };
        assert!(matches!(LoadConfig::new(target(), &fixtures(), req), Err(ConfigError::UnknownRole(_))));
    }

    #[test]
    fn bounds_are_enforced() {
        let bad = [
            LoadRequest { concurrency: 0, ..Default::default() },
            LoadRequest { concurrency: MAX_CONCURRENCY + 1, ..Default::default() },
            LoadRequest { duration: Duration::ZERO, ..Default::default() },
            LoadRequest { duration: MAX_DURATION * 2, ..Default::default() },
            LoadRequest { message_size: 10, ..Default::default() },
            LoadRequest { message_size: 11 * 1024 * 1024, ..Default::default() },
            LoadRequest { max_messages: Some(0), ..Default::default() },
            LoadRequest { recipients: vec![], ..Default::default() },
        ];
        for req in bad {
            let shown = format!("{req:?}");
            assert!(matches!(LoadConfig::new(target(), &fixtures(), req), Err(ConfigError::Bounds(_))), "{shown}");
        }
        let req = LoadRequest { submission: Some("imap_starttls".into()), ..Default::default() };
        assert!(matches!(LoadConfig::new(target(), &fixtures(), req), Err(ConfigError::NoEndpoint(_))));
    }

    #[test]
    fn durations_and_sizes_parse() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err() && parse_duration("3d").is_err());
        assert_eq!(parse_size("10k"), Ok(10240));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("700"), Ok(700));
        assert!(parse_size("big").is_err());
    }
}
