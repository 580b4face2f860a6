//! SELECT, SEARCH, FETCH (exact bytes), APPEND (literal, APPENDUID), STORE, LIST, MOVE.

use crate::exec::imap::testkit::*;
use crate::exec::imap::{MoveMethod, StatusKind};

/// A message whose body holds lines that look like IMAP responses, binary and a lone LF.
fn tricky_message() -> Vec<u8> {
    let mut m = b"From: a@op.test\r\nSubject: test\r\nX-MSS-Test: 1\r\n\r\n".to_vec();
    m.extend_from_slice(b"a5 OK [fake] not a response\r\n* 9 EXISTS\r\n)\r\n{12}\r\n");
    m.extend_from_slice(&[0xc3, 0xa9, 0x00, 0xff, b'\n', b'x', b'\r', b'\n']);
    m
}

#[tokio::test]
async fn select_search_and_fetch_exact_bytes() {
    let body = tricky_message();
    let mut fetch = format!("* 3 FETCH (UID 42 BODY[] {{{}}}\r\n", body.len()).into_bytes();
    fetch.extend_from_slice(&body);
    fetch.extend_from_slice(b")\r\na3 OK Fetch completed\r\n");
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 SELECT INBOX"),
            send(concat!(
                "* 3 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\n",
                "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 43] next\r\n",
                "a1 OK [READ-WRITE] SELECT completed\r\n"
            )),
            expect("a2 UID SEARCH HEADER Message-ID \"<m1@op.test>\""),
            send("* SEARCH 42\r\na2 OK Search completed\r\n"),
            expect("a3 UID FETCH 42 (UID BODY.PEEK[])"),
            Step::SendBytes(fetch),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let sel = s.select("INBOX").await.unwrap();
    assert!(sel.status.is_ok() && !sel.read_only);
    assert_eq!(
        (sel.exists, sel.uid_validity, sel.uid_next),
        (3, Some(1_700_000_000), Some(43))
    );
    assert_eq!(sel.untagged.len(), 5);
    let (uids, status) = s.uid_search("HEADER Message-ID \"<m1@op.test>\"").await.unwrap();
    assert_eq!((uids, status.kind), (vec![42], StatusKind::Ok));
    let (fetched, status) = s.uid_fetch_message(42).await.unwrap();
    assert!(status.is_ok());
    assert_eq!(fetched.unwrap(), body);
    server.finish().await.unwrap();
    let text = rendered(&t);
    assert!(
        text.contains(&format!("<literal {} bytes, sha256 ", body.len())),
        "{text}"
    );
    assert!(
        !text.contains("not a response"),
        "message body in the transcript: {text}"
    );
}

#[tokio::test]
async fn fetch_of_a_missing_uid_is_none() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 UID FETCH 7 (UID BODY.PEEK[])"),
            send("a1 OK nothing\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let (body, status) = s.uid_fetch_message(7).await.unwrap();
    assert!(body.is_none() && status.is_ok());
    server.finish().await.unwrap();
}

#[tokio::test]
async fn raw_fetch_and_store() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 UID FETCH 5 (FLAGS ENVELOPE)"),
            send("* 1 FETCH (UID 5 FLAGS (\\Seen) ENVELOPE (NIL {4}\r\nSubj NIL NIL NIL NIL NIL NIL NIL NIL))\r\na1 OK\r\n"),
            expect("a2 UID STORE 5 +FLAGS (\\Seen)"),
            send("a2 NO [CANNOT] read-only\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let r = s.uid_fetch(5, "(FLAGS ENVELOPE)").await.unwrap();
    assert_eq!(
        r.untagged,
        vec!["* 1 FETCH (UID 5 FLAGS (\\Seen) ENVELOPE (NIL {4}Subj NIL NIL NIL NIL NIL NIL NIL NIL))"]
    );
    let status = s.uid_store(5, "+FLAGS (\\Seen)").await.unwrap();
    assert_eq!(status.code.as_deref(), Some("CANNOT"));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn append_sends_a_literal_and_reads_appenduid() {
    let msg = tricky_message();
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 UIDPLUS"),
            expect(&format!("a1 APPEND \"Mes envois\" (\\Seen) {{{}}}", msg.len())),
            send("+ Ready for literal data\r\n"),
            Step::ExpectLiteral(msg.len()),
            send("* 4 EXISTS\r\na1 OK [APPENDUID 1700000000 77] APPEND completed\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let (status, uid) = s.append("Mes envois", &["\\Seen"], &msg).await.unwrap();
    assert!(status.is_ok());
    assert_eq!(uid, Some(77));
    let trace = server.finish().await.unwrap();
    assert_eq!(trace.lines[1].as_bytes(), String::from_utf8_lossy(&msg).as_bytes());
    let text = rendered(&t);
    assert!(
        text.contains(&format!("C: <literal {} bytes, sha256 ", msg.len())),
        "{text}"
    );
}

#[tokio::test]
async fn append_refused_before_the_literal() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 APPEND INBOX () {3}"),
            send("a1 NO [TOOBIG] too big\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let (status, uid) = s.append("INBOX", &[], b"abc").await.unwrap();
    assert_eq!((status.code.as_deref(), uid), (Some("TOOBIG"), None));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn create_and_list() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1"),
            expect("a1 CREATE Archives"),
            send("a1 OK created\r\n"),
            expect("a2 LIST \"\" *"),
            send(concat!(
                "* LIST (\\HasNoChildren) \"/\" INBOX\r\n",
                "* LIST (\\HasNoChildren \\Sent) \"/\" \"Mes envois\"\r\n",
                "* LIST () \"/\" {8}\r\nArchives\r\n",
                "* LIST garbage\r\n",
                "a2 OK listed\r\n"
            )),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    assert!(s.create("Archives").await.unwrap().is_ok());
    let (names, status) = s.list("", "*").await.unwrap();
    assert!(status.is_ok());
    assert_eq!(names, ["INBOX", "Mes envois", "Archives"]);
    assert!(rendered(&t).contains("LIST response not parsed: * LIST garbage"));
    server.finish().await.unwrap();
}

#[tokio::test]
async fn move_uses_move_when_advertised() {
    let server = ScriptServer::start(
        vec![
            greeting("IMAP4rev1 MOVE"),
            expect("a1 UID MOVE 9 Trash"),
            send("a1 OK moved\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, _) = connect_plain(&server, TIMEOUTS).await;
    let moved = s.uid_move(9, "Trash").await.unwrap();
    assert_eq!(moved.method, MoveMethod::Move);
    assert!(moved.status.is_ok());
    server.finish().await.unwrap();
}

#[tokio::test]
async fn move_falls_back_to_copy_store_expunge() {
    let server = ScriptServer::start(
        vec![
            send("* OK ready\r\n"),
            expect("a1 CAPABILITY"),
            send("* CAPABILITY IMAP4rev1 UIDPLUS\r\na1 OK\r\n"),
            expect("a2 UID COPY 9 Trash"),
            send("a2 OK [COPYUID 1 9 3] copied\r\n"),
            expect("a3 UID STORE 9 +FLAGS.SILENT (\\Deleted)"),
            send("a3 OK\r\n"),
            expect("a4 UID EXPUNGE 9"),
            send("* 1 EXPUNGE\r\na4 OK expunged\r\n"),
        ],
        None,
        false,
    )
    .await;
    let (mut s, t) = connect_plain(&server, TIMEOUTS).await;
    let moved = s.uid_move(9, "Trash").await.unwrap();
    assert_eq!(moved.method, MoveMethod::CopyStoreExpunge);
    assert_eq!(moved.status.text, "expunged");
    assert!(rendered(&t).contains("MOVE not advertised"));
    server.finish().await.unwrap();
}
