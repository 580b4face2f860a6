//! Every expectation of a step, and every text inside one, reached from one place: the plan
//! settles expectations through it (`plan::settle`: `${…}` rendered, defaults made explicit).
//! A new expectation field that holds text is added to its `texts_mut` here, and nowhere else.

use std::collections::BTreeMap;

use super::*;

/// One expectation of a step, borrowed to be settled.
pub enum ExpectSlot<'a> {
    Smtp(&'a mut Option<SmtpExpect>),
    Transaction(&'a mut TransactionExpect),
    Imap(&'a mut Option<ImapExpect>),
    /// An IMAP `wait_for`: without an expectation, it must find its message.
    ImapWait(&'a mut Option<ImapExpect>),
    Tls(&'a mut Option<TlsExpect>),
    Http(&'a mut Option<HttpExpect>),
}

impl<'a> ExpectSlot<'a> {
    /// Every text of the expectation (none when the slot is empty).
    pub fn texts(self) -> Vec<&'a mut String> {
        match self {
            ExpectSlot::Smtp(e) => e.as_mut().map(SmtpExpect::texts_mut),
            ExpectSlot::Transaction(e) => Some(e.texts_mut()),
            ExpectSlot::Imap(e) | ExpectSlot::ImapWait(e) => e.as_mut().map(ImapExpect::texts_mut),
            ExpectSlot::Tls(e) => e.as_mut().map(TlsExpect::texts_mut),
            ExpectSlot::Http(e) => e.as_mut().map(HttpExpect::texts_mut),
        }
        .unwrap_or_default()
    }
}

impl Step {
    /// The step's expectations, greeting first, then each action's in order.
    pub fn expectations_mut(&mut self) -> Vec<ExpectSlot<'_>> {
        let mut v = Vec::new();
        if let Some(s) = &mut self.smtp {
            v.push(ExpectSlot::Smtp(&mut s.greeting));
            v.extend(s.actions.iter_mut().filter_map(SmtpAction::expect_mut));
        }
        if let Some(s) = &mut self.imap {
            v.push(ExpectSlot::Imap(&mut s.greeting));
            v.extend(s.actions.iter_mut().filter_map(ImapAction::expect_mut));
        }
        if let Some(t) = &mut self.tls {
            v.extend(t.handshake.as_mut().map(|h| ExpectSlot::Tls(&mut h.expect)));
            v.extend(t.probe.as_mut().map(|p| ExpectSlot::Tls(&mut p.expect)));
            v.extend(t.probe_suites_outside_allow_list.as_mut().map(|p| ExpectSlot::Tls(&mut p.expect)));
        }
        if let Some(h) = &mut self.http {
            v.push(ExpectSlot::Http(&mut h.expect));
        }
        v
    }
}

impl SmtpAction {
    /// `None` for `expect_closed`: the action is its own expectation.
    fn expect_mut(&mut self) -> Option<ExpectSlot<'_>> {
        Some(match self {
            SmtpAction::Ehlo(a) => ExpectSlot::Smtp(&mut a.expect),
            SmtpAction::Starttls(a) | SmtpAction::Quit(a) => ExpectSlot::Smtp(&mut a.expect),
            SmtpAction::Auth(a) => ExpectSlot::Smtp(&mut a.expect),
            SmtpAction::MailFrom(a) | SmtpAction::RcptTo(a) => ExpectSlot::Smtp(&mut a.expect),
            SmtpAction::Data(a) => ExpectSlot::Smtp(&mut a.expect),
            SmtpAction::Transaction(a) => ExpectSlot::Transaction(&mut a.expect),
            SmtpAction::Command(a) => ExpectSlot::Smtp(&mut a.expect),
            SmtpAction::ExpectClosed(_) => return None,
        })
    }
}

impl ImapAction {
    /// `None` for `expect_closed`: the action is its own expectation.
    fn expect_mut(&mut self) -> Option<ExpectSlot<'_>> {
        Some(match self {
            ImapAction::Capability(a) | ImapAction::Starttls(a) | ImapAction::Logout(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Login(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Authenticate(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Select(a) | ImapAction::Examine(a) | ImapAction::Create(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::List(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::WaitFor(a) => ExpectSlot::ImapWait(&mut a.expect),
            ImapAction::Fetch(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Search(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Store(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Append(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Move(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::Command(a) => ExpectSlot::Imap(&mut a.expect),
            ImapAction::ExpectClosed(_) => return None,
        })
    }
}

impl SmtpExpect {
    /// Every text of the expectation (observations included), to render its `${…}`.
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        let mut v: Vec<&mut String> = Vec::new();
        v.extend(self.code.as_mut().map(|c| &mut c.value));
        v.extend(self.enhanced.as_mut());
        v.extend(self.text_contains.as_mut());
        v.extend(self.capabilities.as_mut().map(CapabilityExpect::texts_mut).unwrap_or_default());
        v.extend(self.challenge_contains.as_mut());
        v.extend(self.tls.as_mut().map(TlsExpect::texts_mut).unwrap_or_default());
        v.extend(self.observe.as_deref_mut().map(SmtpExpect::texts_mut).unwrap_or_default());
        v
    }
}

impl TransactionExpect {
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        self.code.as_mut().map(|c| &mut c.value).into_iter().collect()
    }
}

impl CapabilityExpect {
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        self.has.iter_mut().chain(&mut self.lacks).chain(&mut self.auth_has).collect()
    }
}

impl ImapExpect {
    /// Every text of the expectation (observations included), to render its `${…}`.
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        let mut v: Vec<&mut String> = Vec::new();
        v.extend(self.status.as_mut());
        v.extend(self.code.as_mut());
        v.extend(self.text_contains.as_mut());
        v.extend(self.capabilities.as_mut().map(CapabilityExpect::texts_mut).unwrap_or_default());
        v.extend(self.challenge_contains.as_mut());
        v.extend(self.untagged_contains.as_mut());
        v.extend(self.wait_method.as_mut());
        if let Some(m) = &mut self.matches_sent {
            v.push(&mut m.message);
            v.extend(&mut m.headers);
        }
        v.extend(self.headers.values_mut());
        v.extend(&mut self.headers_absent);
        v.extend(self.report.as_mut().map(ReportExpect::texts_mut).unwrap_or_default());
        v.extend(self.tls.as_mut().map(TlsExpect::texts_mut).unwrap_or_default());
        v.extend(self.observe.as_deref_mut().map(ImapExpect::texts_mut).unwrap_or_default());
        v
    }
}

impl ReportExpect {
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        let mut v: Vec<&mut String> = vec![&mut self.report_type];
        v.extend(&mut self.action);
        v.extend(self.status.as_mut());
        v.extend(self.envelope_id.as_mut());
        v.extend(self.original_message.as_mut());
        v.extend(self.disposition_contains.as_mut());
        v
    }
}

impl TlsExpect {
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        self.version_in.iter_mut().collect()
    }
}

impl HttpExpect {
    pub fn texts_mut(&mut self) -> Vec<&mut String> {
        let mut v: Vec<&mut String> = self.body_contains.iter_mut().collect();
        v.extend(self.header_contains.values_mut());
        v.extend(&mut self.whitelist_has);
        v.extend(&mut self.whitelist_lacks);
        v
    }
}

/// One expectation of an SMTP reply, in judging order. Verdict judges each, audit and dry-run
/// describe each: a field added to [`SmtpExpect`] is added here, and the compiler then asks
/// both for it.
#[derive(Debug, Clone, Copy)]
pub enum SmtpItem<'a> {
    Code(&'a str),
    Enhanced(&'a str),
    TextContains(&'a str),
    Capabilities(&'a CapabilityExpect),
    ChallengeContains(&'a str),
    Closes(bool),
    Tls(&'a TlsExpect),
    /// Judged and reported, never a failure.
    Observe(&'a SmtpExpect),
}

impl SmtpExpect {
    pub fn items(&self) -> Vec<SmtpItem<'_>> {
        let mut v = Vec::new();
        v.extend(self.code.as_ref().map(|c| SmtpItem::Code(&c.value)));
        v.extend(self.enhanced.as_deref().map(SmtpItem::Enhanced));
        v.extend(self.text_contains.as_deref().map(SmtpItem::TextContains));
        v.extend(self.capabilities.as_ref().map(SmtpItem::Capabilities));
        v.extend(self.challenge_contains.as_deref().map(SmtpItem::ChallengeContains));
        v.extend(self.closes.map(SmtpItem::Closes));
        v.extend(self.tls.as_ref().map(SmtpItem::Tls));
        v.extend(self.observe.as_deref().map(SmtpItem::Observe));
        v
    }
}

/// One expectation of an IMAP response, in judging order (see [`SmtpItem`]).
#[derive(Debug, Clone, Copy)]
pub enum ImapItem<'a> {
    Status(&'a str),
    Code(&'a str),
    TextContains(&'a str),
    Capabilities(&'a CapabilityExpect),
    ChallengeContains(&'a str),
    UntaggedContains(&'a str),
    Found(bool),
    CountAtLeast(u32),
    WaitMethod(&'a str),
    Closes(bool),
    /// Expectations on the fetched message (headers, comparison, report): judged together,
    /// since they all need a message.
    Message(MessageItems<'a>),
    Tls(&'a TlsExpect),
    Observe(&'a ImapExpect),
}

/// What an IMAP expectation asks of the fetched message.
#[derive(Debug, Clone, Copy)]
pub struct MessageItems<'a> {
    pub matches_sent: Option<&'a MatchesSent>,
    pub headers: &'a BTreeMap<String, String>,
    pub headers_absent: &'a [String],
    pub report: Option<&'a ReportExpect>,
}

impl ImapExpect {
    pub fn items(&self) -> Vec<ImapItem<'_>> {
        let mut v = Vec::new();
        v.extend(self.status.as_deref().map(ImapItem::Status));
        v.extend(self.code.as_deref().map(ImapItem::Code));
        v.extend(self.text_contains.as_deref().map(ImapItem::TextContains));
        v.extend(self.capabilities.as_ref().map(ImapItem::Capabilities));
        v.extend(self.challenge_contains.as_deref().map(ImapItem::ChallengeContains));
        v.extend(self.untagged_contains.as_deref().map(ImapItem::UntaggedContains));
        v.extend(self.found.map(ImapItem::Found));
        v.extend(self.count_at_least.map(ImapItem::CountAtLeast));
        v.extend(self.wait_method.as_deref().map(ImapItem::WaitMethod));
        v.extend(self.closes.map(ImapItem::Closes));
        let m = MessageItems {
            matches_sent: self.matches_sent.as_ref(),
            headers: &self.headers,
            headers_absent: &self.headers_absent,
            report: self.report.as_ref(),
        };
        if m.matches_sent.is_some() || !m.headers.is_empty() || !m.headers_absent.is_empty() || m.report.is_some() {
            v.push(ImapItem::Message(m));
        }
        v.extend(self.tls.as_ref().map(ImapItem::Tls));
        v.extend(self.observe.as_deref().map(ImapItem::Observe));
        v
    }
}

/// One expectation of a TLS handshake, in judging order (see [`SmtpItem`]).
#[derive(Debug, Clone, Copy)]
pub enum TlsItem<'a> {
    Established(bool),
    VersionIn(&'a [String]),
    ChainVerified(bool),
    SuiteAllowed(bool),
    NotRevoked(bool),
}

impl TlsExpect {
    pub fn items(&self) -> Vec<TlsItem<'_>> {
        let mut v = Vec::new();
        v.extend(self.established.map(TlsItem::Established));
        if !self.version_in.is_empty() {
            v.push(TlsItem::VersionIn(&self.version_in));
        }
        v.extend(self.chain_verified.map(TlsItem::ChainVerified));
        v.extend(self.suite_allowed.map(TlsItem::SuiteAllowed));
        v.extend(self.not_revoked.map(TlsItem::NotRevoked));
        v
    }
}

/// One expectation of an HTTP response, in judging order (see [`SmtpItem`]).
#[derive(Debug, Clone, Copy)]
pub enum HttpItem<'a> {
    Status(u16),
    BodyContains(&'a str),
    HeaderContains(&'a str, &'a str),
    /// The whitelist must list `has` and not list `lacks` (judged together: both need the
    /// document).
    Whitelist { has: &'a [String], lacks: &'a [String] },
}

impl HttpExpect {
    pub fn items(&self) -> Vec<HttpItem<'_>> {
        let mut v = Vec::new();
        v.extend(self.status.map(HttpItem::Status));
        v.extend(self.body_contains.iter().map(|t| HttpItem::BodyContains(t)));
        v.extend(self.header_contains.iter().map(|(k, t)| HttpItem::HeaderContains(k, t)));
        if !self.whitelist_has.is_empty() || !self.whitelist_lacks.is_empty() {
            v.push(HttpItem::Whitelist { has: &self.whitelist_has, lacks: &self.whitelist_lacks });
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `texts_mut` reaches every text `items` shows: an expectation with every field set to
    /// `v…` has none left once its texts are rewritten.
    #[test]
    fn texts_mut_reaches_every_text_the_items_show() {
        let imap: ImapExpect = serde_saphyr::from_str(
            "{status: v1, code: v2, text_contains: v3, capabilities: {has: [v4], lacks: [v5], auth_has: [v6]}, challenge_contains: v7, \
             untagged_contains: v8, found: true, count_at_least: 1, wait_method: v9, matches_sent: {message: v10, headers: [v11]}, \
             headers: {H: v12}, headers_absent: [v13], report: {report_type: v14, action: [v15], status: v16, envelope_id: v17, \
             original_message: v18, disposition_contains: v19}, closes: true, tls: {version_in: [v20]}, observe: {text_contains: v21}}",
        )
        .unwrap();
        let smtp: SmtpExpect = serde_saphyr::from_str(
            "{code: v1, enhanced: v2, text_contains: v3, capabilities: {has: [v4]}, challenge_contains: v5, tls: {version_in: [v6]}, observe: {enhanced: v7}}",
        )
        .unwrap();
        let http: HttpExpect = serde_saphyr::from_str("{body_contains: [v1], header_contains: {H: v2}, whitelist_has: [v3], whitelist_lacks: [v4]}").unwrap();
        fn rewrite(texts: Vec<&mut String>) {
            texts.into_iter().for_each(|t| *t = t.replace('v', "w"));
        }
        let (mut i, mut s, mut h) = (imap.clone(), smtp.clone(), http.clone());
        rewrite(i.texts_mut());
        rewrite(s.texts_mut());
        rewrite(h.texts_mut());
        for shown in [format!("{:?}", i.items()), format!("{:?}", s.items()), format!("{:?}", h.items())] {
            assert!(!shown.contains("\"v"), "a text is not reached by texts_mut: {shown}");
        }
        // And the items show every field that was set.
        assert_eq!(imap.items().len(), 13);
        assert_eq!(smtp.items().len(), 7);
        assert_eq!(http.items().len(), 3);
    }
}
