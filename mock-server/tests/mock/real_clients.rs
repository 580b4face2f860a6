//! The mock agrees with real clients nobody here wrote: swaks (SMTP STARTTLS + AUTH PLAIN with
//! a client certificate), curl (SMTP and IMAP with XOAUTH2, IMAP read-back) and openssl s_client
//! (TLS 1.1 refused). Each test skips with a printed reason when its tool is missing, unless
//! `MSSCONF_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs them): then it fails.

use crate::support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use support::*;

fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|c| c.is_file()));
    if found.is_none() {
        assert!(std::env::var("MSSCONF_REQUIRE_TOOLS").as_deref() != Ok("1"), "{name} is required (MSSCONF_REQUIRE_TOOLS=1) but not installed");
        eprintln!("skipped: {name} is not installed (apt-get install {name})");
    }
    found
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("tool runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// curl's IMAP URL for one message of a mailbox's INBOX.
fn imap_url(port: u16, uid: u32) -> String {
    format!("imap://127.0.0.1:{port}/INBOX;UID={uid}")
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_submits_with_certificate_and_curl_reads_it_back() {
    let (Some(swaks), Some(curl)) = (tool("swaks"), tool("curl")) else { return };
    let mock = start(&[]).await;
    let pki = mock.pki_files().clone();
    let (app1, app2) = (address(&mock, "app1"), address(&mock, "app2"));
    let smtp = mock.endpoints().smtp_starttls.port();
    let (ok, log) = tokio::task::spawn_blocking({
        let (app1, app2) = (app1.clone(), app2.clone());
        move || {
            run(Command::new(swaks)
                .args(["--server", "127.0.0.1", "--port", &smtp.to_string(), "--tls", "--tls-verify"])
                .args(["--tls-ca-path", pki.ca.to_str().unwrap()])
                .args(["--tls-cert", pki.app1.cert.to_str().unwrap(), "--tls-key", pki.app1.key.to_str().unwrap()])
                .args(["--auth", "PLAIN", "--auth-user", &app1, "--auth-password", "unused"])
                .args(["--from", &app1, "--to", &app2, "--h-From", &format!("<{app1}>")])
                .args(["--header", "X-MSS-NIL: DEVMSSCONF0001", "--body", "Message fictif envoye par swaks"]))
        }
    })
    .await
    .unwrap();
    assert!(ok, "swaks failed:\n{log}");
    assert!(log.contains("STARTTLS") && log.contains("235"), "no STARTTLS/AUTH in swaks transcript:\n{log}");
    let pki = mock.pki_files().clone();
    let imap = mock.endpoints().imap_starttls.port();
    let (ok, body) = tokio::task::spawn_blocking(move || {
        run(Command::new(curl)
            .args(["-sS", "--ssl-reqd", "--cacert", pki.ca.to_str().unwrap()])
            .args(["--cert", pki.app2.cert.to_str().unwrap(), "--key", pki.app2.key.to_str().unwrap()])
            .args(["--user", &format!("{app2}:unused"), "--login-options", "AUTH=PLAIN"])
            .arg(imap_url(imap, 1)))
    })
    .await
    .unwrap();
    assert!(ok, "curl IMAP failed:\n{body}");
    assert!(body.contains("X-MSS-NIL: DEVMSSCONF0001") && body.contains("Message fictif envoye par swaks"), "{body}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_sends_and_reads_with_xoauth2() {
    let Some(curl) = tool("curl") else { return };
    let mock = start(&[]).await;
    let (per1, per2) = (address(&mock, "per1"), address(&mock, "per2"));
    let tokens = &mock.context().tokens;
    let (t1, t2) = (tokens.issue(&per1, "99900000001", 300), tokens.issue(&per2, "99900000002", 300));
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("msg.eml");
    std::fs::write(&msg, format!("From: <{per1}>\r\nTo: <{per2}>\r\nSubject: XDM/1.0/DDM+essai curl\r\nX-MSS-NIL: DEVMSSCONF0001\r\n\r\nCorps fictif.\r\n")).unwrap();
    let ca = mock.pki_files().ca.clone();
    let (smtp, imap) = (mock.endpoints().smtp_implicit.port(), mock.endpoints().imap_implicit.port());
    let (ok, log) = tokio::task::spawn_blocking({
        let (curl, ca, per1, per2) = (curl.clone(), ca.clone(), per1.clone(), per2.clone());
        move || {
            run(Command::new(curl)
                .args(["-sS", "--cacert", ca.to_str().unwrap(), &format!("smtps://127.0.0.1:{smtp}")])
                .args(["--user", &per1, "--oauth2-bearer", &t1, "--mail-from", &per1, "--mail-rcpt", &per2])
                .args(["--upload-file", msg.to_str().unwrap()]))
        }
    })
    .await
    .unwrap();
    assert!(ok, "curl SMTP failed:\n{log}");
    let (ok, body) = tokio::task::spawn_blocking(move || {
        run(Command::new(curl)
            .args(["-sS", "--cacert", ca.to_str().unwrap(), &format!("imaps://127.0.0.1:{imap}/INBOX;UID=1")])
            .args(["--user", &per2, "--oauth2-bearer", &t2]))
    })
    .await
    .unwrap();
    assert!(ok, "curl IMAP failed:\n{body}");
    assert!(body.contains("Subject: XDM/1.0/DDM+essai curl") && body.contains("Corps fictif."), "{body}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openssl_tls11_is_refused_and_tls12_accepted() {
    let Some(openssl) = tool("openssl") else { return };
    let mock = start(&[]).await;
    let port = mock.endpoints().smtp_starttls.port();
    let ca = mock.pki_files().ca.clone();
    let attempt = move |version: &str| {
        run(Command::new(&openssl)
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-starttls", "smtp", version])
            .args(["-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", ca.to_str().unwrap(), "-brief"]))
    };
    let (ok11, log11) = tokio::task::spawn_blocking({
        let a = attempt.clone();
        move || a("-tls1_1")
    })
    .await
    .unwrap();
    assert!(!ok11 && !log11.contains("Protocol version: TLSv1.1"), "TLS 1.1 was accepted:\n{log11}");
    let (ok12, log12) = tokio::task::spawn_blocking(move || attempt("-tls1_2")).await.unwrap();
    assert!(ok12 && log12.contains("TLSv1.2"), "TLS 1.2 failed:\n{log12}");
    mock.shutdown().await;
}
