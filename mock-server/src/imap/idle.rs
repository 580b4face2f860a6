//! IDLE (RFC 2177): push `EXISTS` as soon as the store announces a delivery into the selected
//! folder, until DONE or the idle timeout.

use imap_next::server::Event;
use imap_types::core::Tag;
use imap_types::response::{CommandContinuationRequest, Status};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::faults::Fault;
use crate::store::Delivery;

use super::outcome::Outcome;
use super::session::{Flow, Session};
use super::wire::{Input, WireError};

enum Step {
    Input(Result<Input, WireError>),
    Delivery(Result<Delivery, RecvError>),
}

impl Session {
    pub async fn idle(&mut self, tag: Tag<'static>) -> Flow {
        if self.ctx.faults.is_on(Fault::NoIdle) {
            let _ = self.server.idle_reject(Outcome::bad("IDLE is not supported").tagged(tag));
            return Flow::Continue;
        }
        let Some(mailbox) = self.state.mailbox().map(str::to_ascii_lowercase) else {
            let _ = self.server.idle_reject(Outcome::bad("Command not valid before authentication").tagged(tag));
            return Flow::Continue;
        };
        // Subscribe before accepting: nothing delivered from here on can be missed.
        let mut deliveries = self.ctx.store.subscribe();
        let Ok(accepted) = CommandContinuationRequest::basic(None, "idling") else { return Flow::Close };
        let _ = self.server.idle_accept(accepted);
        self.push_changes(true);
        let deadline = Instant::now() + self.options.idle_timeout;
        let mut listening = true;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let step = tokio::select! {
                input = self.wire.next_event(&mut self.server, left) => Step::Input(input),
                delivery = deliveries.recv(), if listening => Step::Delivery(delivery),
            };
            match step {
                Step::Input(Ok(Input::Event(Event::IdleDoneReceived))) => {
                    if self.before_response().await.is_err() {
                        return Flow::Close;
                    }
                    let mut outcome = Outcome::ok("IDLE terminated");
                    self.report_changes(&mut outcome, true);
                    self.respond(tag, outcome);
                    return Flow::Continue;
                }
                Step::Input(Ok(Input::Malformed(_))) => {
                    if let Ok(bad) = Status::bad(None, None, "Expected DONE") {
                        self.server.enqueue_status(bad);
                    }
                }
                Step::Input(Ok(Input::Event(_))) => {}
                Step::Input(Err(WireError::Timeout(_))) => {
                    self.bye("IDLE timed out").await;
                    return Flow::Close;
                }
                Step::Input(Err(e)) => {
                    self.wire.log.note(&format!("session ends during IDLE: {e}"));
                    return Flow::Close;
                }
                Step::Delivery(Ok(delivery)) => {
                    let here = self.selected_folder().is_some_and(|v| v.folder == delivery.folder);
                    if here && delivery.address == mailbox {
                        self.push_changes(false);
                    }
                }
                // Missed announcements: look at the folder itself.
                Step::Delivery(Err(RecvError::Lagged(_))) => self.push_changes(false),
                Step::Delivery(Err(RecvError::Closed)) => listening = false,
            }
        }
    }

    /// Queues the folder's changes now (they leave with the next `next_event`).
    fn push_changes(&mut self, expunges: bool) {
        for data in self.changes(expunges) {
            self.server.enqueue_data(data);
        }
    }
}
