//! Child processes measured by the bench: a mock operator serving in the background, and a
//! `mssconf` run whose peak RSS (from `wait4`, so nothing is missed at exit) and wall time
//! are the figure.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a measured child did.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub success: bool,
    /// Peak resident set size, in bytes.
    pub peak_rss: u64,
    pub wall: Duration,
    /// The end of its stderr, for a failure's reason.
    pub stderr_tail: String,
}

/// Runs `cmd` to its end (killed after `limit`), measuring its peak RSS and wall time.
pub fn run_measured(mut cmd: Command, limit: Duration) -> Result<ChildRun, String> {
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        })
    });
    let waited = wait_with_rusage(&mut child, limit);
    let wall = started.elapsed();
    let text = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let (status, peak_rss) = waited?;
    let tail: String = text
        .lines()
        .rev()
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(" | ");
    Ok(ChildRun {
        success: status == 0,
        peak_rss,
        wall,
        stderr_tail: tail,
    })
}

/// Reaps `child` with `wait4`, polling so the wait is bounded: (exit code, peak RSS in bytes).
fn wait_with_rusage(child: &mut Child, limit: Duration) -> Result<(i32, u64), String> {
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + limit;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `rusage` is plain data that wait4 fills; `pid` is our own unreaped child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            // Linux reports ru_maxrss in KiB.
            return Ok((code, usage.ru_maxrss.max(0) as u64 * 1024));
        }
        if reaped < 0 {
            return Err(format!("wait4 failed: {}", std::io::Error::last_os_error()));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the child did not finish within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What a child whose output went to log files cost (see [`measure`]).
#[derive(Debug, Clone)]
pub struct LoggedRun {
    pub wall: Duration,
    /// Peak resident set size of the child alone, in bytes.
    pub max_rss: u64,
    /// Exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl LoggedRun {
    pub fn max_rss_mb(&self) -> f64 {
        self.max_rss as f64 / (1024.0 * 1024.0)
    }

    /// The last lines of its stderr, for a reason line.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join(" | ")
    }
}

/// Runs `exe args` in `cwd` with stdout/stderr into `<logs>.stdout` / `<logs>.stderr`; killed
/// after `limit`. Blocking: call it from `spawn_blocking` in async code.
pub fn measure(exe: &Path, args: &[&str], cwd: &Path, logs: &Path, limit: Duration) -> Result<LoggedRun, String> {
    let stdout = logs.with_extension("stdout");
    let stderr = logs.with_extension("stderr");
    let open = |p: &Path| std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()));
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(open(&stdout)?)
        .stderr(open(&stderr)?)
        .env_remove("MSSCONF_MOCK_FAULTS")
        .env_remove("MSSCONF_MOCK_BEHAVIOURS");
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let (code, max_rss) = wait_with_rusage(&mut child, limit)
        .map_err(|e| format!("{} {}: {e} (killed)", exe.display(), args.join(" ")))?;
    let code = (code >= 0).then_some(code);
    Ok(LoggedRun { wall: start.elapsed(), max_rss, code, stdout, stderr })
}

/// The median of `samples` (the middle one; the upper middle for an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// A `mssconf mock` child serving until [`MockChild::stop`].
pub struct MockChild {
    child: Child,
    profile: PathBuf,
}

/// Starts `exe mock` with its PKI and target profile under `dir`, waiting (20 s at most) until
/// it has written the profile.
pub fn start_mock(exe: &Path, dir: &Path, extra: &[&str]) -> Result<MockChild, String> {
    let profile = dir.join("mock-target.yaml");
    let _ = std::fs::remove_file(&profile);
    let mut child = Command::new(exe)
        .arg("mock")
        .arg("--write-target")
        .arg(&profile)
        .arg("--pki-dir")
        .arg(dir.join("pki"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the mock operator: {e}"))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err("the mock operator's output is not readable".into());
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("target profile written") {
                let _ = tx.send(());
            }
        }
    });
    let mut mock = MockChild { child, profile };
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => Ok(mock),
        Err(_) => {
            mock.kill();
            Err("the mock operator did not come up within 20 s".into())
        }
    }
}

impl MockChild {
    pub fn profile(&self) -> &Path {
        &self.profile
    }

    /// SIGTERM, then a kill if it has not stopped within 5 s.
    pub fn stop(mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MockChild {
    /// A mock left running by an early return is stopped, never orphaned.
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            self.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_measured() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo oops >&2; exit 3"]).stderr(Stdio::piped());
        let run = run_measured(cmd, Duration::from_secs(10)).unwrap();
        assert!(!run.success && run.peak_rss > 0 && run.stderr_tail == "oops", "{run:?}");
        let mut cmd = Command::new("sleep");
        cmd.arg("5");
        let started = Instant::now();
        assert!(run_measured(cmd, Duration::from_millis(100)).is_err());
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn measures_wall_time_rss_and_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let run = measure(Path::new("/bin/sh"), &["-c", "sleep 0.2; echo hi; exit 3"], dir.path(), &dir.path().join("sh"), Duration::from_secs(10)).unwrap();
        assert_eq!(run.code, Some(3));
        assert!(run.wall >= Duration::from_millis(200), "{:?}", run.wall);
        assert!(run.max_rss > 100 * 1024, "a shell uses more than 100 KB: {}", run.max_rss);
        assert_eq!(std::fs::read_to_string(&run.stdout).unwrap(), "hi\n");
    }

    #[test]
    fn rss_is_the_childs_own() {
        // A child that touches 64 MB must report at least that; the test process is not counted.
        let dir = tempfile::tempdir().unwrap();
        let script = "import sys; b = bytearray(64 * 1024 * 1024); sys.exit(0)";
        let Ok(run) = measure(Path::new("python3"), &["-c", script], dir.path(), &dir.path().join("py"), Duration::from_secs(20)) else {
            return; // no python3 on this machine: nothing to compare with
        };
        assert_eq!(run.code, Some(0));
        assert!(run.max_rss_mb() >= 64.0, "{}", run.max_rss_mb());
    }

    #[test]
    fn a_child_past_its_limit_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let err = measure(Path::new("/bin/sleep"), &["30"], dir.path(), &dir.path().join("s"), Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("killed"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn median_takes_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
