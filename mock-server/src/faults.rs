//! Deliberate deviations the mock operator can be switched into, one requirement each.
//!
//! They are how mssconf proves it detects non-conformance: each requirement fault must make the
//! scenarios of exactly that requirement fail; each robustness fault must end the scenarios it
//! touches as `error` (never pass, never hang).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    Tls10,
    WeakCipher,
    AuthBeforeTls,
    AcceptExpiredToken,
    AcceptForeignToken,
    NoSenderCheck,
    NoWhitelist,
    StripXmssHeaders,
    AlterAttachment,
    NoDsn,
    NoIdle,
    ForeignCaCert,
    AcceptAnyClientCert,
    DropMidData,
    Slow,
    Garbage,
    Silent,
    TlsHandshakeFail,
    OversizedLine,
    EofMidLiteral,
    TlsAlertMidSession,
    /// Test-only: not a deviation from the spec, so outside the fault matrix.
    FlakyOnce,
    StaticRsaSuite,
    AcceptRevokedToken,
    ConnectionLimit,
    ConnectionRate,
    TokenAnySignature,
    TokenSignatureNotBound,
    TokenEmptySignature,
    TokenAlgNone,
    WeakCurve,
    SmallDh,
    IgnoreCrl,
    RefuseOtherDomains,
    AlterMdn,
    RevokedServerCert,
    ExpiredServerCert,
}

impl Fault {
    pub const ALL: [Fault; 37] = [
        Fault::Tls10,
        Fault::WeakCipher,
        Fault::AuthBeforeTls,
        Fault::AcceptExpiredToken,
        Fault::AcceptForeignToken,
        Fault::NoSenderCheck,
        Fault::NoWhitelist,
        Fault::StripXmssHeaders,
        Fault::AlterAttachment,
        Fault::NoDsn,
        Fault::NoIdle,
        Fault::ForeignCaCert,
        Fault::AcceptAnyClientCert,
        Fault::DropMidData,
        Fault::Slow,
        Fault::Garbage,
        Fault::Silent,
        Fault::TlsHandshakeFail,
        Fault::OversizedLine,
        Fault::EofMidLiteral,
        Fault::TlsAlertMidSession,
        Fault::FlakyOnce,
        Fault::StaticRsaSuite,
        Fault::AcceptRevokedToken,
        Fault::ConnectionLimit,
        Fault::ConnectionRate,
        Fault::TokenAnySignature,
        Fault::TokenSignatureNotBound,
        Fault::TokenEmptySignature,
        Fault::TokenAlgNone,
        Fault::WeakCurve,
        Fault::SmallDh,
        Fault::IgnoreCrl,
        Fault::RefuseOtherDomains,
        Fault::AlterMdn,
        Fault::RevokedServerCert,
        Fault::ExpiredServerCert,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Tls10 => "tls10",
            Fault::WeakCipher => "weak-cipher",
            Fault::AuthBeforeTls => "auth-before-tls",
            Fault::AcceptExpiredToken => "accept-expired-token",
            Fault::AcceptForeignToken => "accept-foreign-token",
            Fault::NoSenderCheck => "no-sender-check",
            Fault::NoWhitelist => "no-whitelist",
            Fault::StripXmssHeaders => "strip-xmss-headers",
            Fault::AlterAttachment => "alter-attachment",
            Fault::NoDsn => "no-dsn",
            Fault::NoIdle => "no-idle",
            Fault::ForeignCaCert => "foreign-ca-cert",
            Fault::AcceptAnyClientCert => "accept-any-client-cert",
            Fault::DropMidData => "drop-mid-data",
            Fault::Slow => "slow",
            Fault::Garbage => "garbage",
            Fault::Silent => "silent",
            Fault::TlsHandshakeFail => "tls-handshake-fail",
            Fault::OversizedLine => "oversized-line",
            Fault::EofMidLiteral => "eof-mid-literal",
            Fault::TlsAlertMidSession => "tls-alert-mid-session",
            Fault::FlakyOnce => "flaky-once",
            Fault::StaticRsaSuite => "static-rsa-suite",
            Fault::AcceptRevokedToken => "accept-revoked-token",
            Fault::ConnectionLimit => "connection-limit",
            Fault::ConnectionRate => "connection-rate",
            Fault::TokenAnySignature => "token-any-signature",
            Fault::TokenSignatureNotBound => "token-signature-not-bound",
            Fault::TokenEmptySignature => "token-empty-signature",
            Fault::TokenAlgNone => "token-alg-none",
            Fault::WeakCurve => "weak-curve",
            Fault::SmallDh => "small-dh",
            Fault::IgnoreCrl => "ignore-crl",
            Fault::RefuseOtherDomains => "refuse-other-domains",
            Fault::AlterMdn => "alter-mdn",
            Fault::RevokedServerCert => "revoked-server-cert",
            Fault::ExpiredServerCert => "expired-server-cert",
        }
    }

    /// What the fault breaks, for `mssconf mock --list-faults`.
    pub fn breaks(self) -> &'static str {
        match self {
            Fault::Tls10 => "accepts SSL 3.0 / TLS 1.0 / TLS 1.1 ClientHellos (TLS 1.2 minimum)",
            Fault::WeakCipher => "negotiates a TLS 1.2 cipher suite outside the allow-list",
            Fault::AuthBeforeTls => "offers AUTH (SMTP) and accepts LOGIN/AUTHENTICATE (IMAP) before TLS",
            Fault::AcceptExpiredToken => "accepts an expired bearer token",
            Fault::AcceptForeignToken => "accepts mailbox A's token to log in as mailbox B",
            Fault::NoSenderCheck => "accepts MAIL FROM and From: other than the authenticated mailbox",
            Fault::NoWhitelist => "accepts recipients whose domain is outside the whitelist",
            Fault::StripXmssHeaders => "removes X-MSS-* headers from delivered messages",
            Fault::AlterAttachment => "changes one byte of attachments on delivery",
            Fault::NoDsn => "does not announce DSN and sends no delivery status notifications",
            Fault::NoIdle => "does not announce or accept IMAP IDLE",
            Fault::ForeignCaCert => "presents a server certificate from a CA outside the trust anchors",
            Fault::AcceptAnyClientCert => "accepts any client certificate (expired, foreign CA, other mailbox)",
            Fault::DropMidData => "robustness: closes the SMTP connection in the middle of DATA",
            Fault::Slow => "robustness: delays replies beyond the target's reply timeout",
            Fault::Garbage => "robustness: answers one malformed reply line per session",
            Fault::Silent => "robustness: accepts SMTP/IMAP connections and never sends a byte (no greeting, no TLS)",
            Fault::TlsHandshakeFail => "robustness: answers every ClientHello with a fatal handshake_failure alert",
            Fault::OversizedLine => "robustness: answers EHLO (SMTP) / the first command (IMAP) with 4 MiB and no line end",
            Fault::EofMidLiteral => "robustness: IMAP FETCH announces a literal, sends part of it and closes",
            Fault::TlsAlertMidSession => "robustness: answers the first command after authentication with a fatal TLS alert",
            Fault::FlakyOnce => "test only: answers the first EHLO of this instance with 421 (a retry passes)",
            Fault::StaticRsaSuite => {
                "accepts the static-RSA suite TLS_RSA_WITH_AES_256_CBC_SHA (0x0035) with TLS 1.2 (simulated ServerHello)"
            }
            Fault::AcceptRevokedToken => "accepts a revoked bearer token",
            Fault::ConnectionLimit => {
                "limits: more than 4 SMTP/IMAP connections at once are refused in plaintext (421 / * BYE), as a stock Exim does"
            }
            Fault::ConnectionRate => "limits: more than 10 new SMTP/IMAP connections within a second are refused in plaintext (421 / * BYE)",
            Fault::TokenAnySignature => "does not verify a bearer token's signature (its claims are still checked)",
            Fault::TokenSignatureNotBound => {
                "accepts a bearer token whose signature is one its issuer produced, whatever payload it now carries"
            }
            Fault::TokenEmptySignature => "skips the signature check of a bearer token whose signature segment is empty",
            Fault::TokenAlgNone => "accepts an unsigned bearer token (`alg: none`)",
            Fault::WeakCurve => "accepts ECDHE on a curve under 256 bits with TLS 1.2 (simulated ServerHello + ServerKeyExchange)",
            Fault::SmallDh => "accepts an allow-listed DHE suite with a 1024-bit DH group (simulated ServerHello + ServerKeyExchange)",
            Fault::IgnoreCrl => "does not load its CA's CRL: accepts a revoked client certificate",
            Fault::RefuseOtherDomains => "refuses at RCPT every recipient outside its own domain, whitelisted operators included",
            Fault::RevokedServerCert => "presents a server certificate its CA's published CRL lists as revoked",
            Fault::AlterMdn => "alters the read receipts (MDN) its users submit: drops Original-Message-ID, disposition becomes deleted",
            Fault::ExpiredServerCert => "presents a server certificate from the trusted root whose validity ended 30 days ago",
        }
    }

    /// Robustness faults end scenarios as `error`; the others as `fail`.
    pub fn is_robustness(self) -> bool {
        matches!(
            self,
            Fault::DropMidData
                | Fault::Slow
                | Fault::Garbage
                | Fault::Silent
                | Fault::TlsHandshakeFail
                | Fault::OversizedLine
                | Fault::EofMidLiteral
                | Fault::TlsAlertMidSession
        )
    }

    /// Limits a real operator sets (connections at once, connections per second): not a deviation
    /// from the spec. With the harness's default pacing every scenario passes; without it the
    /// refused connections end scenarios as `error` ("service temporarily unavailable"), never
    /// as `fail`.
    pub fn is_limit(self) -> bool {
        matches!(self, Fault::ConnectionLimit | Fault::ConnectionRate)
    }

    /// Faults that exercise the harness itself (retries, flaky detection) rather than break a
    /// requirement: the fault matrix leaves them out.
    pub fn is_test_only(self) -> bool {
        matches!(self, Fault::FlakyOnce)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{0}`; known faults: {known}", known = Fault::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL.into_iter().find(|f| f.name() == s.trim()).ok_or_else(|| UnknownFault(s.to_string()))
    }
}

/// Fault `connection-limit`: SMTP/IMAP connections open at once beyond which the mock refuses.
pub const CONNECTION_LIMIT: usize = 4;
/// Fault `connection-rate`: new SMTP/IMAP connections within one second beyond which it refuses.
pub const CONNECTION_RATE: usize = 10;

/// How long fault `slow` delays each reply unless told otherwise: beyond the generated target
/// profile's 2 s reply timeout.
pub const DEFAULT_SLOW_DELAY: Duration = Duration::from_secs(3);

/// The faults switched on for one mock instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSet {
    set: BTreeSet<Fault>,
    slow_delay: Duration,
}

impl Default for FaultSet {
    fn default() -> Self {
        FaultSet { set: BTreeSet::new(), slow_delay: DEFAULT_SLOW_DELAY }
    }
}

impl FaultSet {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn is_on(&self, fault: Fault) -> bool {
        self.set.contains(&fault)
    }

    pub fn insert(&mut self, fault: Fault) {
        self.set.insert(fault);
    }

    pub fn iter(&self) -> impl Iterator<Item = Fault> + '_ {
        self.set.iter().copied()
    }

    /// The delay fault `slow` adds before each reply after the greeting.
    pub fn slow_delay(&self) -> Duration {
        self.slow_delay
    }

    pub fn with_slow_delay(mut self, delay: Duration) -> Self {
        self.slow_delay = delay;
        self
    }

    /// `Some(delay)` when fault `slow` is on.
    pub fn reply_delay(&self) -> Option<Duration> {
        self.is_on(Fault::Slow).then_some(self.slow_delay)
    }

    /// Parses a comma-separated list (`MSSCONF_MOCK_FAULTS=tls10,no-dsn`); empty items are ignored.
    pub fn parse_list(list: &str) -> Result<Self, UnknownFault> {
        let mut set = FaultSet::none();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            set.insert(item.parse()?);
        }
        Ok(set)
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        FaultSet { set: iter.into_iter().collect(), ..FaultSet::default() }
    }
}

/// Fault `flaky-once` fires once per mock instance: the first caller gets `true`.
#[derive(Debug, Clone, Default)]
pub struct OneShot(Arc<AtomicBool>);

impl OneShot {
    /// True the first time only, across every clone of this value.
    pub fn fire(&self) -> bool {
        !self.0.swap(true, Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let names: BTreeSet<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Fault::ALL.len());
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>(), Ok(f));
        }
    }

    #[test]
    fn one_shot_fires_once_across_clones() {
        let a = OneShot::default();
        let b = a.clone();
        assert!(b.fire());
        assert!(!a.fire() && !b.fire());
        assert!(OneShot::default().fire(), "a new instance fires again");
        assert!(Fault::FlakyOnce.is_test_only() && !Fault::Garbage.is_test_only());
    }

    #[test]
    fn list_parsing_reports_unknown_names() {
        let set = FaultSet::parse_list("tls10, no-dsn,").unwrap();
        assert!(set.is_on(Fault::Tls10) && set.is_on(Fault::NoDsn) && !set.is_on(Fault::Slow));
        let err = FaultSet::parse_list("tls10,tls09").unwrap_err();
        assert!(err.to_string().contains("tls09") && err.to_string().contains("weak-cipher"));
    }
}
