//! IMAP mailbox operations of the mock operator: folders, FETCH byte for byte, SEARCH, STORE,
//! APPEND, COPY/MOVE/EXPUNGE, IDLE.

use crate::imap_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use imap_common::*;

/// The bytes of the first literal of a raw response line.
fn literal(line: &[u8]) -> Vec<u8> {
    let open = line.iter().position(|&b| b == b'{').expect("a literal");
    let close = open + line[open..].iter().position(|&b| b == b'}').unwrap();
    let n: usize = std::str::from_utf8(&line[open + 1..close]).unwrap().trim_end_matches('+').parse().unwrap();
    let start = close + 3; // "}\r\n"
    line[start..start + n].to_vec()
}

fn deliver(mock: &Mock, mailbox: &str, raw: &[u8]) -> u32 {
    mock.ctx.store.deliver(mailbox, "INBOX", raw.to_vec(), BTreeSet::new()).unwrap()
}

#[tokio::test]
async fn select_reports_the_folder() {
    let mock = start(&[]).await;
    deliver(&mock, &per1(), SIMPLE);
    deliver(&mock, &per1(), MULTIPART);
    let mut client = mock.login(&per1()).await;
    let reply = client.cmd("SELECT INBOX").await;
    for expected in ["* FLAGS (", "* OK [PERMANENTFLAGS (", "* 2 EXISTS", "* 0 RECENT", "* OK [UNSEEN 1]", "* OK [UIDVALIDITY ", "* OK [UIDNEXT 3]"] {
        assert!(reply.iter().any(|l| l.starts_with(expected)), "{expected} missing: {reply:?}");
    }
    assert!(reply.last().unwrap().starts_with("t1 OK [READ-WRITE]"), "{reply:?}");
    let reply = client.cmd("EXAMINE INBOX").await;
    assert!(reply.last().unwrap().starts_with("t2 OK [READ-ONLY]"), "{reply:?}");
    let reply = client.cmd("STORE 1 +FLAGS (\\Seen)").await;
    assert!(reply.last().unwrap().starts_with("t3 NO"), "{reply:?}");
    let reply = client.cmd("SELECT Nowhere").await;
    assert!(reply.last().unwrap().starts_with("t4 NO"), "{reply:?}");
    let reply = client.cmd("FETCH 1 FLAGS").await;
    assert!(reply.last().unwrap().starts_with("t5 BAD"), "a failed SELECT leaves no folder selected: {reply:?}");
}

#[tokio::test]
async fn fetch_returns_the_stored_bytes() {
    let mock = start(&[]).await;
    deliver(&mock, &per1(), MULTIPART);
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;

    let reply = client.cmd_raw("FETCH 1 BODY.PEEK[]").await;
    assert!(reply[0].starts_with(b"* 1 FETCH (BODY[] {"), "{:?}", String::from_utf8_lossy(&reply[0]));
    assert_eq!(literal(&reply[0]), MULTIPART);
    let reply = client.cmd("FETCH 1 FLAGS").await;
    assert!(!reply[0].contains("\\Seen"), "PEEK leaves \\Seen alone: {reply:?}");

    let reply = client.cmd_raw("UID FETCH 1 BODY[2]").await;
    let line = String::from_utf8_lossy(&reply[0]).to_string();
    assert_eq!(literal(&reply[0]), b"UEsDBBQAAAAIAA==");
    assert!(line.contains("UID 1") && line.contains("FLAGS (\\Seen)"), "{line}");

    let reply = client.cmd_raw("FETCH 1 (BODY.PEEK[HEADER.FIELDS (X-MSS-NIL SUBJECT)])").await;
    assert_eq!(literal(&reply[0]), b"Subject: Compte rendu\r\nX-MSS-NIL: 1\r\n\r\n");
    let reply = client.cmd_raw("FETCH 1 BODY.PEEK[1]").await;
    assert_eq!(literal(&reply[0]), b"Voir piece jointe.");
    let reply = client.cmd_raw("FETCH 1 BODY.PEEK[TEXT]<0.6>").await;
    assert!(reply[0].starts_with(b"* 1 FETCH (BODY[TEXT]<0> {6}"), "{:?}", String::from_utf8_lossy(&reply[0]));
    assert_eq!(literal(&reply[0]), b"--sep\r");

    let reply = client.cmd("FETCH 1 (RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)").await;
    let line = &reply[0];
    assert!(line.contains(&format!("RFC822.SIZE {}", MULTIPART.len())), "{line}");
    assert!(line.contains("INTERNALDATE \""), "{line}");
    assert!(line.contains("\"Compte rendu\"") && line.contains("\"<cr-1@op.test>\""), "{line}");
    assert!(line.contains("\"application\" \"zip\" (\"name\" \"IHE_XDM.zip\")"), "{line}");
    assert!(line.contains("\"mixed\" (\"boundary\" \"sep\")"), "{line}");
    let reply = client.cmd("FETCH 9 FLAGS").await;
    assert_eq!(reply.len(), 1, "no such message: no data: {reply:?}");
}

#[tokio::test]
async fn search_finds_headers_and_flags() {
    let mock = start(&[]).await;
    deliver(&mock, &per1(), SIMPLE);
    deliver(&mock, &per1(), MULTIPART);
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    assert_eq!(client.cmd("SEARCH HEADER X-MSS-NIL \"\"").await[0], "* SEARCH 2");
    assert_eq!(client.cmd("UID SEARCH HEADER x-mss-nil 1").await[0], "* SEARCH 2");
    assert_eq!(client.cmd("SEARCH SUBJECT rendez").await[0], "* SEARCH 1");
    assert_eq!(client.cmd("SEARCH FROM secretariat TO martin").await[0], "* SEARCH 1");
    assert_eq!(client.cmd("SEARCH BODY \"piece jointe\"").await[0], "* SEARCH 2");
    assert_eq!(client.cmd("SEARCH OR SUBJECT rendez HEADER X-MSS-NIL 1").await[0], "* SEARCH 1 2");
    client.cmd("STORE 2 +FLAGS (\\Seen)").await;
    assert_eq!(client.cmd("SEARCH UNSEEN").await[0], "* SEARCH 1");
    assert_eq!(client.cmd("SEARCH NOT SEEN").await[0], "* SEARCH 1");
    assert_eq!(client.cmd("SEARCH 2:*").await[0], "* SEARCH 2");
    assert_eq!(client.cmd("SEARCH FLAGGED").await[0], "* SEARCH");
}

#[tokio::test]
async fn store_changes_flags_for_good() {
    let mock = start(&[]).await;
    deliver(&mock, &per1(), SIMPLE);
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    let reply = client.cmd("STORE 1 +FLAGS (\\Flagged $Urgent)").await;
    assert!(reply[0].starts_with("* 1 FETCH (FLAGS (") && reply[0].contains("\\Flagged") && reply[0].contains("$Urgent"), "{reply:?}");
    let reply = client.cmd("STORE 1 -FLAGS.SILENT ($Urgent)").await;
    assert_eq!(reply.len(), 1, "silent: {reply:?}");
    let reply = client.cmd("UID STORE 1 +FLAGS (\\Answered)").await;
    assert!(reply[0].contains("UID 1") && reply[0].contains("\\Answered"), "{reply:?}");
    // Another session sees what was stored.
    let mut other = mock.login(&per1()).await;
    other.cmd("SELECT INBOX").await;
    let reply = other.cmd("FETCH 1 FLAGS").await;
    assert_eq!(reply[0], "* 1 FETCH (FLAGS (\\Answered \\Flagged))");
}

#[tokio::test]
async fn append_to_sent() {
    let mock = start(&[]).await;
    let mut client = mock.login(&per1()).await;
    client.send(format!("a1 APPEND Sent (\\Seen) {{{}}}\r\n", SIMPLE.len()).as_bytes()).await;
    assert!(client.line().await.starts_with("+ "));
    client.send(SIMPLE).await;
    client.send(b"\r\n").await;
    let done = client.line().await;
    assert!(done.starts_with("a1 OK [APPENDUID ") && done.contains(" 1]"), "{done}");
    // LITERAL+: no continuation to wait for.
    client.send(format!("a2 APPEND Sent {{{}+}}\r\n", MULTIPART.len()).as_bytes()).await;
    client.send(MULTIPART).await;
    client.send(b"\r\n").await;
    assert!(client.line().await.contains(" 2]"));
    client.cmd("SELECT Sent").await;
    let reply = client.cmd_raw("FETCH 1:2 (FLAGS BODY.PEEK[])").await;
    assert_eq!(literal(&reply[0]), SIMPLE);
    assert!(String::from_utf8_lossy(&reply[0]).contains("\\Seen"));
    assert_eq!(literal(&reply[1]), MULTIPART);
    let stored = mock.ctx.store.with_mailbox(&per1(), |m| m.folders["Sent"].messages.len());
    assert_eq!(stored, Some(2));
    let reply = client.cmd("APPEND Nowhere {1+}\r\nx").await;
    assert!(reply[0].starts_with("t3 NO [TRYCREATE]"), "{reply:?}");
}

#[tokio::test]
async fn create_list_and_delete_folders() {
    let mock = start(&[]).await;
    let mut client = mock.login(&per1()).await;
    assert!(client.cmd("CREATE Projets").await[0].starts_with("t1 OK"));
    assert!(client.cmd("CREATE Projets").await[0].starts_with("t2 NO"));
    let list = client.cmd("LIST \"\" \"*\"").await;
    for name in ["INBOX", "Projets", "Drafts", "Trash"] {
        assert!(list.iter().any(|l| l.starts_with("* LIST") && l.ends_with(&format!("\"/\" {name}"))), "{name}: {list:?}");
    }
    assert!(list.iter().any(|l| l == "* LIST (\\Sent) \"/\" Sent"), "{list:?}");
    assert_eq!(client.cmd("LIST \"\" \"\"").await[0], "* LIST (\\Noselect) \"/\" \"\"");
    assert_eq!(client.cmd("LIST \"\" \"Pro%\"").await.len(), 2);
    assert!(client.cmd("LSUB \"\" \"*\"").await.len() >= 6);
    let status = client.cmd("STATUS Projets (MESSAGES UIDNEXT UNSEEN)").await;
    assert_eq!(status[0], "* STATUS Projets (MESSAGES 0 UIDNEXT 1 UNSEEN 0)");
    assert!(client.cmd("DELETE Projets").await[0].starts_with("t8 OK"));
    assert!(client.cmd("DELETE INBOX").await[0].starts_with("t9 NO"));
    assert!(client.cmd("SELECT Projets").await.last().unwrap().starts_with("t10 NO"));
}

#[tokio::test]
async fn move_copy_and_expunge() {
    let mock = start(&[]).await;
    deliver(&mock, &per1(), SIMPLE);
    deliver(&mock, &per1(), MULTIPART);
    deliver(&mock, &per1(), SIMPLE);
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    let reply = client.cmd("UID MOVE 2 Trash").await;
    assert!(reply[0].starts_with("* OK [COPYUID ") && reply[0].contains(" 2 1]"), "{reply:?}");
    assert_eq!(reply[1], "* 2 EXPUNGE");
    assert!(reply[2].starts_with("t2 OK"), "{reply:?}");
    let reply = client.cmd("COPY 1 Drafts").await;
    assert!(reply[0].starts_with("t3 OK [COPYUID "), "{reply:?}");
    client.cmd("STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    let reply = client.cmd("EXPUNGE").await;
    assert_eq!(&reply[..2], ["* 2 EXPUNGE", "* 1 EXPUNGE"]);
    let reply = client.cmd("SELECT Trash").await;
    assert!(reply.iter().any(|l| l == "* 1 EXISTS"), "{reply:?}");
    let raw = client.cmd_raw("FETCH 1 BODY.PEEK[]").await;
    assert_eq!(literal(&raw[0]), MULTIPART);
    let reply = client.cmd("MOVE 1 Nowhere").await;
    assert!(reply[0].starts_with("t8 NO [TRYCREATE]"), "{reply:?}");
    assert!(client.cmd("CLOSE").await[0].starts_with("t9 OK"));
    assert!(client.cmd("FETCH 1 FLAGS").await[0].starts_with("t10 BAD"));
}

#[tokio::test]
async fn noop_reports_new_messages() {
    let mock = start(&[]).await;
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    deliver(&mock, &per1(), SIMPLE);
    let reply = client.cmd("NOOP").await;
    assert_eq!(reply[0], "* 1 EXISTS");
}

#[tokio::test]
async fn idle_pushes_exists_at_once() {
    let mock = start(&[]).await;
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    client.send(b"i1 IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    // Deliveries to another mailbox or folder say nothing to this session.
    deliver(&mock, &per2(), SIMPLE);
    mock.ctx.store.deliver(&per1(), "Sent", SIMPLE.to_vec(), BTreeSet::new());
    let started = Instant::now();
    deliver(&mock, &per1(), SIMPLE);
    assert_eq!(client.line().await, "* 1 EXISTS");
    assert!(started.elapsed() < Duration::from_millis(500), "EXISTS took {:?}", started.elapsed());
    // An APPEND by another session counts too.
    let mut other = mock.login(&per1()).await;
    other.cmd(&format!("APPEND INBOX {{{}+}}\r\n{}", SIMPLE.len(), String::from_utf8_lossy(SIMPLE))).await;
    assert_eq!(client.line().await, "* 2 EXISTS");
    client.send(b"DONE\r\n").await;
    assert!(client.line().await.starts_with("i1 OK"));
    assert!(client.cmd("NOOP").await[0].starts_with("t2 OK"));
}

#[tokio::test]
async fn idle_times_out_with_bye() {
    let options = mssconf_mock::imap::ImapOptions { idle_timeout: Duration::from_millis(300), ..options() };
    let mock = start_with(&[], options).await;
    let mut client = mock.login(&per1()).await;
    client.send(b"i1 IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    assert!(client.line().await.starts_with("* BYE"));
    assert!(client.closed().await);
}

#[tokio::test]
async fn malformed_input_gets_bad_and_the_session_goes_on() {
    let mock = start(&[]).await;
    let mut client = mock.login(&per1()).await;
    client.send(b"a1 FETCH\r\n").await;
    assert!(client.line().await.starts_with("a1 BAD"));
    client.send(b"\x01\x02\xff garbage\r\n").await;
    assert!(client.line().await.starts_with("* BAD"));
    client.send(b"a2 NOOP\n").await;
    assert!(client.line().await.starts_with("a2 BAD"));
    client.send(b"a3 FROB\r\n").await;
    assert!(client.line().await.starts_with("a3 BAD"));
    let reply = client.cmd("FETCH 1 FLAGS").await;
    assert!(reply[0].starts_with("t1 BAD"), "no folder selected: {reply:?}");
    client.send(b"a4 LOGOUT\r\n").await;
    assert!(client.line().await.starts_with("* BYE"));
    assert!(client.line().await.starts_with("a4 OK"));
    assert!(client.closed().await);
}

#[tokio::test]
async fn hostile_input_is_answered_not_fatal() {
    let mock = start(&[]).await;
    deliver(&mock, &per1(), MULTIPART);
    let mut client = mock.login(&per1()).await;
    client.cmd("SELECT INBOX").await;
    let inputs: [&[u8]; 9] = [
        b"h1 APPEND INBOX {99999999999}\r\n",
        b"h2 APPEND INBOX {20000000}\r\n",
        b"h3 FETCH 1:4294967295 (BODY.PEEK[1.2.3.4.5.6.7.8.9] BODY.PEEK[3.MIME] BODY.PEEK[2.HEADER])\r\n",
        b"h4 UID FETCH *:* (FLAGS BODY.PEEK[HEADER.FIELDS.NOT (A B C)]<4294967295.4294967295>)\r\n",
        b"h5 LIST \"\" \"%%%%%%%%*****************%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\"\r\n",
        b"h6 SEARCH NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL\r\n",
        b"h7 STORE 1:* FLAGS ()\r\n",
        b"h8 \0\0\0\r\n",
        b"h9 SELECT {3}\r\n",
    ];
    for input in inputs {
        client.send(input).await;
        let tag = String::from_utf8_lossy(&input[..2]).to_string();
        loop {
            let line = client.line().await;
            if line.starts_with("+ ") && tag == "h9" {
                client.send(b"\x7fX\x01\r\n").await;
                continue;
            }
            if line.starts_with(&tag) || line.starts_with("* BAD") {
                break;
            }
        }
    }
    assert!(client.cmd("NOOP").await.last().unwrap().starts_with("t2 OK"));
    let (_, greeting) = mock.connect_tls(None).await;
    assert!(greeting.starts_with("* OK"));
}
