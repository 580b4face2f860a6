//! The options of `mssconf run` for nightly CI (retries, shards, fail-fast, a time budget) and
//! for live platforms (dry run, production gating), flattened into `RunArgs`.
//!
//! No option takes a secret: tokens, passwords and keys come from environment variables or files
//! named in the target profile, never from the command line (visible in `ps` and shell history).

use std::fmt;
use std::time::Duration;

use clap::Args;

use crate::plan::shard::Shard;
use crate::runner::ExecOptions;

#[derive(Debug, Args, Clone, Default)]
pub struct RunModeArgs {
    /// Run a scenario that fails or ends in error up to N more times; one that then passes is
    /// reported `flaky` (exit 0, listed apart).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Run only shard K of N of the selection: `K/N` (round robin over the sorted ids) or
    /// `hash:K/N` (stable when scenarios are added).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Start no new scenario after the first that fails or ends in error (after its retries);
    /// the others are recorded `interrupted`.
    #[arg(long)]
    pub fail_fast: bool,
    /// Start no new scenario after this time (`90s`, `10m`, `1h30m`); the others are recorded
    /// `interrupted`. Running scenarios finish (bounded by their own timeouts).
    #[arg(long, value_name = "DURATION")]
    pub max_duration: Option<MaxDuration>,
    /// Print the plan (every connection, mailbox, mechanism and message) and exit, with no
    /// network access (the embedded mock is not started).
    #[arg(long)]
    pub dry_run: bool,
    /// Run against a target marked `environment: production`; only scenarios tagged
    /// `production` may run (by default, exactly those).
    #[arg(long)]
    pub production: bool,
}

impl RunModeArgs {
    pub fn exec_options(&self, jobs: usize) -> ExecOptions {
        ExecOptions {
            jobs,
            retries: self.retries,
            fail_fast: self.fail_fast,
            deadline: self.max_duration.as_ref().map(|d| tokio::time::Instant::now() + d.duration),
            max_duration_label: self.max_duration.as_ref().map(|d| d.to_string()),
            on_finished: None,
        }
    }

    /// The options as given, for the record's `selection`.
    pub fn describe(&self) -> Vec<String> {
        let mut s = Vec::new();
        if self.retries > 0 {
            s.push(format!("--retries {}", self.retries));
        }
        if let Some(shard) = &self.shard {
            s.push(format!("--shard {shard}"));
        }
        if self.fail_fast {
            s.push("--fail-fast".into());
        }
        if let Some(d) = &self.max_duration {
            s.push(format!("--max-duration {d}"));
        }
        if self.production {
            s.push("--production".into());
        }
        s
    }
}

/// A duration as written on the command line: `500ms`, `90s`, `10m`, `2h`, `1h30m`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxDuration {
    pub text: String,
    pub duration: Duration,
}

impl fmt::Display for MaxDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad duration `{0}`; expected a number and a unit (ms, s, m, h), e.g. 90s, 10m, 1h30m, at most 7 days")]
pub struct BadDuration(pub String);

impl std::str::FromStr for MaxDuration {
    type Err = BadDuration;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadDuration(text.to_string());
        let mut total = Duration::ZERO;
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            let unit_len = rest[digits..].find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len() - digits);
            let unit = &rest[digits..digits + unit_len];
            let part = match unit {
                "ms" => Duration::from_millis(n),
                "s" => Duration::from_secs(n),
                "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
                "h" => Duration::from_secs(n.saturating_mul(3600)),
                _ => return Err(bad()),
            };
            total = total.saturating_add(part);
            rest = &rest[digits + unit_len..];
        }
        // Bounded: a deadline far beyond would overflow the clock.
        if total.is_zero() || total > Duration::from_secs(7 * 24 * 3600) {
            return Err(bad());
        }
        Ok(MaxDuration { text: text.trim().to_string(), duration: total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        let d = |t: &str| t.parse::<MaxDuration>().map(|d| d.duration);
        assert_eq!(d("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        // 18446744073709551615h would overflow the deadline: bounded at 7 days.
        assert_eq!(d("168h"), Ok(Duration::from_secs(7 * 24 * 3600)));
        for bad in ["", "10", "m", "10x", "0s", "1.5m", "-1m", "169h", "18446744073709551615h", "18446744073709551615ms"] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert_eq!("10m".parse::<MaxDuration>().unwrap().to_string(), "10m");
    }

    /// Secrets come from the environment or files only: a flag would show them in `ps`.
    #[test]
    fn no_argument_of_any_command_names_a_secret() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let mut names = vec![arg.get_id().to_string()];
                names.extend(arg.get_long().map(String::from));
                names.extend(arg.get_value_names().into_iter().flatten().map(|v| v.to_string()));
                let joined = names.join(" ").to_ascii_lowercase().replace(['-', '_'], "");
                if ["token", "password", "passwd", "passphrase", "secret", "bearer", "credential", "apikey"].iter().any(|w| joined.contains(w)) {
                    found.push(format!("{path} {}", names.join("/")));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut found = Vec::new();
        walk(&crate::cli::args::Cli::command(), "mssconf", &mut found);
        assert!(found.is_empty(), "options naming a secret: {found:?}");
    }

    #[test]
    fn selection_lists_the_options_given() {
        let args = RunModeArgs {
            retries: 2,
            shard: Some("1/3".parse().unwrap()),
            fail_fast: true,
            max_duration: Some("10m".parse().unwrap()),
            dry_run: false,
            production: false,
        };
        assert_eq!(args.describe(), ["--retries 2", "--shard 1/3", "--fail-fast", "--max-duration 10m"]);
        let o = args.exec_options(3);
        assert_eq!((o.jobs, o.retries, o.fail_fast, o.max_duration_label.as_deref()), (3, 2, true, Some("10m")));
        assert!(o.deadline.is_some());
    }
}
