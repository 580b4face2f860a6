//! What only the executor knows, given to the plan's describer (`plan::describe::ExecFacts`):
//! a message's size as the run builds it (read from the fixtures), which raw SMTP commands open
//! a message, and the key-exchange probe's offers.

use std::path::Path;

use crate::exec::message::{AttachmentData, Content, Draft, Generated, build};
use crate::fixtures::xdm;
use crate::plan::describe::ExecFacts;
use crate::scenario::interpolate::Vars;
use crate::scenario::model::{Attachment, MessageSpec};
use crate::target::model::Target;

pub struct Executor<'a> {
    pub target: &'a Target,
    pub vars: &'a Vars,
    pub fixtures: &'a serde_json::Value,
    pub fixtures_dir: &'a Path,
}

impl ExecFacts for Executor<'_> {
    fn message_size(&self, m: &MessageSpec) -> (usize, bool) {
        self.size(m)
    }

    fn opens_a_message(&self, line: &str) -> bool {
        crate::exec::submission::opens_a_message(line)
    }

    fn key_exchange_offers(&self) -> Vec<String> {
        use crate::exec::observation::KxPurpose;
        let groups = crate::exec::probe::key_exchange::STRONG_GROUPS.iter().map(|g| KxPurpose::Group(*g));
        [KxPurpose::Dhe, KxPurpose::WeakCurves].into_iter().chain(groups).map(crate::runner::scenario::describe_kx_purpose).collect()
    }
}

impl Executor<'_> {
    /// `${…}` resolved when possible, else the text as written (captured values).
    fn show(&self, text: &str) -> String {
        self.vars.render(text).unwrap_or_else(|_| text.to_string())
    }

    /// Builds the message as the run would (without sending it) when every value is known.
    fn size(&self, m: &MessageSpec) -> (usize, bool) {
        let render = |t: &str| self.vars.render(t).ok();
        let mut exact = true;
        let mut attachments = Vec::new();
        for a in &m.attachments {
            match a {
                Attachment::File(f) => {
                    let bytes = render(&f.path).and_then(|p| std::fs::read(self.fixtures_dir.join(p)).ok());
                    exact &= bytes.is_some();
                    let filename = f.filename.clone().unwrap_or_else(|| "attachment".into());
                    attachments.push(AttachmentData { filename, content_type: f.content_type.clone(), content: Content::Bytes(bytes.unwrap_or_default()) });
                }
                Attachment::Xdm(x) => {
                    let (patient, documents) = (self.show(&x.patient), x.documents.iter().map(|d| self.show(d)).collect::<Vec<_>>());
                    let bytes = xdm::build_for(self.fixtures, self.fixtures_dir, &patient, &documents).ok();
                    exact &= bytes.is_some();
                    let content_type = "application/zip".to_string();
                    attachments.push(AttachmentData { filename: xdm::FILE_NAME.into(), content_type, content: Content::Bytes(bytes.unwrap_or_default()) });
                }
                Attachment::Generated(g) => {
                    // Nothing is generated here: the size is computed from the segments.
                    let content = Content::Generated(Generated { size: g.size, seed: 0 });
                    attachments.push(AttachmentData { filename: g.filename.clone().unwrap_or_default(), content_type: "application/octet-stream".into(), content });
                }
            }
        }
        let headers: Vec<(String, String)> = m.headers.iter().map(|(k, v)| (k.clone(), self.show(v))).collect();
        exact &= [&m.from, &m.subject].iter().all(|t| render(t).is_some()) && m.headers.values().all(|v| render(v).is_some());
        let draft = Draft {
            name: m.name.value.clone(),
            from: self.show(&m.from),
            to: m.to.iter().map(|t| self.show(t)).collect(),
            subject: self.show(&m.subject),
            headers,
            body: m.body.as_ref().map(|b| self.show(b)),
            body_8bit: m.body_8bit,
            attachments,
            disposition_notification_to: m.disposition_notification_to.as_ref().map(|d| self.show(d)),
            pad_to_bytes: m.pad_to_bytes,
            mdn: m.mdn.as_ref().map(|r| crate::exec::message::mdn::MdnDraft {
                original_message_id: self.show(&r.original_message_id),
                final_recipient: self.show(&r.final_recipient),
                disposition: r.disposition.as_ref().map(|d| self.show(d)).unwrap_or_default(),
            }),
            message_id: format!("mssconf.dry-run.{}@{}", m.name.value, self.target.domain),
        };
        (build(&draft).size as usize, exact)
    }
}
