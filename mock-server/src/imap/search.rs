//! SEARCH and UID SEARCH over the selected folder (RFC 3501 §6.4.4). String keys match as
//! case-insensitive substrings of the raw value or of its decoded form.

use std::cell::OnceCell;
use std::num::NonZeroU32;

use chrono::NaiveDate;
use imap_types::core::Charset;
use imap_types::response::Data;
use imap_types::search::SearchKey;
use mail_parser::{HeaderValue, Message};

use crate::store::{Store, StoredMessage};

use super::flags;
use super::header;
use super::mime;
use super::outcome::{Outcome, code};
use super::view::{View, contains};

pub fn search(
    store: &Store,
    mailbox: &str,
    view: &View,
    charset: Option<&Charset<'_>>,
    criteria: &[SearchKey<'_>],
    by_uid: bool,
) -> Outcome {
    if let Some(charset) = charset {
        let name = charset.as_ref();
        if !name.eq_ignore_ascii_case("UTF-8") && !name.eq_ignore_ascii_case("US-ASCII") {
            return Outcome::no(format!("Charset {name} is not supported")).with_code(code("BADCHARSET"));
        }
    }
    let targets = view.all(store, mailbox);
    let bounds = Bounds { last_seq: view.exists(), last_uid: view.uids.iter().copied().max().unwrap_or(0) };
    let found: Vec<NonZeroU32> = targets
        .iter()
        .filter(|t| {
            let candidate = Candidate::new(t.seq, &t.message, bounds);
            criteria.iter().all(|key| candidate.matches(key))
        })
        .filter_map(|t| NonZeroU32::new(if by_uid { t.message.uid } else { t.seq }))
        .collect();
    let mut outcome = Outcome::ok(if by_uid { "UID SEARCH completed" } else { "SEARCH completed" });
    outcome.data(Data::Search(found));
    outcome
}

#[derive(Clone, Copy)]
struct Bounds {
    last_seq: u32,
    last_uid: u32,
}

/// One message under test; the MIME parse is done only if a key needs it.
struct Candidate<'a> {
    seq: u32,
    message: &'a StoredMessage,
    bounds: Bounds,
    header: &'a [u8],
    body: &'a [u8],
    parsed: OnceCell<Option<Message<'a>>>,
}

impl<'a> Candidate<'a> {
    fn new(seq: u32, message: &'a StoredMessage, bounds: Bounds) -> Self {
        let raw = message.raw.as_slice();
        let split = find(raw, b"\r\n\r\n").map(|i| i + 4).or_else(|| find(raw, b"\n\n").map(|i| i + 2)).unwrap_or(raw.len());
        Candidate { seq, message, bounds, header: &raw[..split], body: &raw[split..], parsed: OnceCell::new() }
    }

    fn parsed(&self) -> Option<&Message<'a>> {
        self.parsed.get_or_init(|| mime::parse(self.message.raw.as_slice())).as_ref()
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.message.flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
    }

    fn matches(&self, key: &SearchKey<'_>) -> bool {
        use SearchKey as K;
        match key {
            K::And(keys) => keys.as_ref().iter().all(|k| self.matches(k)),
            K::Or(a, b) => self.matches(a) || self.matches(b),
            K::Not(k) => !self.matches(k),
            K::All | K::Old => true,
            K::New | K::Recent => false,
            K::SequenceSet(set) => contains(set, self.seq, self.bounds.last_seq),
            K::Uid(set) => contains(set, self.message.uid, self.bounds.last_uid),
            K::Answered => self.has_flag(flags::ANSWERED),
            K::Unanswered => !self.has_flag(flags::ANSWERED),
            K::Deleted => self.has_flag(flags::DELETED),
            K::Undeleted => !self.has_flag(flags::DELETED),
            K::Draft => self.has_flag(flags::DRAFT),
            K::Undraft => !self.has_flag(flags::DRAFT),
            K::Flagged => self.has_flag(flags::FLAGGED),
            K::Unflagged => !self.has_flag(flags::FLAGGED),
            K::Seen => self.has_flag(flags::SEEN),
            K::Unseen => !self.has_flag(flags::SEEN),
            K::Keyword(k) => self.has_flag(k.as_ref()),
            K::Unkeyword(k) => !self.has_flag(k.as_ref()),
            K::Larger(n) => self.message.raw.len() > *n as usize,
            K::Smaller(n) => (self.message.raw.len()) < *n as usize,
            K::Header(name, value) => self.header_contains(&lossy(name.as_ref()), &lossy(value.as_ref())),
            K::Subject(v) => self.header_contains("Subject", &lossy(v.as_ref())),
            K::From(v) => self.header_contains("From", &lossy(v.as_ref())),
            K::To(v) => self.header_contains("To", &lossy(v.as_ref())),
            K::Cc(v) => self.header_contains("Cc", &lossy(v.as_ref())),
            K::Bcc(v) => self.header_contains("Bcc", &lossy(v.as_ref())),
            K::Body(v) => self.body_contains(&lossy(v.as_ref())),
            K::Text(v) => {
                let needle = lossy(v.as_ref());
                contains_ci(&String::from_utf8_lossy(self.header), &needle) || self.body_contains(&needle)
            }
            K::Before(d) => self.internal_day() < *d.as_ref(),
            K::On(d) => self.internal_day() == *d.as_ref(),
            K::Since(d) => self.internal_day() >= *d.as_ref(),
            K::SentBefore(d) => self.sent_day().is_some_and(|s| s < *d.as_ref()),
            K::SentOn(d) => self.sent_day().is_some_and(|s| s == *d.as_ref()),
            K::SentSince(d) => self.sent_day().is_some_and(|s| s >= *d.as_ref()),
            // Keys of extensions this server does not announce never match.
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// HEADER semantics: a field of that name whose value contains `needle` (an empty needle
    /// matches any message having the field).
    fn header_contains(&self, name: &str, needle: &str) -> bool {
        let raw_hit = header::fields(self.header).iter().any(|f| f.is(name) && contains_ci(&f.value(), needle));
        raw_hit || self.parsed().is_some_and(|m| decoded_values(m, name).iter().any(|v| contains_ci(v, needle)))
    }

    fn body_contains(&self, needle: &str) -> bool {
        if contains_ci(&String::from_utf8_lossy(self.body), needle) {
            return true;
        }
        self.parsed().is_some_and(|m| {
            m.text_bodies().chain(m.html_bodies()).any(|p| p.text_contents().is_some_and(|t| contains_ci(t, needle)))
        })
    }

    fn internal_day(&self) -> NaiveDate {
        self.message.internal_date.date_naive()
    }

    fn sent_day(&self) -> Option<NaiveDate> {
        let date = self.parsed()?.date()?;
        NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
    }
}

/// Decoded values of the top-level fields called `name`.
fn decoded_values(message: &Message<'_>, name: &str) -> Vec<String> {
    let Some(root) = message.parts.first() else { return Vec::new() };
    root.headers
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .filter_map(|h| match &h.value {
            HeaderValue::Text(t) => Some(t.to_string()),
            HeaderValue::TextList(list) => Some(list.join(" ")),
            HeaderValue::Address(a) => Some(
                a.clone()
                    .into_list()
                    .iter()
                    .map(|addr| format!("{} <{}>", addr.name.as_deref().unwrap_or(""), addr.address.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        })
        .collect()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(store: &Store, text: &str, by_uid: bool) -> Vec<u32> {
        use imap_codec::CommandCodec;
        use imap_codec::decode::Decoder;
        let line = format!("t SEARCH {text}\r\n");
        let (_, cmd) = CommandCodec::default().decode(line.as_bytes()).unwrap();
        let imap_types::command::CommandBody::Search { charset, criteria, .. } = cmd.body else { panic!() };
        let view = View::open(store, "a@x.test", "INBOX", false).unwrap();
        let out = search(store, "a@x.test", &view, charset.as_ref(), criteria.as_ref(), by_uid);
        match out.untagged.first() {
            Some(imap_types::response::Response::Data(Data::Search(found))) => found.iter().map(|n| n.get()).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn store() -> Store {
        let store = Store::new(["a@x.test"]);
        let msgs: [&[u8]; 3] = [
            b"From: Dr Martin <dr.martin@op.test>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nX-MSS-NIL: 1\r\n\r\nCompte rendu\r\n",
            b"From: lab@op.test\r\nTo: app@op.test\r\nSubject: Resultats\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\nHemoglobine\r\n",
            b"Subject: third\r\n\r\nnothing\r\n",
        ];
        for (i, raw) in msgs.iter().enumerate() {
            let flags = if i == 1 { BTreeSet::from(["\\Seen".to_string()]) } else { BTreeSet::new() };
            store.deliver("a@x.test", "INBOX", raw.to_vec(), flags);
        }
        store
    }

    #[test]
    fn string_keys() {
        let s = store();
        assert_eq!(ids(&s, "HEADER X-MSS-NIL \"\"", false), [1]);
        assert_eq!(ids(&s, "HEADER x-mss-nil 1", true), [1]);
        assert_eq!(ids(&s, "CHARSET UTF-8 SUBJECT {7}\r\ngrüße", false), [1], "decoded subject");
        assert_eq!(ids(&s, "FROM MARTIN", false), [1]);
        assert_eq!(ids(&s, "TO app@op.test", false), [2]);
        assert_eq!(ids(&s, "BODY hemoglobine", false), [2]);
        assert_eq!(ids(&s, "TEXT resultats", false), [2]);
    }

    #[test]
    fn flags_sets_and_logic() {
        let s = store();
        assert_eq!(ids(&s, "ALL", false), [1, 2, 3]);
        assert_eq!(ids(&s, "SEEN", false), [2]);
        assert_eq!(ids(&s, "UNSEEN", false), [1, 3]);
        assert_eq!(ids(&s, "NOT SEEN 2:*", false), [3]);
        assert_eq!(ids(&s, "OR SEEN SUBJECT third", false), [2, 3]);
        assert_eq!(ids(&s, "UID 2:*", true), [2, 3]);
        assert_eq!(ids(&s, "*", false), [3]);
        assert_eq!(ids(&s, "FLAGGED", false), Vec::<u32>::new());
        assert_eq!(ids(&s, "SENTON 2-Mar-2026", false), [2]);
        assert_eq!(ids(&s, "SINCE 1-Jan-2000 LARGER 10", false), [1, 2, 3]);
    }
}
