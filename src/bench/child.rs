//! Measuring one child process: wall time and its own peak RSS (`wait4` rusage, Linux), with a
//! time limit. Peak memory must be the child's: the bench process itself holds other figures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one child process cost.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub wall: Duration,
    /// Peak resident set size of the child alone, in bytes.
    pub max_rss: u64,
    /// Exit code; `None` when a signal ended it (or the time limit did).
    pub code: Option<i32>,
    /// Where its stdout and stderr went.
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl ChildRun {
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
pub fn measure(exe: &Path, args: &[&str], cwd: &Path, logs: &Path, limit: Duration) -> Result<ChildRun, String> {
    let stdout = logs.with_extension("stdout");
    let stderr = logs.with_extension("stderr");
    let open = |p: &Path| std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()));
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(open(&stdout)?)
        .stderr(open(&stderr)?)
        .env_remove("MSSCONF_MOCK_FAULTS");
    let start = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    // wait4 blocks; it runs on its own thread so the time limit can kill the child.
    let waiter = std::thread::spawn(move || {
        let r = wait_rusage(pid);
        let _ = tx.send(Instant::now());
        r
    });
    let end = match rx.recv_timeout(limit) {
        Ok(end) => end,
        Err(_) => {
            // Our own child, not reaped yet (the waiter reaps it): its pid cannot be reused.
            // SAFETY: kill(2) with a pid we spawned and a constant signal.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = waiter.join();
            return Err(format!("{} {} did not finish within {} s (killed)", exe.display(), args.join(" "), limit.as_secs()));
        }
    };
    let (status, max_rss) = waiter.join().map_err(|_| "the wait thread panicked".to_string())??;
    drop(child);
    Ok(ChildRun { wall: end - start, max_rss, code: exit_code(status), stdout, stderr })
}

/// Reaps `pid`: its wait status and peak RSS in bytes.
fn wait_rusage(pid: libc::pid_t) -> Result<(i32, u64), String> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value and wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals, a pid we spawned.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            // Linux reports ru_maxrss in kilobytes.
            return Ok((status, (usage.ru_maxrss.max(0) as u64) * 1024));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4({pid}): {err}"));
        }
    }
}

fn exit_code(status: i32) -> Option<i32> {
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

/// The median of `samples` (the middle one; the upper middle for an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
