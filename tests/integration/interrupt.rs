//! Issue #9 point 5: evidence under interruption. `mssconf run` and `mssconf bundle` are killed
//! with SIGKILL at several moments (mid-run, mid-evidence, while a temporary file exists, between
//! the reports); every file left under a final name must still parse in full, and the next run
//! in the same folder must complete cleanly and leave no temporary file behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{mssconf, root, text};

/// Scenarios that write every kind of evidence: transcripts, PNG cards, `.eml` files.
const SCENARIOS: [&str; 4] = ["OPE/SUB.05.01", "OPE/MSG.01.01", "OPE/TLS.03.01", "OPE/AUTH.01.01"];

/// PNG files end with this IEND chunk (length 0, type, CRC).
const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(args)
        .current_dir(root())
        .env_remove("MSSCONF_MOCK_FAULTS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mssconf starts")
}

fn run_args(dir: &Path) -> Vec<String> {
    let mut args = vec!["run".to_string(), "--jobs".into(), "4".into(), "--report-dir".into(), dir.display().to_string()];
    for s in SCENARIOS {
        args.extend(["--scenario".to_string(), s.to_string()]);
    }
    args
}

/// What happened to a child watched by [`kill_when`].
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// SIGKILLed at the moment it was waiting for.
    Killed,
    /// SIGKILLed at the time limit: the moment never came.
    KilledAtLimit,
    /// It finished before the moment came (a kill then would prove nothing more).
    Exited,
}

/// SIGKILLs `child` as soon as `moment(pid)` holds (polled every millisecond), or at `limit`.
fn kill_when(mut child: Child, limit: Duration, moment: &dyn Fn(u32) -> bool) -> End {
    let started = Instant::now();
    let pid = child.id();
    loop {
        if child.try_wait().expect("child status").is_some() {
            return End::Exited;
        }
        let now = moment(pid);
        if now || started.elapsed() > limit {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            return if now { End::Killed } else { End::KilledAtLimit };
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A temporary file of process `pid` exists under `dir` (named `.<name>.tmp-<pid>-<n>`).
fn writing(dir: &Path, pid: u32, suffix: &str) -> bool {
    let mark = format!("{suffix}.tmp-{pid}-");
    temps(dir).iter().any(|p| p.to_string_lossy().contains(&mark))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn is_temp(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.starts_with('.') && n.contains(".tmp-")
    })
}

/// Why a file under a final name is not whole; `None` when it parses in full.
fn damage(path: &Path) -> Option<String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Some(format!("unreadable: {e}")),
    };
    if bytes.is_empty() {
        return Some("empty".into());
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_string()).unwrap_or_default();
    match ext.as_str() {
        "json" => serde_json::from_slice::<serde_json::Value>(&bytes).err().map(|e| format!("not JSON: {e}")),
        "xml" => xml_damage(&bytes),
        "html" => (!String::from_utf8_lossy(&bytes).trim_end().ends_with("</html>")).then(|| "no closing </html>".into()),
        "png" => (!bytes.starts_with(&PNG_SIGNATURE) || !bytes.ends_with(&IEND)).then(|| "PNG without its signature or IEND".into()),
        "eml" => mail_parser::MessageParser::default().parse(&bytes).is_none().then(|| "not a message".into()),
        "log" | "txt" => match std::str::from_utf8(&bytes) {
            Ok(t) if t.ends_with('\n') => None,
            _ => Some("text not UTF-8 or not ending with a line end".into()),
        },
        "zip" => {
            // Integrity only: these bundles are unsigned or signed with a throwaway key.
            let out = mssconf(&["bundle", "verify", path.to_str().unwrap(), "--allow-unsigned", "--trust-embedded-key"]);
            (out.status.code() != Some(0)).then(|| format!("bundle verify: {}{}", text(&out.stdout), text(&out.stderr)))
        }
        "yaml" => None,
        other => Some(format!("unexpected file type `{other}`")),
    }
}

/// Well-formed: parses to the end, every element closed, one root.
fn xml_damage(bytes: &[u8]) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let (mut depth, mut roots, mut buf) = (0i64, 0, Vec::new());
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => {
                roots += i32::from(depth == 0);
                depth += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Empty(_)) => roots += i32::from(depth == 0),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Some(format!("XML error: {e}")),
        }
        buf.clear();
    }
    (depth != 0 || roots != 1).then(|| format!("XML not closed (depth {depth}, {roots} root elements)"))
}

/// Problems in `dir`: damaged files under final names (temporary files are allowed).
fn damaged(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|p| !is_temp(p))
        .filter_map(|p| damage(&p).map(|why| format!("{}: {why}", p.display())))
        .collect()
}

fn temps(dir: &Path) -> Vec<PathBuf> {
    files(dir).into_iter().filter(|p| is_temp(p)).collect()
}

#[test]
fn damage_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        damage(&p)
    };
    assert!(put("a.json", b"{\"scenarios\": [").is_some());
    assert!(put("a.xml", b"<testsuites><testsuite>").is_some());
    assert!(put("b.xml", b"<testsuites><testsuite/></testsuites>").is_none());
    assert!(put("a.png", &PNG_SIGNATURE).is_some());
    assert!(put("a.html", b"<html><body>").is_some());
    assert!(put("a.zip", b"PK\x03\x04").is_some());
    assert!(is_temp(Path::new("/x/.report.json.tmp-12-0")) && !is_temp(Path::new("/x/report.json")));
}

#[test]
fn kill_9_never_leaves_a_corrupt_file_and_the_next_run_is_clean() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().join("report");
    let args = run_args(&report);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let proofs = report.join("proofs");
    let after = |ms: u64| {
        let t = Instant::now();
        move |_: u32| t.elapsed() > Duration::from_millis(ms)
    };
    let moments: [(&str, &dyn Fn(u32) -> bool); 4] = [
        ("mid-run (after 300 ms)", &after(300)),
        ("at the first evidence file", &|_| files(&proofs).iter().any(|p| !is_temp(p))),
        ("while one of its temporary files exists", &|pid| writing(&report, pid, "")),
        ("between the reports (junit.xml written)", &|_| report.join("junit.xml").exists()),
    ];
    let mut log = Vec::new();
    for (what, moment) in moments {
        // Each kill starts from the folder the previous one left: interrupted runs pile up.
        let end = kill_when(spawn(&args), Duration::from_secs(8), moment);
        let problems = damaged(&report);
        log.push(format!("run killed {what}: {end:?}, {} files, {} temporary", files(&report).len(), temps(&report).len()));
        assert!(problems.is_empty(), "after a kill {what}:\n{}", problems.join("\n"));
    }
    eprintln!("{}", log.join("\n"));
    let out = mssconf(&args);
    assert_eq!(out.status.code(), Some(0), "the run after the kills: {}", text(&out.stderr));
    assert!(damaged(&report).is_empty(), "{:?}", damaged(&report));
    assert!(temps(&report).is_empty(), "stale temporary files left: {:?}", temps(&report));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["scenarios"].as_array().map(Vec::len), Some(SCENARIOS.len()));
    assert!(json["scenarios"].as_array().unwrap().iter().all(|s| s["outcome"] == "pass"));

    // Bundling, killed while its temporary zip exists and early on.
    let bundle = ["bundle", "--run", report.to_str().unwrap()];
    let zips = |d: &Path| files(d).into_iter().filter(|p| p.extension().is_some_and(|e| e == "zip")).count();
    let bundle_moments: [(&str, &dyn Fn(u32) -> bool); 2] =
        [("while its zip is written", &|pid| writing(&report, pid, ".zip")), ("after 20 ms", &after(20))];
    for (what, moment) in bundle_moments {
        let end = kill_when(spawn(&bundle), Duration::from_secs(5), moment);
        eprintln!("bundle killed {what}: {end:?}, {} zip(s)", zips(&report));
        let problems = damaged(&report);
        assert!(problems.is_empty(), "after a bundle kill {what}:\n{}", problems.join("\n"));
    }
    let out = mssconf(&bundle);
    assert_eq!(out.status.code(), Some(0), "bundle after the kills: {}", text(&out.stderr));
    let made = PathBuf::from(text(&out.stdout).trim());
    assert!(damage(&made).is_none(), "{made:?}: {:?}", damage(&made));
    assert!(temps(&report).is_empty(), "stale temporary files left: {:?}", temps(&report));
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}
