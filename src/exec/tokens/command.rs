//! `token: { command: [PROGRAM, ARG…] }`: a helper program prints the token (as git credential
//! helpers and kubectl exec plugins do). No shell; stdin is closed; `MSSCONF_MAILBOX` and
//! `MSSCONF_ROLE` say which mailbox is wanted. Its stdout is the token and is never logged; a
//! failure is reported with its exit status and the end of its stderr, secrets redacted.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::answer::{TokenAnswer, excerpt};
use crate::secret::SecretSet;
use crate::exec::error::ExecError;

/// The most bytes of stdout accepted: a token answer, not a stream.
const MAX_STDOUT: usize = 64 << 10;
/// The most bytes of stderr kept (its end is what explains a failure).
const MAX_STDERR: usize = 16 << 10;
/// How often the helper's exit is polled.
const POLL: Duration = Duration::from_millis(20);

/// Which mailbox the helper is asked for.
pub struct Request<'a> {
    pub role: &'a str,
    pub address: &'a str,
    pub timeout: Duration,
}

/// Runs the helper and reads its answer. Errors name the program, never its output.
pub async fn run(argv: &[String], req: &Request<'_>, secrets: &SecretSet) -> Result<TokenAnswer, ExecError> {
    let program = argv.first().map(String::as_str).unwrap_or("");
    let name = format!("token helper `{program}`");
    let mut cmd = Command::new(program);
    cmd.args(&argv[1..])
        .env("MSSCONF_MAILBOX", req.address)
        .env("MSSCONF_ROLE", req.role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout ends whatever it started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| ExecError::harness(format!("{name} cannot be started: {e}")))?;
    let stdout = reader(child.stdout.take(), MAX_STDOUT, false);
    let stderr = reader(child.stderr.take(), MAX_STDERR, true);
    let deadline = Instant::now() + req.timeout;
    let status = match wait(&mut child, deadline).await {
        Ok(s) => s,
        Err(e) => {
            kill(&mut child);
            return Err(e.unwrap_or_else(|| {
                ExecError::timeout(format!("{name} did not answer within {} ms (stopped)", req.timeout.as_millis()))
            }));
        }
    };
    // Outputs end with the helper, unless a child of its own keeps them open: bounded too.
    let grace = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    let out = collect(stdout, grace).await;
    let err = collect(stderr, Duration::from_millis(200)).await;
    let err_text = err.map(|(bytes, _)| excerpt(&String::from_utf8_lossy(&bytes), secrets)).unwrap_or_default();
    let said = if err_text.is_empty() { String::new() } else { format!("; its stderr ends with: {err_text}") };
    if !status.success() {
        kill(&mut child);
        return Err(ExecError::harness(format!("{name} failed ({status}){said}")));
    }
    let Some((bytes, whole)) = out else {
        kill(&mut child);
        return Err(ExecError::timeout(format!("{name} exited but its output did not end (a child of it keeps it open)")));
    };
    if !whole {
        return Err(ExecError::harness(format!("{name} printed more than {} KiB: not a token", MAX_STDOUT >> 10)));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| ExecError::harness(format!("{name} printed bytes that are not UTF-8 text")))?;
    if text.trim().is_empty() {
        return Err(ExecError::harness(format!("{name} exited 0 but printed nothing (expected the token on stdout){said}")));
    }
    TokenAnswer::from_helper_output(text).map_err(|e| ExecError::harness(format!("{name}: {e}")))
}

type Output = tokio::sync::oneshot::Receiver<(Zeroizing<Vec<u8>>, bool)>;

/// Reads a pipe on a thread of its own, keeping at most `max` bytes — the first ones, or the
/// last ones when `tail` — (`true`: all of it), so the helper never blocks on a full pipe.
fn reader(pipe: Option<impl Read + Send + 'static>, max: usize, tail: bool) -> Option<Output> {
    let mut pipe = pipe?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut kept = Zeroizing::new(Vec::new());
        let mut whole = true;
        let mut buf = Zeroizing::new([0u8; 4096]);
        loop {
            match pipe.read(&mut buf[..]) {
                Ok(0) | Err(_) => break,
                Ok(n) if kept.len() + n > max => {
                    whole = false;
                    if tail {
                        kept.extend_from_slice(&buf[..n]);
                        let extra = kept.len().saturating_sub(max);
                        kept.drain(..extra);
                    } else {
                        let room = max - kept.len();
                        kept.extend_from_slice(&buf[..room]);
                    }
                }
                Ok(n) => kept.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send((kept, whole));
    });
    Some(rx)
}

async fn collect(rx: Option<Output>, within: Duration) -> Option<(Zeroizing<Vec<u8>>, bool)> {
    tokio::time::timeout(within, rx?).await.ok()?.ok()
}

/// Polls for the helper's exit until `deadline`. `Err(None)`: timed out.
async fn wait(child: &mut Child, deadline: Instant) -> Result<ExitStatus, Option<ExecError>> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() >= deadline => return Err(None),
            Ok(None) => tokio::time::sleep(POLL).await,
            Err(e) => return Err(Some(ExecError::harness(format!("waiting for the token helper: {e}")))),
        }
    }
}

/// Ends the helper and its process group (it was started as the group's leader), and reaps it.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on the group this harness created for the helper; no memory involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::*;

    fn helper(dir: &Path, body: &str) -> Vec<String> {
        let path = dir.join("helper.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        vec![path.to_string_lossy().into_owned()]
    }

    fn req(ms: u64) -> Request<'static> {
        Request { role: "per1", address: "per1@op.test", timeout: Duration::from_millis(ms) }
    }

    #[tokio::test]
    async fn the_token_is_stdout_and_the_mailbox_is_in_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let argv = helper(dir.path(), r#"echo "tok-for-$MSSCONF_ROLE-$MSSCONF_MAILBOX""#);
        let answer = run(&argv, &req(5000), &SecretSet::new()).await.unwrap();
        assert_eq!(answer.access_token.expose(), "tok-for-per1-per1@op.test");
    }

    /// A helper that hangs is stopped at the timeout, with what it started; the error says so.
    #[tokio::test]
    async fn a_hanging_helper_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let argv = helper(dir.path(), "sleep 30 &\nsleep 30");
        let started = Instant::now();
        let e = run(&argv, &req(300), &SecretSet::new()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(e.category(), crate::exec::error::Category::Timeout);
        assert!(e.message().contains("did not answer within 300 ms"), "{e}");
    }

    #[tokio::test]
    async fn failures_name_the_cause_and_never_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let secret_out = "leaked-token-0123456789abcdef";
        let argv = helper(dir.path(), &format!("echo {secret_out}\necho 'refresh expired' >&2\necho 'got {secret_out}' >&2\nexit 3"));
        let e = run(&argv, &req(5000), &SecretSet::new()).await.unwrap_err().to_string();
        assert!(e.contains("failed (exit status: 3)") && e.contains("refresh expired"), "{e}");
        assert!(!e.contains(secret_out), "{e}");
        // A long stderr: its end is quoted.
        let argv = helper(dir.path(), "head -c 40000 /dev/zero | tr '\\0' x >&2\necho >&2\necho 'the real cause' >&2\nexit 1");
        let e = run(&argv, &req(5000), &SecretSet::new()).await.unwrap_err().to_string();
        assert!(e.contains("the real cause"), "{e}");
        let argv = helper(dir.path(), "echo 'no session' >&2");
        let e = run(&argv, &req(5000), &SecretSet::new()).await.unwrap_err().to_string();
        assert!(e.contains("printed nothing") && e.contains("no session"), "{e}");
        let e = run(&["/nonexistent/mssconf-helper".into()], &req(5000), &SecretSet::new()).await.unwrap_err().to_string();
        assert!(e.contains("cannot be started"), "{e}");
        let argv = helper(dir.path(), "head -c 100000 /dev/zero | tr '\\0' a");
        let e = run(&argv, &req(5000), &SecretSet::new()).await.unwrap_err().to_string();
        assert!(e.contains("more than 64 KiB"), "{e}");
    }
}
