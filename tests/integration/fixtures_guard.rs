//! End to end, through `mssconf run` against the embedded mock: a scenario the send guard
//! refuses ends as `error` with the guard's message, and the refused command never reaches the
//! server (the transcript shows no such line). A compliant XDM scenario next to them passes, so
//! the guard is not simply refusing everything.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const HEADER: &str = "# yaml-language-server: $schema=../schema.json\n";

/// SMTP up to authentication, then `rest` (YAML actions, indented by 8).
fn scenario(id: &str, rest: &str) -> String {
    format!(
        "{HEADER}id: {id}\ntitle: \"Garde\"\nrequirements: [OPE/MSG.02]\nprofile: general\nsteps:\n  - title: \"Envoi\"\n    smtp:\n      endpoint: smtp_starttls\n      actions:\n        - ehlo: {{}}\n        - starttls: {{ expect: {{ code: \"220\" }} }}\n        - ehlo: {{}}\n        - auth: {{ mailbox: per1, mechanism: XOAUTH2, expect: {{ code: \"235\" }} }}\n        - mail_from: {{ address: \"${{target.mailboxes.per1.address}}\", expect: {{ code: \"250\" }} }}\n{rest}"
    )
}

fn message(headers: &str, attachments: &str) -> String {
    format!(
        "        - rcpt_to: {{ address: \"${{target.mailboxes.per2.address}}\", expect: {{ code: \"250\" }} }}\n        - data:\n            message:\n              name: m1\n              from: \"${{target.mailboxes.per1.address}}\"\n              to: [\"${{target.mailboxes.per2.address}}\"]\n              subject: \"XDM/1.0/DDM+Test\"\n              headers: {{ {headers} }}\n              body: \"Message fictif.\"\n{attachments}            expect: {{ code: \"250\" }}\n        - quit: {{}}\n"
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn guard_refusals_end_the_scenario_in_error_before_anything_is_sent() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(&repo.join("fixtures"), &root.join("fixtures"));
    let dir = root.join("scenarios/guard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(repo.join("scenarios/requirements.yaml"), root.join("scenarios/requirements.yaml")).unwrap();
    let xdm = "              attachments:\n                - xdm: { patient: p1, documents: [cr_consultation] }\n";
    let files = [
        ("ok.yaml", scenario("OPE/MSG.02.91", &message("X-MSS-NIL: \"${fixtures.lps.nil}\"", xdm))),
        ("prod-oid.yaml", scenario("OPE/MSG.02.92", &message("X-Fictif-Patient: \"279035121518989^^^&1.2.250.1.213.1.4.8&ISO\"", xdm))),
        ("unknown-ins.yaml", scenario("OPE/MSG.02.93", &message("X-Fictif-Patient: \"179035121518900\"", ""))),
        ("undeclared.yaml", scenario("OPE/MSG.02.94", "        - rcpt_to: { address: \"quelquun@ailleurs.example\", expect: { code: \"250\" } }\n")),
        (
            "outside-ok.yaml",
            scenario("OPE/MSG.02.95", "        - rcpt_to: { address: \"${target.addresses.outside_whitelist}\", expect: { code: \"5xx\" } }\n"),
        ),
        (
            "outside-250.yaml",
            scenario("OPE/MSG.02.96", "        - rcpt_to: { address: \"${target.addresses.outside_whitelist}\", expect: { code: \"250\" } }\n"),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let reports = root.join("reports");
    let out = Command::new(env!("CARGO_BIN_EXE_mssconf"))
        .args(["run", "--root"])
        .arg(root)
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .expect("mssconf runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap_or_else(|e| panic!("no report ({e}): {stderr}"))).unwrap();
    let by_id = |id: &str| report["scenarios"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned().unwrap_or_else(|| panic!("{id} not run: {stderr}"));
    let sent = |s: &Value, needle: &str| {
        s["transcript"].as_array().unwrap().iter().any(|l| l["dir"] == "sent" && l["text"].as_str().unwrap().contains(needle))
    };

    let ok = by_id("OPE/MSG.02.91");
    assert_eq!(ok["outcome"], "pass", "{ok:#}");
    assert!(sent(&ok, "DATA") && sent(&ok, "RCPT TO"), "the transcript check sees sent commands");
    assert_eq!(by_id("OPE/MSG.02.95")["outcome"], "pass", "outside_whitelist expecting 5xx is allowed (and refused by the mock)");

    for (id, field, reason, never_sent) in [
        ("OPE/MSG.02.92", "header X-Fictif-Patient", "production INS OID 1.2.250.1.213.1.4.8", "DATA"),
        ("OPE/MSG.02.93", "header X-Fictif-Patient", "INS/NIR", "DATA"),
        ("OPE/MSG.02.94", "RCPT TO <quelquun@ailleurs.example>", "not a mailbox declared", "RCPT TO"),
        ("OPE/MSG.02.96", "RCPT TO <destinataire@exterieur.example>", "outside_whitelist", "RCPT TO"),
    ] {
        let s = by_id(id);
        assert_eq!(s["outcome"], "error", "{id}: {s:#}");
        let why = s["reason"].as_str().unwrap();
        assert!(why.contains("guard refused to send") && why.contains(field) && why.contains(reason), "{id}: {why}");
        assert!(!sent(&s, never_sent), "{id}: `{never_sent}` reached the server");
    }
}
