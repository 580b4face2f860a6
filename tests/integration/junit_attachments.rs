//! A failed run's junit.xml, read the way GitLab's unit test report reads it (first
//! `[[ATTACHMENT|path]]` of a test case's `<system-out>`, resolved from the project directory),
//! leads to the failed case's PNG card.

use std::collections::BTreeMap;
use std::path::Path;

use super::{mssconf, root, text};

/// `test case name → decoded <system-out>` of every case.
fn system_outs(xml: &str) -> BTreeMap<String, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut out, mut case, mut in_out) = (BTreeMap::new(), None::<String>, false);
    loop {
        match reader.read_event().expect("well-formed junit.xml") {
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                case = e.try_get_attribute("name").unwrap().map(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned());
            }
            Event::Start(e) if e.name().as_ref() == b"system-out" => in_out = true,
            Event::End(e) if e.name().as_ref() == b"system-out" => in_out = false,
            Event::Text(t) if in_out => {
                let name = case.clone().unwrap_or_default();
                out.entry(name).or_insert_with(String::new).push_str(&t.decode().unwrap());
            }
            Event::GeneralRef(r) if in_out => {
                let name = case.clone().unwrap_or_default();
                let ch = match r.decode().unwrap().as_ref() { "lt" => "<", "gt" => ">", "amp" => "&", "quot" => "\"", "apos" => "'", _ => "?" };
                out.entry(name).or_insert_with(String::new).push_str(ch);
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

#[test]
fn a_failed_case_attaches_its_png_card_at_a_path_ci_keeps() {
    // Under the package root, given as an absolute path: written relative to the directory
    // mssconf runs in (the checkout, in CI).
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = tmp.path().to_str().unwrap();
    let out = mssconf(&["run", "--scenario", "OPE/TLS.05.01", "--mock-fault", "expired-server-cert", "--report-dir", dir]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(tmp.path().join("junit.xml")).unwrap();
    let outs = system_outs(&xml);
    let case = outs.get("OPE/TLS.05.01").unwrap_or_else(|| panic!("no case in {xml}"));
    assert!(xml.contains("<failure"), "{xml}");
    // GitLab: /\[\[ATTACHMENT\|(?<path>.+?)\]\]/ on system-out, first match.
    let re = regex::Regex::new(r"\[\[ATTACHMENT\|(?<path>.+?)\]\]").unwrap();
    let first = &re.captures(case).expect("an attachment line")["path"];
    assert!(first.ends_with(".png") && Path::new(first).is_relative(), "{first}");
    let card = root().join(first);
    assert!(std::fs::read(&card).unwrap().starts_with(b"\x89PNG"), "{}", card.display());
    // Jenkins: every whole line; each names a file of the run.
    let lines: Vec<&str> = case.lines().filter(|l| l.starts_with("[[ATTACHMENT|") && l.ends_with("]]")).collect();
    assert!(lines.len() >= 2, "the card and the log of the step that ran: {case}");
    for l in lines {
        assert!(root().join(&l[13..l.len() - 2]).is_file(), "{l}");
    }
}
