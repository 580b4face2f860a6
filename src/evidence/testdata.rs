//! Hand-built records for the evidence unit tests: a production-style scenario with an SMTP
//! submission and an IMAP read-back, as the protocol layer transcribes them.

use serde_json::{Value, json};

use crate::evidence::messages::MessageBytes;
use crate::exec::transcript::{Direction, Line};
use crate::record::{MessageRecord, Outcome, ProofRecord, RunRecord, ScenarioRecord, StepRecord};
use crate::verdict::Check;

pub(crate) fn scenario_json(id: &str) -> Value {
    json!({
        "id": id, "name": format!("per-org::{id}"), "title": "Test technique en production : envoi et relecture",
        "title_en": "Production technical test: send and read back", "description": null,
        "requirements": ["OPE/PROD.01"], "profile": "per-org", "tags": ["production"], "confidence": null,
        "file": "scenarios/production/x.yaml", "file_sha256": "ab".repeat(32), "outcome": "pass", "reason": null,
        "started": "2026-11-25T17:00:00Z", "duration_ms": 120, "steps": [], "transcript": [], "proofs": [], "messages": []
    })
}

fn line(dir: Direction, conn: &str, text: &str) -> Line {
    Line { at: "2026-11-25T17:00:00Z".parse().expect("time"), dir, conn: conn.into(), text: text.into() }
}

fn step(title: &str, from: usize, to: usize) -> StepRecord {
    StepRecord {
        title: title.into(),
        kind: "smtp".into(),
        outcome: Outcome::Pass,
        checks: vec![Check::new("reply code", "250", "250 ok", true)],
        error: None,
        error_category: None,
        transcript_from: from,
        transcript_to: to,
        duration_ms: 10,
        server_wait_ms: 5,
        harness_ms: 5,
        notes: vec![],
    }
}

fn proof(n: &str, kind: &str, step: Option<usize>) -> ProofRecord {
    ProofRecord { id: format!("OPE/PROD.01.01.{n}"), kind: kind.into(), title: format!("Preuve {kind}"), file: None, step, not_needed: None }
}

fn message(name: &str, direction: &str) -> MessageRecord {
    MessageRecord {
        name: name.into(),
        direction: direction.into(),
        message_id: Some("<prod@x>".into()),
        subject: Some("Test".into()),
        size: 30,
        sha256: "cd".repeat(32),
        file: None,
    }
}

pub(crate) fn scenario_with_session() -> ScenarioRecord {
    use Direction::*;
    let mut s: ScenarioRecord = serde_json::from_value(scenario_json("OPE/PROD.01.01")).expect("valid scenario");
    s.transcript = vec![
        line(Note, "smtp#1", "connecting to 127.0.0.1:587 (Starttls)"),
        line(Received, "smtp#1", "220 ready"),
        line(Sent, "smtp#1", "STARTTLS"),
        line(Received, "smtp#1", "220 2.0.0 go"),
        line(Note, "smtp#1", "TLS TLSv1_3 TLS13_AES_256_GCM_SHA384 server=mock.mssante.test cert subject=\"CN=mock\" issuer=\"CN=ca\" verification=ok"),
        line(Sent, "smtp#1", "AUTH XOAUTH2 <XOAUTH2 response: user=dr.martin.fictif@operateur.mock.mssante.test, auth=Bearer <redacted token>>"),
        line(Received, "smtp#1", "235 2.7.0 Authentication successful"),
        line(Sent, "smtp#1", "DATA"),
        line(Received, "smtp#1", "354 go"),
        line(Sent, "smtp#1", "<message: 30 bytes>"),
        line(Received, "smtp#1", "250 2.0.0 Ok: queued as 6B071E"),
        line(Note, "imap#2", "connected to 127.0.0.1:993"),
        line(Note, "imap#2", "TLS TLSv1_3 TLS13_AES_256_GCM_SHA384 server=mock.mssante.test verification=ok"),
        line(Received, "imap#2", "* OK ready"),
        line(Sent, "imap#2", "a1 AUTHENTICATE XOAUTH2 <XOAUTH2 response: user=dr.martin.fictif@operateur.mock.mssante.test>"),
        line(Received, "imap#2", "a1 OK Authenticated"),
        line(Sent, "imap#2", "a2 UID FETCH 1 (UID BODY.PEEK[])"),
        line(Received, "imap#2", "a2 OK UID FETCH completed"),
    ];
    s.steps = vec![step("Envoi SMTP", 0, 11), step("Relecture IMAP", 11, 18)];
    s.proofs = vec![proof("01", "log", Some(0)), proof("02", "eml", Some(1)), proof("03", "screenshot", None), proof("04", "file", Some(0))];
    s.messages = vec![message("prod", "sent"), message("prod_read", "received")];
    s
}

/// The bytes of [`scenario_with_session`]'s two messages.
pub(crate) fn message_bytes() -> Vec<MessageBytes> {
    vec![
        MessageBytes { step: Some(0), bytes: b"Message-ID: <prod@x>\r\n\r\nsent\r\n".to_vec().into() },
        MessageBytes { step: Some(1), bytes: b"Message-ID: <prod@x>\r\n\r\nread back\r\n".to_vec().into() },
    ]
}

pub(crate) fn run_with(scenarios: Vec<ScenarioRecord>) -> RunRecord {
    let mut run: RunRecord = serde_json::from_value(json!({
        "schema_version": 1, "run_id": "20261125T170000Z-abcd", "tool": "mssconf", "tool_version": "0.1.0",
        "started": "2026-11-25T17:00:00Z", "finished": "2026-11-25T17:00:01Z",
        "target": {"name": "mock-operator", "operator": "MockOperateur", "service": "MSSanteMock", "version": "0.1.0",
            "environment": "test", "domain": "operateur.mock.mssante.test", "server_name": "mock.mssante.test",
            "endpoints": ["smtp_starttls=127.0.0.1:587 (starttls)"], "claims": ["general", "per-org"], "embedded_mock": true},
        "selection": [], "scenarios": []
    }))
    .expect("valid record");
    run.scenarios = scenarios;
    run
}
