//! What a command produces: untagged responses, then one tagged status.

use imap_types::core::{Tag, Text};
use imap_types::response::{Code, CodeOther, Data, Response, Status, StatusBody, StatusKind, Tagged};

#[derive(Debug)]
pub struct Outcome {
    pub untagged: Vec<Response<'static>>,
    pub kind: StatusKind,
    pub code: Option<Code<'static>>,
    pub text: String,
}

impl Outcome {
    fn new(kind: StatusKind, text: impl Into<String>) -> Self {
        Outcome { untagged: Vec::new(), kind, code: None, text: text.into() }
    }

    pub fn ok(text: impl Into<String>) -> Self {
        Self::new(StatusKind::Ok, text)
    }

    pub fn no(text: impl Into<String>) -> Self {
        Self::new(StatusKind::No, text)
    }

    pub fn bad(text: impl Into<String>) -> Self {
        Self::new(StatusKind::Bad, text)
    }

    pub fn with_code(mut self, code: Code<'static>) -> Self {
        self.code = Some(code);
        self
    }

    pub fn data(&mut self, data: Data<'static>) {
        self.untagged.push(Response::Data(data));
    }

    /// An untagged `* OK [code] text`.
    pub fn notice(&mut self, code: Code<'static>, text: &str) {
        self.untagged.push(Response::Status(Status::Untagged(StatusBody {
            kind: StatusKind::Ok,
            code: Some(code),
            text: text_of(text),
        })));
    }

    pub fn tagged(&self, tag: Tag<'static>) -> Status<'static> {
        Status::Tagged(Tagged {
            tag,
            body: StatusBody { kind: self.kind, code: self.code.clone(), text: text_of(&self.text) },
        })
    }
}

/// Response text; our own texts are always valid, anything else degrades to a fixed word.
pub fn text_of(s: &str) -> Text<'static> {
    Text::try_from(s.to_string()).unwrap_or_else(|_| Text::unvalidated("done"))
}

/// A response code imap-types has no variant for (`AUTHENTICATIONFAILED`, `PRIVACYREQUIRED`…).
pub fn code(name: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(name.as_bytes()))
}
