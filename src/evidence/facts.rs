//! What a transcript shows, read back for cards: connections, TLS handshakes, authentications and
//! submissions, and which lines tell the story best.
//!
//! The transcript is the only source: cards are rebuilt from `report.json` alone, and the lines
//! are already redacted. The formats read here are those the protocol layer writes (`TLS <version>
//! <suite> …` notes, `AUTH <mech> <description>` / `<tag> AUTHENTICATE <mech> …` lines).

use crate::exec::transcript::{Direction, Line};

/// The outcome of one phase of a session, as the transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Ok(String),
    Failed(String),
    NotSeen,
}

impl Seen {
    /// Keeps the first failure, else the first success.
    fn merge(self, other: Seen) -> Seen {
        match (self, other) {
            (f @ Seen::Failed(_), _) => f,
            (_, f @ Seen::Failed(_)) => f,
            (Seen::NotSeen, o) => o,
            (s, _) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSeen {
    pub conn: String,
    pub version: String,
    pub suite: String,
    pub verified: bool,
    pub client_cert: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSeen {
    pub conn: String,
    pub mechanism: String,
    pub user: Option<String>,
    /// The server's final answer, `None` when it never came.
    pub result: Option<String>,
    pub ok: bool,
}

/// Everything a card says about the sessions of a transcript.
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    pub connect: Option<Seen>,
    pub tls: Vec<TlsSeen>,
    pub tls_failures: Vec<String>,
    pub auth: Vec<AuthSeen>,
    /// Final replies to `DATA` (the submission result).
    pub submissions: Vec<(String, bool)>,
}

impl SessionFacts {
    pub fn analyse(lines: &[Line]) -> SessionFacts {
        let mut f = SessionFacts::default();
        for (i, l) in lines.iter().enumerate() {
            match l.dir {
                Direction::Note => f.note(lines, i),
                Direction::Sent => f.sent(lines, i),
                Direction::Received => {}
            }
        }
        f
    }

    fn note(&mut self, lines: &[Line], i: usize) {
        let l = &lines[i];
        if let Some(target) = connect_target(&l.text) {
            let answered = lines[i + 1..].iter().any(|x| x.conn == l.conn && x.dir == Direction::Received);
            let seen = if answered {
                Seen::Ok(target.to_string())
            } else {
                let why = lines[i + 1..].iter().find(|x| x.conn == l.conn && x.dir == Direction::Note);
                Seen::Failed(why.map(|x| x.text.clone()).unwrap_or_else(|| target.to_string()))
            };
            self.connect = Some(match (self.connect.take(), seen) {
                (Some(Seen::Ok(a)), Seen::Ok(b)) if !a.split(", ").any(|x| x == b) => Seen::Ok(format!("{a}, {b}")),
                (prev, seen) => prev.unwrap_or(Seen::NotSeen).merge(seen),
            });
        } else if let Some(t) = parse_tls_note(&l.conn, &l.text) {
            self.tls.push(t);
        } else if l.text.starts_with("TLS handshake failed") {
            self.tls_failures.push(l.text.clone());
        } else if l.text.contains("certificate-only: no AUTH sent") {
            let cert = self.tls.iter().rev().find(|t| t.conn == l.conn).and_then(|t| t.client_cert.clone());
            self.auth.push(AuthSeen {
                conn: l.conn.clone(),
                mechanism: "TLS client certificate".into(),
                user: cert.clone(),
                result: cert.clone(),
                ok: cert.is_some(),
            });
        }
    }

    fn sent(&mut self, lines: &[Line], i: usize) {
        let l = &lines[i];
        let words: Vec<&str> = l.text.split_whitespace().collect();
        let (mechanism, tag) = match words.as_slice() {
            [auth, mech, ..] if auth.eq_ignore_ascii_case("AUTH") => (mech.to_string(), None),
            [tag, cmd, mech, ..] if cmd.eq_ignore_ascii_case("AUTHENTICATE") => (mech.to_string(), Some(*tag)),
            [data] if data.eq_ignore_ascii_case("DATA") => {
                if let Some(reply) = smtp_final_reply(lines, i, &["354"]) {
                    let ok = reply.starts_with('2');
                    self.submissions.push((reply, ok));
                }
                return;
            }
            _ => return,
        };
        let result = match tag {
            Some(tag) => imap_tagged_reply(lines, i, tag),
            None => smtp_final_reply(lines, i, &["334"]),
        };
        let ok = result.as_deref().is_some_and(|r| match tag {
            Some(tag) => r.strip_prefix(tag).is_some_and(|rest| rest.trim_start().to_ascii_uppercase().starts_with("OK")),
            None => r.starts_with("235"),
        });
        self.auth.push(AuthSeen { conn: l.conn.clone(), mechanism, user: user_of(&l.text), result, ok });
    }

    /// Connect phase: `NotSeen` when no connection was opened.
    pub fn connect_phase(&self) -> Seen {
        self.connect.clone().unwrap_or(Seen::NotSeen)
    }

    pub fn tls_phase(&self) -> Seen {
        if let Some(f) = self.tls_failures.first() {
            return Seen::Failed(f.clone());
        }
        if let Some(t) = self.tls.iter().find(|t| !t.verified) {
            return Seen::Failed(format!("{} {} (chain not verified)", t.version, t.suite));
        }
        let all = self.distinct_tls();
        if all.is_empty() { Seen::NotSeen } else { Seen::Ok(all.join(", ")) }
    }

    pub fn auth_phase(&self) -> Seen {
        let mut seen = Seen::NotSeen;
        for a in &self.auth {
            let text = a.result.clone().unwrap_or_else(|| "no final reply".into());
            seen = seen.merge(if a.ok { Seen::Ok(text) } else { Seen::Failed(text) });
        }
        seen
    }

    pub fn send_phase(&self) -> Seen {
        let mut seen = Seen::NotSeen;
        for (reply, ok) in &self.submissions {
            seen = seen.merge(if *ok { Seen::Ok(reply.clone()) } else { Seen::Failed(reply.clone()) });
        }
        seen
    }

    /// `TLSv1_3 TLS13_AES_256_GCM_SHA384` for each distinct negotiated version and suite.
    pub fn distinct_tls(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.tls {
            let s = format!("{} {}", t.version, t.suite);
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// Distinct mechanisms in order of use.
    pub fn mechanisms(&self) -> Vec<String> {
        dedup(self.auth.iter().map(|a| a.mechanism.clone()))
    }

    /// Distinct mailboxes that authenticated (or tried to).
    pub fn mailboxes(&self) -> Vec<String> {
        dedup(self.auth.iter().filter_map(|a| a.user.clone()))
    }
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// `connecting to 127.0.0.1:587 (Starttls)`, `connected to …`, `connect …`.
fn connect_target(text: &str) -> Option<&str> {
    ["connecting to ", "connected to ", "connect "]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .map(|rest| rest.split_whitespace().next().unwrap_or(rest))
}

/// `TLS TLSv1_3 TLS13_AES_256_GCM_SHA384 server=… verification=ok client-cert="…"`.
fn parse_tls_note(conn: &str, text: &str) -> Option<TlsSeen> {
    let mut words = text.split_whitespace();
    if words.next() != Some("TLS") {
        return None;
    }
    let version = words.next().filter(|v| v.starts_with("TLSv") || *v == "?")?;
    let suite = words.next().unwrap_or("?");
    let client_cert = text.split_once(" client-cert=\"").and_then(|(_, rest)| rest.split_once('"')).map(|(c, _)| c.to_string());
    Some(TlsSeen {
        conn: conn.to_string(),
        version: version.to_string(),
        suite: suite.to_string(),
        verified: text.contains("verification=ok"),
        client_cert,
    })
}

/// `user=a@b` or `authcid=a@b` in an authentication line's description.
fn user_of(text: &str) -> Option<String> {
    ["user=", "authcid="].iter().find_map(|k| {
        let (_, rest) = text.split_once(k)?;
        let user: String = rest.chars().take_while(|c| !matches!(c, ',' | '>' | ' ')).collect();
        (!user.is_empty()).then_some(user)
    })
}

/// The first final SMTP reply line after line `i` on the same connection, skipping
/// intermediate codes (`334` challenges, `354` go-ahead) and continuation lines (`250-`).
fn smtp_final_reply(lines: &[Line], i: usize, skip: &[&str]) -> Option<String> {
    let conn = &lines[i].conn;
    lines[i + 1..]
        .iter()
        .filter(|l| &l.conn == conn && l.dir == Direction::Received)
        .find(|l| {
            let code = l.text.get(..3).unwrap_or("");
            let last = l.text.as_bytes().get(3) != Some(&b'-');
            last && code.bytes().all(|b| b.is_ascii_digit()) && !skip.contains(&code)
        })
        .map(|l| l.text.clone())
}

/// The tagged IMAP response to the command tagged `tag` sent at line `i`.
fn imap_tagged_reply(lines: &[Line], i: usize, tag: &str) -> Option<String> {
    let conn = &lines[i].conn;
    lines[i + 1..]
        .iter()
        .filter(|l| &l.conn == conn && l.dir == Direction::Received)
        .find(|l| l.text.split_whitespace().next() == Some(tag))
        .map(|l| l.text.clone())
}

/// How much a line tells an auditor (higher: more), or `None` for routine lines.
fn weight(lines: &[Line], i: usize) -> Option<u8> {
    let l = &lines[i];
    let t = l.text.as_str();
    let upper = t.to_ascii_uppercase();
    let first = upper.split_whitespace().next().unwrap_or("");
    let second = upper.split_whitespace().nth(1).unwrap_or("");
    match l.dir {
        Direction::Note => Some(if t.starts_with("TLS ") || upper.contains("FAILED") || upper.contains("ERROR") {
            8
        } else if upper.contains("CLOSED") {
            6
        } else if connect_target(t).is_some() {
            4
        } else {
            2
        }),
        Direction::Sent => {
            if is_auth_line(t) {
                Some(9)
            } else if t.starts_with("<message") {
                Some(6)
            } else if matches!(first, "DATA" | "MAIL" | "RCPT" | "STARTTLS") || matches!(second, "FETCH" | "UID" | "STARTTLS") {
                Some(5)
            } else {
                None
            }
        }
        Direction::Received => {
            let code = t.get(..3).unwrap_or("");
            let refusal = code.starts_with('4') || code.starts_with('5') || matches!(second, "NO" | "BAD");
            if refusal {
                Some(10)
            } else if answers_auth(lines, i) {
                Some(9)
            } else if upper.contains("QUEUED") {
                Some(8)
            } else if t.starts_with("<literal") {
                // A fetched message: the read-back.
                Some(7)
            } else if !first.starts_with('*') && t.as_bytes().get(3) != Some(&b'-') && code != "354" {
                // A final reply (SMTP without continuation, IMAP tagged).
                Some(3)
            } else {
                None
            }
        }
    }
}

fn is_auth_line(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let (first, second) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    first.eq_ignore_ascii_case("AUTH") || second.eq_ignore_ascii_case("AUTHENTICATE")
}

/// The reply right after an authentication line (no other reply in between).
fn answers_auth(lines: &[Line], i: usize) -> bool {
    let conn = &lines[i].conn;
    let Some(prev) = lines[..i].iter().rposition(|l| &l.conn == conn && l.dir == Direction::Sent) else {
        return false;
    };
    let between = lines[prev + 1..i].iter().any(|l| &l.conn == conn && l.dir == Direction::Received);
    !between && is_auth_line(&lines[prev].text)
}

/// Indices of the `max` most telling lines, in transcript order. Ties go to later lines, where
/// the outcome usually is; a TLS note repeating an earlier one counts as routine.
pub fn key_lines(lines: &[Line], max: usize) -> Vec<usize> {
    let mut tls_seen: Vec<&str> = Vec::new();
    let mut scored: Vec<(u8, usize)> = Vec::new();
    for i in 0..lines.len() {
        let Some(mut w) = weight(lines, i) else { continue };
        let l = &lines[i];
        if l.dir == Direction::Note && l.text.starts_with("TLS ") {
            if tls_seen.contains(&l.text.as_str()) {
                w = 1;
            }
            tls_seen.push(&l.text);
        }
        scored.push((w, i));
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut picked: Vec<usize> = scored.into_iter().take(max).map(|(_, i)| i).collect();
    picked.sort_unstable();
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(dir: Direction, conn: &str, text: &str) -> Line {
        Line { at: "2026-01-01T00:00:00Z".parse().unwrap(), dir, conn: conn.into(), text: text.into() }
    }

    fn session() -> Vec<Line> {
        use Direction::*;
        vec![
            l(Note, "smtp#1", "connecting to 127.0.0.1:587 (Starttls)"),
            l(Received, "smtp#1", "220 mx ready"),
            l(Sent, "smtp#1", "EHLO mssconf.test"),
            l(Received, "smtp#1", "250-mx"),
            l(Received, "smtp#1", "250 STARTTLS"),
            l(Sent, "smtp#1", "STARTTLS"),
            l(Received, "smtp#1", "220 go"),
            l(Note, "smtp#1", "TLS TLSv1_3 TLS13_AES_256_GCM_SHA384 server=mx cert subject=\"CN=mx\" issuer=\"CN=ca\" verification=ok"),
            l(Sent, "smtp#1", "AUTH XOAUTH2 <XOAUTH2 response: user=dr.a@x.test, auth=Bearer <redacted token>>"),
            l(Received, "smtp#1", "235 2.7.0 Authentication successful"),
            l(Sent, "smtp#1", "DATA"),
            l(Received, "smtp#1", "354 go"),
            l(Sent, "smtp#1", "<message: 10 bytes>"),
            l(Sent, "smtp#1", "."),
            l(Received, "smtp#1", "250 2.0.0 Ok: queued as ABC"),
            l(Note, "imap#2", "connected to 127.0.0.1:993"),
            l(Note, "imap#2", "TLS TLSv1_2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 server=mx verification=ok client-cert=\"CN=app\""),
            l(Received, "imap#2", "* OK ready"),
            l(Sent, "imap#2", "a1 AUTHENTICATE XOAUTH2 <XOAUTH2 response: user=dr.a@x.test, auth=Bearer <redacted>>"),
            l(Received, "imap#2", "* CAPABILITY IMAP4rev1"),
            l(Received, "imap#2", "a1 NO [AUTHENTICATIONFAILED] token refused"),
        ]
    }

    #[test]
    fn reads_the_phases() {
        let f = SessionFacts::analyse(&session());
        assert_eq!(f.connect_phase(), Seen::Ok("127.0.0.1:587, 127.0.0.1:993".into()));
        assert_eq!(f.distinct_tls(), ["TLSv1_3 TLS13_AES_256_GCM_SHA384", "TLSv1_2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]);
        assert!(matches!(f.tls_phase(), Seen::Ok(_)));
        assert_eq!(f.tls[1].client_cert.as_deref(), Some("CN=app"));
        assert_eq!(f.mechanisms(), ["XOAUTH2"]);
        assert_eq!(f.mailboxes(), ["dr.a@x.test"]);
        assert!(f.auth[0].ok);
        assert!(!f.auth[1].ok);
        assert_eq!(f.auth_phase(), Seen::Failed("a1 NO [AUTHENTICATIONFAILED] token refused".into()));
        assert_eq!(f.send_phase(), Seen::Ok("250 2.0.0 Ok: queued as ABC".into()));
    }

    #[test]
    fn a_refused_connection_and_a_failed_handshake_are_failures() {
        use Direction::*;
        let lines = vec![
            l(Note, "smtp#1", "connecting to 127.0.0.1:9 (Implicit)"),
            l(Note, "smtp#1", "connection to 127.0.0.1:9 refused"),
            l(Note, "smtp#2", "TLS handshake failed: alert; TLS ? ? server=x"),
        ];
        let f = SessionFacts::analyse(&lines);
        assert_eq!(f.connect_phase(), Seen::Failed("connection to 127.0.0.1:9 refused".into()));
        assert!(matches!(f.tls_phase(), Seen::Failed(_)));
        assert_eq!(f.auth_phase(), Seen::NotSeen);
        assert_eq!(SessionFacts::analyse(&[]).connect_phase(), Seen::NotSeen);
    }

    #[test]
    fn key_lines_keep_the_story() {
        let lines = session();
        let picked = key_lines(&lines, 8);
        assert_eq!(picked.len(), 8);
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
        let texts: Vec<&str> = picked.iter().map(|&i| lines[i].text.as_str()).collect();
        for must in ["TLS TLSv1_3", "AUTH XOAUTH2", "235 2.7.0", "queued as ABC", "a1 NO"] {
            assert!(texts.iter().any(|t| t.starts_with(must) || t.contains(must)), "{must} missing from {texts:?}");
        }
        assert!(!texts.contains(&"250-mx"));
        assert_eq!(key_lines(&lines, 100).len(), lines.iter().enumerate().filter(|(i, _)| weight(&lines, *i).is_some()).count());
    }
}
