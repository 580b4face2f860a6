//! The async runtime a subcommand runs on, started in one place: a runtime that cannot start is
//! said the same way everywhere (`error: cannot start the async runtime: …`) and exits with
//! [`exit_code::CONFIG`].

use std::future::Future;

use tokio::runtime::{Builder, Runtime};

use crate::exit_code;

/// How many threads the runtime has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// Runs, audits, the embedded mock, benches: many connections at once.
    Multi,
    /// A few requests in turn (preflight's network checks, a dossier's links).
    Current,
}

/// The runtime (timers and IO enabled), or why it could not start.
pub fn build(threads: Threads) -> Result<Runtime, String> {
    let mut builder = match threads {
        Threads::Multi => Builder::new_multi_thread(),
        Threads::Current => Builder::new_current_thread(),
    };
    builder.enable_all().build().map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// [`build`]; a failure is said on stderr (`error: …`) and becomes the exit code to return.
pub fn start(threads: Threads) -> Result<Runtime, i32> {
    build(threads).map_err(|e| {
        eprintln!("error: {e}");
        exit_code::CONFIG
    })
}

/// Runs a subcommand's future on a fresh runtime: its exit code, or the runtime's failure's.
pub fn block_on(threads: Threads, main: impl Future<Output = i32>) -> i32 {
    match start(threads) {
        Ok(rt) => rt.block_on(main),
        Err(code) => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both kinds run a future to its exit code, with timers and sockets enabled.
    #[test]
    fn a_subcommand_runs_to_its_exit_code() {
        for threads in [Threads::Multi, Threads::Current] {
            let code = block_on(threads, async {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                if listener.local_addr().is_ok() { 7 } else { 0 }
            });
            assert_eq!(code, 7, "{threads:?}");
        }
    }
}
