//! Entry points for the fuzz targets (`fuzz/`) and for the corpus regression test
//! (`tests/integration/fuzz_corpus.rs`): one function per parser that reads untrusted bytes.
//!
//! Each function feeds its input to the parser the way the harness does and drives every
//! accessor the harness then uses on the result. None may panic, hang or allocate without bound,
//! whatever the bytes; results are thrown away. Both the fuzzer and `cargo test` call these same
//! functions, so what is fuzzed and what is replayed cannot drift apart.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::exec::imap::response::{Status, classify, has_capability, untagged_capabilities, untagged_exists, untagged_search};
use crate::exec::imap::wire::{Piece, take_frame};
use crate::exec::smtp::Capabilities;
use crate::exec::smtp::reply::ReplyAssembler;

/// Every target, by the name of its fuzz target and corpus folder.
pub const TARGETS: [(&str, fn(&[u8])); 7] = [
    ("smtp_reply", smtp_reply),
    ("imap_response", imap_response),
    ("tls_server_hello", tls_server_hello),
    ("report_parse", report_parse),
    ("whitelist", whitelist),
    ("scenario_load", scenario_load),
    ("profile_load", profile_load),
];

/// SMTP replies: bytes cut into lines as `smtp::wire` does (LF, optional CR, lossy UTF-8), lines
/// assembled into replies, each reply read as an EHLO reply and as a SASL challenge.
pub fn smtp_reply(data: &[u8]) {
    let mut assembler = ReplyAssembler::default();
    let mut rest = data;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let raw = &rest[..end];
        rest = &rest[end + 1..];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = String::from_utf8_lossy(raw);
        match assembler.push(&line) {
            Ok(Some(reply)) => {
                let _ = (reply.is_positive(), reply.is_intermediate(), reply.is_negative());
                let _ = (reply.text(), reply.render(), reply.to_string());
                let caps = Capabilities::from_ehlo(&reply);
                let _ = (caps.auth_mechanisms(), caps.size(), caps.dsn(), caps.starttls());
                let _ = (caps.supports_auth("XOAUTH2"), caps.params("AUTH"), caps.has("PIPELINING"));
                if reply.code == 334 {
                    let _ = crate::exec::sasl::decode_challenge(reply.first_line());
                }
            }
            Ok(None) => {}
            // The session stops at a malformed line; a new assembler is a new reply.
            Err(_) => assembler = ReplyAssembler::default(),
        }
    }
}

/// IMAP server output: framed into messages (lines and literals) as `imap::wire` does, each
/// message classified and its status, capabilities, counts, LIST name and FETCH body read.
pub fn imap_response(data: &[u8]) {
    let rest = data;
    // A framing error ends the stream, as in the session; `Ok(None)` waits for bytes that
    // will never come.
    let mut buf = rest.to_vec();
    // Each message takes at least one byte off the buffer: the loop is bounded by its length.
    for _ in 0..=rest.len() {
        let Ok(Some(msg)) = take_frame(&mut buf) else { break };
        let _ = msg.text();
        let head = msg.head();
        match classify(&head) {
            crate::exec::imap::response::Kind::Untagged(untagged) => {
                if let Some(status) = Status::parse(untagged) {
                    read_status(&status);
                }
                let caps = untagged_capabilities(untagged).unwrap_or_default();
                let _ = has_capability(&caps, "IDLE");
                let _ = (untagged_exists(untagged), untagged_search(untagged));
                let _ = crate::exec::imap::mailbox::listed_mailbox(&msg.raw);
                let _ = crate::exec::imap::message::fetched_body(&msg.raw, 1);
                let _ = crate::exec::imap::message::literal_after_body(&msg.pieces, 1);
            }
            crate::exec::imap::response::Kind::Continuation(text) => {
                let _ = crate::exec::sasl::decode_challenge(text);
            }
            crate::exec::imap::response::Kind::Tagged { rest: tagged, .. } => {
                if let Some(status) = Status::parse(tagged) {
                    read_status(&status);
                }
            }
        }
        for piece in &msg.pieces {
            if let Piece::Literal(bytes) = piece {
                let _ = crate::exec::imap::wire::render_literal(&bytes[..]);
            }
        }
    }
}

fn read_status(status: &Status) {
    let _ = (status.is_ok(), status.code_name(), status.code_args(), status.to_string());
    let _ = (status.code_number("APPENDUID", 1), status.code_number("UIDNEXT", 0), status.capabilities());
}

/// The TLS probe's reader of the server's first flight (ServerHello or alert), on every prefix
/// the probe may see while bytes arrive.
pub fn tls_server_hello(data: &[u8]) {
    // The probe re-parses its buffer after each read; cut points follow a few record sizes.
    for cut in [5usize, 64, 517, 4096] {
        if cut < data.len() {
            let _ = crate::exec::probe::response::parse(&data[..cut]);
        }
    }
    if let Ok(Some(outcome)) = crate::exec::probe::response::parse(data) {
        let _ = outcome.describe();
    }
}

/// DSN (RFC 3464) and MDN (RFC 8098) parsing of a whole message, and of a bare status part.
pub fn report_parse(data: &[u8]) {
    let _ = crate::exec::report_parse::parse(data);
    let _ = crate::exec::report_parse::fields("delivery-status", &String::from_utf8_lossy(data));
}

/// The published whitelist of MSSanté domains (XML), read as the harness reads a download.
pub fn whitelist(data: &[u8]) {
    let _ = crate::exec::whitelist::parse(&String::from_utf8_lossy(data));
}

/// A scenario file: parsed, then validated against the real requirement index and fixtures.
pub fn scenario_load(data: &[u8]) {
    if data.len() as u64 > crate::yaml::limits::MAX_FILE_BYTES {
        return; // refused by `read_bounded` before parsing
    }
    let Ok(source) = std::str::from_utf8(data) else { return };
    let file = Path::new("fuzz.yaml");
    let Ok(scenario) = crate::yaml::read::parse_yaml(file, source) else { return };
    let loaded = crate::scenario::load::Loaded { file: file.to_path_buf(), source: source.to_string(), scenario };
    let ctx = scenario_context();
    let ctx = crate::scenario::validate::Context { index: &ctx.0, target_vars: &ctx.1, fixtures: &ctx.2 };
    for error in crate::scenario::validate::validate(&loaded, &ctx) {
        let _ = error.to_string();
    }
}

/// The requirement index, `${target.…}` names and fixtures of this repository, loaded once.
fn scenario_context() -> &'static (crate::requirement::RequirementIndex, serde_json::Value, serde_json::Value) {
    static CONTEXT: OnceLock<(crate::requirement::RequirementIndex, serde_json::Value, serde_json::Value)> =
        OnceLock::new();
    CONTEXT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let index = crate::requirement::RequirementIndex::load(&root.join("scenarios/requirements.yaml"))
            .expect("scenarios/requirements.yaml of this repository loads");
        let fixtures = crate::scenario::catalogue::load_fixtures(&root.join("fixtures/fixtures.yaml"))
            .expect("fixtures/fixtures.yaml of this repository loads");
        (index, crate::target::reference_vars(), fixtures)
    })
}

/// A target profile, through the public loader (file read, inline-secret scan, YAML, path
/// resolution, checks), then the host allow-list built from it.
pub fn profile_load(data: &[u8]) {
    let file = profile_scratch_file();
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let loaded = crate::target::load::load_target(&file);
    let _ = std::fs::remove_file(&file);
    match loaded {
        Ok(target) => {
            let allow = crate::target::allow::HostAllowList::of(&target);
            let _ = allow.check_url("https://op.test/token");
        }
        Err(errors) => {
            for error in errors {
                let _ = error.to_string();
            }
        }
    }
}

/// One scratch file per thread (the regression test replays on several threads).
fn profile_scratch_file() -> PathBuf {
    thread_local! {
        static FILE: PathBuf = {
            let dir = std::env::temp_dir()
                .join(format!("mssconf-fuzz-{}-{:?}", std::process::id(), std::thread::current().id()))
                .join("profile");
            let _ = std::fs::create_dir_all(&dir);
            dir.join("target.yaml")
        };
    }
    FILE.with(PathBuf::clone)
}
