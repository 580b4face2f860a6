//! Commands by session state (RFC 3501 §6): any state, not authenticated, authenticated,
//! selected.

use std::num::NonZeroU32;

use imap_types::command::{Command, CommandBody};
use imap_types::core::Tag;
use imap_types::extensions::binary::LiteralOrLiteral8;
use imap_types::response::{Data, Status};

use super::folders;
use super::messages;
use super::outcome::Outcome;
use super::session::{Flow, Session, State};
use super::view::View;
use super::{fetch, search};

impl Session {
    pub async fn on_command(&mut self, command: Command<'static>) -> Flow {
        let Command { tag, body } = command;
        match body {
            CommandBody::Capability => {
                let mut outcome = Outcome::ok("CAPABILITY completed");
                outcome.data(self.capability_data());
                self.respond(tag, outcome);
            }
            CommandBody::Noop => {
                let mut outcome = Outcome::ok("NOOP completed");
                self.report_changes(&mut outcome, true);
                self.respond(tag, outcome);
            }
            CommandBody::Logout => {
                if let Ok(bye) = Status::bye(None, "Logging out") {
                    self.server.enqueue_status(bye);
                }
                self.respond(tag, Outcome::ok("LOGOUT completed"));
                let _ = self.wire.flush_queued(&mut self.server).await;
                self.wire.shutdown().await;
                return Flow::Close;
            }
            CommandBody::StartTLS => return self.starttls(tag),
            CommandBody::Login { .. } => {
                let refusal = self.login_refusal();
                self.respond(tag, refusal);
            }
            body => {
                let outcome = match self.state.mailbox().map(str::to_string) {
                    None => Outcome::bad("Command not valid before authentication"),
                    Some(mailbox) => self.authenticated(&mailbox, body),
                };
                self.respond(tag, outcome);
            }
        }
        Flow::Continue
    }

    fn starttls(&mut self, tag: Tag<'static>) -> Flow {
        if self.secure() {
            self.respond(tag, Outcome::bad("TLS is already active"));
            Flow::Continue
        } else if self.state.mailbox().is_some() {
            self.respond(tag, Outcome::bad("STARTTLS is only valid before authentication"));
            Flow::Continue
        } else {
            self.respond(tag, Outcome::ok("Begin TLS negotiation now"));
            Flow::StartTls
        }
    }

    /// Commands of the authenticated and selected states.
    fn authenticated(&mut self, mailbox: &str, body: CommandBody<'static>) -> Outcome {
        let store = self.ctx.store.clone();
        let mut outcome = match body {
            CommandBody::Select { mailbox: folder, .. } => return self.select(mailbox, &folder, false),
            CommandBody::Examine { mailbox: folder, .. } => return self.select(mailbox, &folder, true),
            CommandBody::Create { mailbox: folder } => folders::create(&store, mailbox, &folder),
            CommandBody::Delete { mailbox: folder } => folders::delete(&store, mailbox, &folder),
            CommandBody::List { reference, mailbox_wildcard } => {
                folders::list(&store, mailbox, &reference, &mailbox_wildcard, false)
            }
            CommandBody::Lsub { reference, mailbox_wildcard } => {
                folders::list(&store, mailbox, &reference, &mailbox_wildcard, true)
            }
            CommandBody::Subscribe { .. } | CommandBody::Unsubscribe { .. } => Outcome::ok("Every folder is subscribed"),
            CommandBody::Status { mailbox: folder, item_names } => folders::status(&store, mailbox, &folder, &item_names),
            CommandBody::Append { mailbox: folder, flags, date, message } => {
                let raw = match message {
                    LiteralOrLiteral8::Literal(l) => l.into_inner().into_owned(),
                    LiteralOrLiteral8::Literal8(l) => l.data.into_owned(),
                };
                let date = date.map(|d| d.as_ref().with_timezone(&chrono::Utc));
                let (outcome, appended) =
                    folders::append(&store, mailbox, &folder, &flags, date, raw, self.ctx.max_message_size);
                if let Some(a) = appended {
                    store.announce(mailbox, &a.folder, a.uid);
                }
                outcome
            }
            CommandBody::Enable { .. } => {
                let mut outcome = Outcome::ok("ENABLE completed");
                outcome.data(Data::Enabled { capabilities: Vec::new() });
                outcome
            }
            CommandBody::Check if self.selected_folder().is_some() => {
                let mut outcome = Outcome::ok("CHECK completed");
                self.report_changes(&mut outcome, true);
                outcome
            }
            CommandBody::Rename { .. } => Outcome::no("RENAME is not supported by this server"),
            CommandBody::Authenticate { .. } | CommandBody::Login { .. } => Outcome::bad("Already authenticated"),
            body => self.selected(mailbox, body),
        };
        self.report_changes(&mut outcome, false);
        outcome
    }

    fn select(&mut self, mailbox: &str, folder: &imap_types::mailbox::Mailbox<'_>, read_only: bool) -> Outcome {
        // A SELECT first leaves the selected folder, whether or not the new one opens.
        self.state = State::Authenticated { mailbox: mailbox.to_string() };
        let (outcome, view) = folders::select(&self.ctx.store, mailbox, folder, read_only);
        if let Some(view) = view {
            self.state = State::Selected { mailbox: mailbox.to_string(), view };
        }
        outcome
    }

    /// Commands that need a selected folder.
    fn selected(&mut self, mailbox: &str, body: CommandBody<'static>) -> Outcome {
        let store = self.ctx.store.clone();
        let State::Selected { view, .. } = &mut self.state else {
            return match body {
                CommandBody::Check
                | CommandBody::Close
                | CommandBody::Unselect
                | CommandBody::Expunge
                | CommandBody::ExpungeUid { .. }
                | CommandBody::Search { .. }
                | CommandBody::Fetch { .. }
                | CommandBody::Store { .. }
                | CommandBody::Copy { .. }
                | CommandBody::Move { .. } => Outcome::bad("No folder selected"),
                _ => Outcome::bad("Command not supported by this server"),
            };
        };
        match body {
            CommandBody::Fetch { sequence_set, macro_or_item_names, uid, .. } => {
                fetch::fetch(&store, mailbox, view, &sequence_set, uid, &macro_or_item_names)
            }
            CommandBody::Search { charset, criteria, uid } => {
                search::search(&store, mailbox, view, charset.as_ref(), criteria.as_ref(), uid)
            }
            CommandBody::Store { sequence_set, kind, response, flags, uid, .. } => {
                let change = messages::FlagChange::new(kind, response, &flags);
                messages::store_flags(&store, mailbox, view, &sequence_set, uid, &change)
            }
            CommandBody::Copy { sequence_set, mailbox: dest, uid } => {
                let (outcome, copied) = messages::copy(&store, mailbox, view, &sequence_set, uid, &dest, false);
                announce(&store, mailbox, copied.as_ref());
                outcome
            }
            CommandBody::Move { sequence_set, mailbox: dest, uid } => {
                let (mut outcome, copied) = messages::copy(&store, mailbox, view, &sequence_set, uid, &dest, true);
                if let Some(copied) = &copied {
                    push_expunges(&mut outcome, view.forget(&copied.moved_uids));
                }
                announce(&store, mailbox, copied.as_ref());
                outcome
            }
            CommandBody::Expunge | CommandBody::ExpungeUid { .. } => {
                if view.read_only {
                    return Outcome::no("Folder is read-only (EXAMINE)");
                }
                let only = match &body {
                    CommandBody::ExpungeUid { sequence_set } => Some(sequence_set),
                    _ => None,
                };
                let gone = messages::expunge(&store, mailbox, view, only);
                let mut outcome = Outcome::ok("EXPUNGE completed");
                push_expunges(&mut outcome, view.forget(&gone));
                outcome
            }
            CommandBody::Close | CommandBody::Unselect => {
                if matches!(body, CommandBody::Close) && !view.read_only {
                    messages::expunge(&store, mailbox, view, None);
                }
                self.state = State::Authenticated { mailbox: mailbox.to_string() };
                Outcome::ok("Folder closed")
            }
            _ => Outcome::bad("Command not supported by this server"),
        }
    }

    /// Adds what changed in the selected folder since the session last said: new messages
    /// (`EXISTS`) always, expunges by other sessions only when `expunges` (NOOP, CHECK, IDLE).
    pub fn report_changes(&mut self, outcome: &mut Outcome, expunges: bool) {
        for data in self.changes(expunges) {
            outcome.data(data);
        }
    }

    pub fn changes(&mut self, expunges: bool) -> Vec<Data<'static>> {
        let store = self.ctx.store.clone();
        let State::Selected { mailbox, view } = &mut self.state else { return Vec::new() };
        let mut out = Vec::new();
        if expunges {
            out.extend(view.take_expunged(&store, mailbox).into_iter().filter_map(NonZeroU32::new).map(Data::Expunge));
        }
        if let Some(exists) = view.take_new(&store, mailbox) {
            out.push(Data::Exists(exists));
        }
        out
    }

    pub fn selected_folder(&self) -> Option<&View> {
        match &self.state {
            State::Selected { view, .. } => Some(view),
            _ => None,
        }
    }
}

fn push_expunges(outcome: &mut Outcome, seqs: Vec<u32>) {
    for seq in seqs.into_iter().filter_map(NonZeroU32::new) {
        outcome.data(Data::Expunge(seq));
    }
}

/// Tells IDLE sessions about copies (the store announces SMTP deliveries itself).
fn announce(store: &crate::store::Store, mailbox: &str, copied: Option<&messages::Copied>) {
    if let Some(copied) = copied {
        for &uid in &copied.new_uids {
            store.announce(mailbox, &copied.folder, uid);
        }
    }
}
