use std::path::Path;

use super::*;
use crate::scenario::model::{Scenario, Step};
use crate::yaml::read::parse_yaml;

fn target() -> Target {
    let yaml = "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general, per-org]\ndomain: op.test\n\
        server_name: mx.op.test\ntrust_anchors: []\n\
        mailboxes:\n  per1: { address: dr.a@op.test, type: PER, token: issuer }\n  per2: { address: dr.b@op.test, type: PER, token: issuer }\n\
        endpoints:\n  smtp_starttls: { host: 127.0.0.1, port: 2525, tls: starttls }\n  imap_implicit: { host: 127.0.0.1, port: 9993, tls: implicit }\n";
    parse_yaml(Path::new("t.yaml"), yaml).unwrap()
}

fn steps(yaml: &str) -> Vec<Step> {
    let source = format!("id: OPE/SUB.01.99\ntitle: t\nrequirements: [OPE/SUB.01]\nprofile: general\nsteps:\n{yaml}");
    parse_yaml::<Scenario>(Path::new("s.yaml"), &source).unwrap().steps
}

/// Resolves the two variables the tests use, as the running scenario would.
fn render(text: &str) -> String {
    text.replace("${target.mailboxes.per2.address}", "dr.b@op.test").replace("${captured.uid}", "7")
}

/// The audit screen's lines for a step.
fn describe(s: &Step, target: &Target, render: Render<'_>) -> Vec<String> {
    fr::lines(&step(s, &Context { target, render, checks: None, exec: None }))
}

fn lines(yaml: &str) -> Vec<String> {
    describe(&steps(yaml)[0], &target(), &render)
}

#[test]
fn smtp_send_names_endpoint_mode_mailbox_mechanism_and_message() {
    let l = lines(
        "  - title: envoi\n    smtp:\n      endpoint: smtp_starttls\n      greeting: { code: '220' }\n      actions:\n\
         \x20       - ehlo: { expect: { code: '250', capabilities: { has: [STARTTLS], lacks: [AUTH] } } }\n\
         \x20       - starttls: {}\n\
         \x20       - auth: { mailbox: per1, mechanism: XOAUTH2 }\n\
         \x20       - mail_from: { address: dr.a@op.test }\n\
         \x20       - rcpt_to: { address: '${target.mailboxes.per2.address}' }\n\
         \x20       - data: { message: { name: m1, from: dr.a@op.test, to: ['${target.mailboxes.per2.address}'], subject: Bonjour, pad_to_bytes: 2048 }, expect: { code: '250' } }\n\
         \x20       - quit: {}\n",
    );
    assert_eq!(l.len(), 8);
    assert_eq!(
        l[0],
        "Connexion SMTP à 127.0.0.1:2525 en STARTTLS (en clair, puis passage en TLS). Attendu : code 220."
    );
    assert_eq!(l[1], "EHLO mssconf.test : lire les extensions annoncées. Attendu : code 250 ; STARTTLS annoncé(s) ; AUTH absent(s).");
    assert!(l[2].contains("mx.op.test"), "{}", l[2]);
    assert!(l[3].contains("« per1 » (dr.a@op.test, BAL personnelle)") && l[3].contains("XOAUTH2"), "{}", l[3]);
    assert!(l[3].contains("non affiché"));
    assert_eq!(l[5], "Destinataire de l'enveloppe : RCPT TO:<dr.b@op.test>.");
    assert!(l[6].contains("« m1 »") && l[6].contains("à dr.b@op.test") && l[6].contains("« Bonjour »") && l[6].contains("2048 octets"), "{}", l[6]);
}

#[test]
fn tls_probe_and_handshake() {
    let l = lines("  - title: sonde\n    tls: { endpoint: imap_implicit, probe: { version: '1.0', expect: { established: false } } }\n");
    assert_eq!(
        l,
        ["Sonde TLS 1.0 sur 127.0.0.1:9993 (TLS implicite) : ClientHello n'offrant que TLS 1.0. Attendu : connexion TLS refusée par le serveur."]
    );
    let l = lines("  - title: sonde\n    tls: { endpoint: imap_implicit, probe: { version: '3.0' } }\n");
    assert!(l[0].starts_with("Sonde SSL 3.0 sur 127.0.0.1:9993 (TLS implicite) : ClientHello n'offrant que SSL 3.0."), "{}", l[0]);
    let l = lines("  - title: familles\n    tls: { endpoint: imap_implicit, probe_suites_outside_allow_list: { families: [static-rsa-cbc, rc4] } }\n");
    assert!(l[0].starts_with("Sondes TLS 1.2 sur 127.0.0.1:9993 (TLS implicite) : 2 famille(s) de suites hors de la liste autorisée du profil (14 suites : static-rsa-cbc, rc4)"), "{}", l[0]);
    let l = lines("  - title: poignée\n    tls: { endpoint: smtp_starttls, handshake: { expect: { chain_verified: true } } }\n");
    assert!(l[0].starts_with("Poignée de main TLS complète sur 127.0.0.1:2525 (après STARTTLS en clair)"), "{}", l[0]);
    let l = lines("  - title: kx\n    tls: { endpoint: smtp_starttls, probe_key_exchange: { min_dh_bits: 3072 } }\n");
    assert!(l[0].contains("groupe DH d'au moins 3072 bits exigé si DHE est accepté), suites ECDHE"), "{}", l[0]);
    assert!(!l[0].contains("  "), "one space between words (the screen wraps on spaces): {}", l[0]);
}

#[test]
fn imap_wait_fetch_and_missing_endpoint() {
    let l = lines(
        "  - title: relève\n    imap:\n      endpoint: imap_starttls\n      actions:\n\
         \x20       - wait_for: { message: m1, timeout_ms: 1500, capture: uid }\n\
         \x20       - fetch: { uid: '${captured.uid}', expect: { matches_sent: { message: m1 } } }\n",
    );
    assert!(l[0].contains("« imap_starttls », absent du profil cible"), "{}", l[0]);
    assert_eq!(
        l[1],
        "Attente de l'arrivée du message envoyé « m1 » (recherché par son Message-ID) dans « INBOX », 1,5 s au plus ; \
         son UID est retenu sous « uid »."
    );
    assert!(l[2].starts_with("FETCH du message UID 7.") && l[2].contains("identique au message envoyé « m1 »"), "{}", l[2]);
}

#[test]
fn wait_and_seconds() {
    assert_eq!(lines("  - { title: pause, wait: { ms: 250 } }\n"), ["Pause de 250 ms (laisser le temps au serveur)."]);
    assert_eq!((fr::seconds(60_000), fr::seconds(2500)), ("60 s".to_string(), "2,5 s".to_string()));
}

#[test]
fn a_transaction_says_every_conformant_refusal_and_observations_are_marked() {
    let l = lines(
        "  - title: tentative\n    smtp:\n      endpoint: smtp_starttls\n      actions:\n\
         \x20       - auth: { mailbox: per1, mechanism: XOAUTH2, credential: expired, expect: { code: 5xx, observe: { code: '535' } } }\n\
         \x20       - transaction: { from: dr.a@op.test, to: ['${target.mailboxes.per2.address}'], expect: { outcome: refused } }\n\
         \x20       - transaction: { from: dr.a@op.test, to: [dr.a@op.test], message: { name: m1, from: dr.a@op.test, to: [dr.a@op.test], subject: S }, expect: { outcome: either, refused_at: [rcpt] } }\n",
    );
    assert!(l[1].ends_with("Attendu : code 5xx ; observé, sans être exigé : code 535."), "{}", l[1]);
    assert!(l[2].contains("MAIL FROM:<dr.a@op.test>, RCPT TO:<dr.b@op.test> (aucun message"), "{}", l[2]);
    assert!(l[2].ends_with("Attendu : envoi refusé à MAIL FROM ou RCPT TO (code 5xx), ou connexion fermée par le serveur."), "{}", l[2]);
    assert!(l[3].contains("puis, si tout est accepté : Envoi du message « m1 »"), "{}", l[3]);
    assert!(l[3].contains("envoi accepté, ou envoi refusé à RCPT TO"), "{}", l[3]);
}

/// What the auditor is told is what the executor plays: with `app_auth_form: { imap: external }`
/// the real OPE/APP.01.02 announces AUTHENTICATE EXTERNAL, never PLAIN (and SMTP keeps PLAIN).
#[test]
fn the_applicative_login_announced_is_the_form_the_target_declares() {
    let profile = |form: &str| {
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [app]\ndomain: op.test\nserver_name: mx.op.test\n\
             trust_anchors: []\napp_auth_form: {form}\n\
             mailboxes:\n  app1: {{ address: app@op.test, type: APP, certificate: {{ cert: /c.pem, key: /k.pem }} }}\n\
             endpoints:\n  imap_starttls: {{ host: 127.0.0.1, port: 1143, tls: starttls }}\n"
        );
        parse_yaml::<Target>(Path::new("t.yaml"), &yaml).unwrap()
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("scenarios/app/cert-plain-imap.yaml")).unwrap();
    let scenario = parse_yaml::<Scenario>(Path::new("cert-plain-imap.yaml"), &source).unwrap();
    let auth_line = |target: &Target| {
        describe(&scenario.steps[0], target, &|t: &str| t.to_string()).into_iter().find(|l| l.starts_with("Authentification")).unwrap()
    };
    let external = auth_line(&profile("{ imap: external, smtp: plain }"));
    assert!(external.contains("mécanisme EXTERNAL") && !external.contains("PLAIN avec"), "{external}");
    assert!(external.contains("au lieu de PLAIN"), "{external}");
    // The dry run says the same fact the same way.
    let target = profile("{ imap: external, smtp: plain }");
    let d = step(&scenario.steps[0], &Context { target: &target, render: &|t: &str| t.to_string(), checks: None, exec: None });
    let en = en::lines(1, &d).into_iter().find(|l| l.contains("authenticate")).unwrap();
    assert!(en.contains("authenticate EXTERNAL as mailbox `app1`") && en.ends_with("(the target's app_auth_form, instead of PLAIN)"), "{en}");
    let plain = auth_line(&profile("{ imap: plain, smtp: external }"));
    assert!(plain.contains("mécanisme PLAIN"), "{plain}");
    let cert_only = auth_line(&profile("certificate-only"));
    assert!(cert_only.contains("certificat client seul") && !cert_only.contains("PLAIN"), "{cert_only}");
}

/// Stands for the executor in the dry run's tests.
struct Executor;

impl ExecFacts for Executor {
    fn message_size(&self, m: &MessageSpec) -> (usize, bool) {
        (1000 + m.subject.len(), m.subject != "S2")
    }

    fn opens_a_message(&self, line: &str) -> bool {
        line == "DATA"
    }

    fn key_exchange_offers(&self) -> Vec<String> {
        vec!["DHE".into(), "weak curves".into(), "x25519".into()]
    }
}

/// The dry run's totals add up the items: the connections each opens (a probe of two families
/// is two, the key-exchange probe one per offer), the messages (DATA, a raw DATA, a transaction
/// with a message) and what the harness would refuse (undeclared recipients and hosts).
#[test]
fn the_dry_run_lines_and_totals_come_from_the_items() {
    let scenario = steps(
        "  - title: envoi\n    smtp:\n      endpoint: smtp_starttls\n      actions:\n\
         \x20       - rcpt_to: { address: dr.b@op.test }\n\
         \x20       - data: { message: { name: m1, from: dr.a@op.test, to: [dr.b@op.test], subject: S } }\n\
         \x20       - command: { line: DATA }\n\
         \x20       - command: { line: NOOP }\n\
         \x20       - transaction: { from: dr.a@op.test, to: [dr.b@op.test], message: { name: m2, from: dr.a@op.test, to: [dr.b@op.test], subject: S2 }, expect: { outcome: accepted } }\n\
         \x20 - title: rangement\n    imap: { endpoint: imap_implicit, actions: [ { append: { folder: Sent, message: m1 } } ] }\n\
         \x20 - title: liste\n    http: { url: 'http://elsewhere.test/liste.xml' }\n\
         \x20 - title: familles\n    tls: { endpoint: imap_implicit, probe_suites_outside_allow_list: { families: [static-rsa-cbc, rc4] } }\n\
         \x20 - title: kx\n    tls: { endpoint: smtp_starttls, probe_key_exchange: {} }\n",
    );
    let target = target();
    let guard = Err("no fixtures here".to_string());
    let hosts = HostAllowList::of(&target);
    let cx = Context { target: &target, render: &render, checks: Some(Checks { guard: &guard, hosts: &hosts }), exec: Some(&Executor) };
    let mut totals = totals::Totals::default();
    let mut lines = Vec::new();
    for (i, s) in scenario.iter().enumerate() {
        let d = step(s, &cx);
        lines.extend(en::lines(i + 1, &d));
        totals.add_step(&d);
    }
    let has = |l: &str| assert!(lines.iter().any(|x| x == l), "missing `{l}` in\n{}", lines.join("\n"));
    has("  connect smtp smtp_starttls = 127.0.0.1:2525 (STARTTLS, SNI mx.op.test)");
    has("  RCPT TO <dr.b@op.test>");
    has("    REFUSED: the send guard cannot load the fixtures: no fixtures here");
    has("  send message `m1`: subject \"S\", from dr.a@op.test to dr.b@op.test, 1001 bytes");
    has("  raw command: DATA (counted as a message: it takes a slot of the rate and cap)");
    has("  raw command: NOOP");
    has("  send message `m2`: subject \"S2\", from dr.a@op.test to dr.b@op.test, about 1002 bytes");
    has("  APPEND the sent message `m1` to folder Sent");
    has("  HTTP GET http://elsewhere.test/liste.xml");
    has("  connect tls key-exchange probe (x25519) smtp_starttls = 127.0.0.1:2525 (STARTTLS, SNI mx.op.test)");
    assert_eq!((totals.connections, totals.messages, totals.refusals.len()), (1 + 1 + 1 + 2 + 3, 3, 3), "{totals:?}");
    assert_eq!(totals.per_host.get("127.0.0.1"), Some(&7), "the refused host is not contacted: {totals:?}");
    assert_eq!(totals.hosts.iter().collect::<Vec<_>>(), ["127.0.0.1"]);
}
