//! A big message end to end: an 8 MB message (generated attachment) sent to the embedded mock,
//! read back over IMAP, verified part by part, and written as `.eml` evidence byte for byte; the
//! child's peak RSS stays within a generous bound (the tight figure is `mssconf bench`).

use std::process::{Command, Stdio};
use std::time::Duration;

use mssconf::bench::big_message::scenario_yaml;
use mssconf::bench::child::run_measured;
use sha2::{Digest, Sha256};

use super::root;

const SIZE: u64 = 8_000_000;

#[test]
fn an_8_mb_message_is_sent_read_back_and_verified() {
    let dir = tempfile::tempdir().expect("tmp");
    let scenario = dir.path().join("big-message.yaml");
    std::fs::write(&scenario, scenario_yaml(SIZE)).unwrap();
    let report = dir.path().join("report");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mssconf"));
    cmd.args(["run", "--scenarios", scenario.to_str().unwrap(), "--report-dir", report.to_str().unwrap()])
        .current_dir(root())
        .env_remove("MSSCONF_MOCK_FAULTS")
        .env_remove("MSSCONF_MOCK_BEHAVIOURS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let run = run_measured(cmd, Duration::from_secs(120)).expect("the run finishes");
    assert!(run.success, "run failed: {}", run.stderr_tail);

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let s = &json["scenarios"][0];
    assert_eq!(s["outcome"], "pass", "{s:#}");
    let messages = s["messages"].as_array().unwrap();
    let sent = messages.iter().find(|m| m["direction"] == "sent").unwrap();
    let received = messages.iter().find(|m| m["direction"] == "received").unwrap();
    let size = sent["size"].as_u64().unwrap();
    assert!(size > SIZE * 99 / 100 && size <= SIZE, "{size}");
    // The .eml of the sent message, re-encoded while written, is the bytes the record hashed.
    let eml = std::fs::read(report.join(sent["file"].as_str().unwrap())).unwrap();
    assert_eq!(eml.len() as u64, size);
    assert_eq!(hex::encode(Sha256::digest(&eml)), sent["sha256"].as_str().unwrap());
    // The mock stores the message as received (trace headers prepended).
    assert!(received["size"].as_u64().unwrap() >= size);
    let eml = std::fs::read(report.join(received["file"].as_str().unwrap())).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&eml)), received["sha256"].as_str().unwrap());

    // The transcript summarises the body: no base64 line of the attachment in the report.
    let transcript = std::fs::read_to_string(report.join("report.json")).unwrap();
    assert!(transcript.contains(&format!("<message: {size} bytes, sha256 {}", sent["sha256"].as_str().unwrap())));
    assert!(transcript.len() < 1_000_000, "report.json is {} bytes", transcript.len());

    // Generous: the embedded mock runs in the same process here and keeps its own copy.
    let mb = run.peak_rss / 1_000_000;
    assert!(run.peak_rss < 6 * SIZE + 60_000_000, "peak RSS {mb} MB for an 8 MB message");
}
