//! The messages a load run sends: fictitious content only, one unique Message-ID each, padded to
//! the requested size. The send guard checks one rendering before the run; the others differ only
//! by the sequence number in the Message-ID and Subject.

use crate::fixtures::guard::{Guard, GuardRefusal};

/// A line of the fictitious body (no patient, no identifier: nothing the guard could object to).
const FILLER: &str = "Message de charge mssconf : contenu fictif, sans donnee de sante, genere pour un test local.";

/// Builds the bytes of load message `seq` of run `run`.
#[derive(Debug, Clone)]
pub struct MessageTemplate {
    run: String,
    from: String,
    domain: String,
    size: usize,
}

impl MessageTemplate {
    pub fn new(run: &str, from: &str, size: usize) -> Self {
        let domain = from.rsplit_once('@').map_or("mssconf.test", |(_, d)| d).to_string();
        MessageTemplate { run: run.to_string(), from: from.to_string(), domain, size }
    }

    /// The marker the IMAP watcher looks for: `mssconf-load.<run>.<seq>`.
    pub fn marker(&self, seq: u64) -> String {
        format!("{}{seq}", self.marker_prefix())
    }

    /// What every marker of this run starts with.
    pub fn marker_prefix(&self) -> String {
        format!("mssconf-load.{}.", self.run)
    }

    /// The message to `to`, CRLF line ends, exactly `size` bytes when `size` exceeds the headers.
    pub fn render(&self, seq: u64, to: &str) -> Vec<u8> {
        let marker = self.marker(seq);
        let headers = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: Charge {marker}\r\nMessage-ID: <{marker}@{domain}>\r\n\
             Date: {date}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
            from = self.from,
            domain = self.domain,
            date = chrono::Utc::now().to_rfc2822(),
        );
        let mut out = Vec::with_capacity(self.size.max(headers.len() + 2));
        out.extend_from_slice(headers.as_bytes());
        pad_body(&mut out, self.size);
        out
    }

    /// Runs the send guard on one rendering (run once before the load starts).
    pub fn check(&self, guard: &Guard, to: &str) -> Result<(), GuardRefusal> {
        guard.check_message(&self.render(0, to))
    }
}

/// Appends filler lines (each < 100 bytes, CRLF) until `out` is `size` bytes; at least one line.
fn pad_body(out: &mut Vec<u8>, size: usize) {
    loop {
        let room = size.saturating_sub(out.len());
        if room < FILLER.len() + 4 {
            // The last line: cut the filler so that the total is exact (a CRLF always ends it).
            let take = room.saturating_sub(2).min(FILLER.len());
            out.extend_from_slice(&FILLER.as_bytes()[..take]);
            out.extend_from_slice(b"\r\n");
            return;
        }
        out.extend_from_slice(FILLER.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The sequence number in `text` after this run's marker prefix, if any.
pub fn find_marker(text: &str, prefix: &str) -> Option<u64> {
    let at = text.find(prefix)? + prefix.len();
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_the_exact_size_and_a_unique_marker() {
        let t = MessageTemplate::new("r1", "dr.a@op.test", 4096);
        let m = t.render(42, "dr.b@op.test");
        assert_eq!(m.len(), 4096);
        let text = String::from_utf8(m).unwrap();
        assert!(text.contains("Message-ID: <mssconf-load.r1.42@op.test>\r\n"), "{text}");
        assert!(text.ends_with("\r\n") && !text.contains("\r\n.\r\n"));
        assert!(text.lines().all(|l| l.len() < 200));
        assert_eq!(find_marker(&text, &t.marker_prefix()), Some(42));
        assert_eq!(find_marker("ENVELOPE (\"<mssconf-load.r1.7@op.test>\")", "mssconf-load.r1."), Some(7));
        assert_eq!(find_marker("mssconf-load.r2.7", "mssconf-load.r1."), None);
    }

    #[test]
    fn small_sizes_still_give_a_whole_message() {
        let t = MessageTemplate::new("r1", "a@op.test", 512);
        let m = t.render(1, "b@op.test");
        assert!(m.len() >= 300 && m.ends_with(b"\r\n"));
    }

    #[test]
    fn guard_accepts_the_load_message() {
        let mut target: crate::target::model::Target =
            serde_json::from_value(crate::target::reference_vars()).expect("reference");
        target.http = Default::default();
        let guard = Guard::new(&crate::fixtures::testdata::value(), &target).expect("guard");
        let t = MessageTemplate::new("r1", "per1@example.test", 2048);
        t.check(&guard, "per2@example.test").expect("fictitious content passes");
        assert!(t.check(&guard, "someone@elsewhere.example").is_err());
    }
}
