//! Drives imap-next's sans-I/O `Server` over a `Transport`: writes what it queues, reads what
//! it needs, with a timeout on every read.
//!
//! `next_event` is cancel-safe (IDLE races it against the store's delivery channel): pending
//! output lives in `self.out` and is consumed only as far as it was written, and a read hands its
//! bytes to the server in the same poll it completes.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use imap_next::server::{Error as ServerError, Event, Server};
use imap_next::{Interrupt, Io, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::transport::Transport;
use super::wirelog::{Direction, WireLog};

/// What the client did next.
#[derive(Debug)]
pub enum Input {
    Event(Event),
    /// Bytes the codec could not parse (already discarded by the server).
    Malformed(ServerError),
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("client closed the connection")]
    Closed,
    #[error("client sent nothing for {0:?}")]
    Timeout(Duration),
    #[error("network error: {0}")]
    Io(#[from] io::Error),
}

pub struct Wire {
    transport: Transport,
    /// Server bytes not written yet.
    out: VecDeque<u8>,
    /// An input already taken from the server, kept here until the output before it is written
    /// (so that a cancelled `next_event` loses nothing).
    ready: Option<Input>,
    pub log: WireLog,
}

impl Wire {
    pub fn new(transport: Transport, log: WireLog) -> Self {
        Wire { transport, out: VecDeque::new(), ready: None, log }
    }

    pub fn into_parts(self) -> (Transport, WireLog) {
        (self.transport, self.log)
    }

    /// Sends everything the server queued, then waits (at most `timeout` per read) for the
    /// client's next command, SASL response or IDLE DONE.
    pub async fn next_event(&mut self, server: &mut Server, timeout: Duration) -> Result<Input, WireError> {
        loop {
            if self.ready.is_some() {
                self.flush().await?;
                if let Some(input) = self.ready.take() {
                    return Ok(input);
                }
            }
            match server.next() {
                Ok(Event::GreetingSent { .. } | Event::ResponseSent { .. }) => {}
                Ok(event) => self.ready = Some(Input::Event(event)),
                Err(Interrupt::Io(Io::Output(bytes))) => self.queue(&bytes),
                Err(Interrupt::Io(Io::NeedMoreInput)) => {
                    self.flush().await?;
                    self.read_into(server, timeout).await?;
                }
                Err(Interrupt::Error(error)) => self.ready = Some(Input::Malformed(error)),
            }
        }
    }

    /// Sends what the server queued without waiting for the client; any input already received
    /// is dropped with the server (used before STARTTLS and LOGOUT, after which the server is
    /// discarded).
    pub async fn flush_queued(&mut self, server: &mut Server) -> Result<(), WireError> {
        loop {
            match server.next() {
                Ok(Event::GreetingSent { .. } | Event::ResponseSent { .. }) => {}
                Err(Interrupt::Io(Io::Output(bytes))) => self.queue(&bytes),
                // Nothing left to send: the server now waits for, or already parses, input.
                _ => break,
            }
        }
        self.flush().await
    }

    /// Writes bytes outside the codec (the `garbage` fault's malformed line).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        self.queue(bytes);
        self.flush().await
    }

    /// Fault `oversized-line`: pending output, then `prefix` and megabytes without a line end,
    /// held until the client leaves.
    pub async fn endless_line(&mut self, prefix: &[u8]) -> Result<(), WireError> {
        self.flush().await?;
        crate::misbehave::send_endless_line(&mut self.transport, prefix).await;
        Ok(())
    }

    /// Fault `tls-alert-mid-session`: a fatal TLS alert, then the connection closes.
    pub async fn fatal_alert(&mut self) -> Result<(), WireError> {
        self.flush().await?;
        if let Transport::Tls(tls) = &mut self.transport {
            crate::misbehave::send_fatal_alert(tls).await?;
        }
        Ok(())
    }

    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.transport.shutdown()).await;
    }

    fn queue(&mut self, bytes: &[u8]) {
        self.log.bytes(Direction::Server, bytes);
        self.out.extend(bytes);
    }

    async fn flush(&mut self) -> Result<(), WireError> {
        while !self.out.is_empty() {
            let (chunk, _) = self.out.as_slices();
            let n = self.transport.write(chunk).await?;
            if n == 0 {
                return Err(WireError::Closed);
            }
            self.out.drain(..n);
        }
        self.transport.flush().await?;
        Ok(())
    }

    async fn read_into(&mut self, server: &mut Server, timeout: Duration) -> Result<(), WireError> {
        let mut buf = [0u8; 16 * 1024];
        let n = tokio::time::timeout(timeout, self.transport.read(&mut buf))
            .await
            .map_err(|_| WireError::Timeout(timeout))??;
        if n == 0 {
            return Err(WireError::Closed);
        }
        self.log.bytes(Direction::Client, &buf[..n]);
        server.enqueue_input(&buf[..n]);
        Ok(())
    }
}

/// Skips the greeting a fresh `Server` always queues (after STARTTLS none may be sent).
pub fn discard_greeting(server: &mut Server) {
    for _ in 0..4 {
        match server.next() {
            Ok(Event::GreetingSent { .. }) => return,
            Err(Interrupt::Io(Io::Output(_))) => {}
            _ => return,
        }
    }
}
