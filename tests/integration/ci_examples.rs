//! The CI examples under docs/ci parse as YAML, and every `mssconf …` and `cargo …` command in
//! their shell parts (`run:`, `script:`) names a subcommand and flags that exist: mssconf's are
//! looked up in its clap definition, cargo's in `cargo <subcommand> --help`.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use serde_json::Value;

use super::root;

/// Keys whose values are shell: GitHub Actions `run`, GitLab CI `script` and friends.
const SHELL_KEYS: [&str; 4] = ["run", "script", "before_script", "after_script"];

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs/ci"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Every shell text of the document.
fn shell_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (SHELL_KEYS.contains(&k.as_str()), v) {
                    (true, Value::String(s)) => out.push(s.clone()),
                    (true, Value::Array(items)) => out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string))),
                    _ => shell_texts(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| shell_texts(i, out)),
        _ => {}
    }
}

/// Shell words, quotes removed; `;`, `&&`, `||`, `|`, `(`, `)` and newlines become `;`.
fn words(script: &str) -> Vec<String> {
    let script = script.replace("\\\n", " ");
    let (mut out, mut word, mut quote) = (Vec::new(), String::new(), None::<char>);
    let mut chars = script.chars().peekable();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, ' ' | '\t') => flush(&mut word, &mut out),
            (None, ';' | '\n' | '|' | '&' | '(' | ')') => {
                flush(&mut word, &mut out);
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                out.push(";".into());
            }
            (None, c) => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The commands (word lists) of a script whose program is `mssconf` (any path) or `cargo`.
fn commands(script: &str) -> Vec<Vec<String>> {
    let keywords = ["if", "then", "else", "elif", "do", "while", "!", "time", "exec"];
    words(script)
        .split(|w| w == ";")
        .map(|c| c.iter().skip_while(|w| keywords.contains(&w.as_str()) || (w.contains('=') && !w.starts_with('-'))).cloned().collect::<Vec<_>>())
        .filter(|c| c.first().is_some_and(|p| p == "cargo" || Path::new(p).file_name().is_some_and(|n| n == "mssconf")))
        .collect()
}

/// `Err(why)` when the command names an unknown mssconf subcommand or flag.
fn check_mssconf(args: &[String]) -> Result<(), String> {
    let mut cmd = mssconf::cli::args::Cli::command();
    cmd.build();
    let mut current = &cmd;
    let mut positional_seen = false;
    for a in &args[1..] {
        if let Some(long) = a.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or("");
            let known = name == "help" || current.get_arguments().any(|x| x.get_long() == Some(name) || x.get_all_aliases().is_some_and(|al| al.contains(&name)));
            if !known {
                return Err(format!("`{}`: unknown flag --{name} of `{}`", args.join(" "), current.get_name()));
            }
        } else if let Some(short) = a.strip_prefix('-').filter(|s| s.len() == 1).and_then(|s| s.chars().next()) {
            if short != 'h' && !current.get_arguments().any(|x| x.get_short() == Some(short)) {
                return Err(format!("`{}`: unknown flag -{short}", args.join(" ")));
            }
        } else if !positional_seen && current.has_subcommands() {
            match current.find_subcommand(a) {
                Some(sub) => current = sub,
                None if current.get_name() == cmd.get_name() => return Err(format!("`{}`: unknown subcommand `{a}`", args.join(" "))),
                None => positional_seen = true,
            }
        } else {
            positional_seen = true;
        }
    }
    if current.get_name() == cmd.get_name() {
        return Err(format!("`{}`: no subcommand", args.join(" ")));
    }
    Ok(())
}

/// `Err(why)` when `cargo <sub> --help` fails or does not list a flag the command uses.
fn check_cargo(args: &[String]) -> Result<(), String> {
    let sub = args.get(1).ok_or("bare `cargo`")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo).args([sub.as_str(), "--help"]).output().map_err(|e| e.to_string())?;
    let help = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("`{}`: cargo has no subcommand `{sub}`", args.join(" ")));
    }
    for flag in args[2..].iter().filter(|a| a.starts_with("--")) {
        let name = flag.split('=').next().unwrap_or("");
        if !help.split(|c: char| !(c.is_alphanumeric() || c == '-')).any(|w| w == name) {
            return Err(format!("`{}`: `cargo {sub}` has no flag {name}", args.join(" ")));
        }
    }
    Ok(())
}

#[test]
fn ci_examples_parse_and_name_commands_that_exist() {
    let files = examples();
    assert!(files.len() >= 2, "{files:?}");
    let mut problems = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let doc: Value = serde_saphyr::from_str(&source).unwrap_or_else(|e| panic!("{}: not YAML: {e}", file.display()));
        let mut scripts = Vec::new();
        shell_texts(&doc, &mut scripts);
        let found: Vec<Vec<String>> = scripts.iter().flat_map(|s| commands(s)).collect();
        let mssconf_count = found.iter().filter(|c| c[0] != "cargo").count();
        assert!(mssconf_count >= 3 && found.len() > mssconf_count, "{}: too few commands found: {found:?}", file.display());
        for c in &found {
            let checked = if c[0] == "cargo" { check_cargo(c) } else { check_mssconf(c) };
            if let Err(why) = checked {
                problems.push(format!("{}: {why}", file.display()));
            }
        }
        assert!(found.iter().any(|c| c.get(1).is_some_and(|s| s == "preflight")), "{}: no preflight step", file.display());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself catches what it is for.
#[test]
fn the_command_checker_refuses_unknown_subcommands_and_flags() {
    let cmd = |s: &str| commands(s).remove(0);
    assert!(check_mssconf(&cmd("./target/release/mssconf run --dry-run --target \"$T\" --shard \"$S\"")).is_ok());
    assert!(check_mssconf(&cmd("mssconf bundle verify x.zip --pubkey k.pub")).is_ok());
    assert!(check_mssconf(&cmd("mssconf doctor --target t.yaml")).is_ok());
    assert!(check_mssconf(&cmd("mssconf run --no-such-flag")).unwrap_err().contains("--no-such-flag"));
    assert!(check_mssconf(&cmd("mssconf frobnicate --target t")).unwrap_err().contains("frobnicate"));
    assert!(check_mssconf(&cmd("mssconf bundle verify x.zip --sign-key k")).is_err(), "--sign-key belongs to `bundle`, not `verify`");
    assert_eq!(commands("if [ -s p ]; then ./mssconf diff a b; DIFF=$?; fi").len(), 1);
    assert_eq!(commands("X=1 cargo build --release && echo mssconf run").len(), 1);
    assert!(check_cargo(&cmd("cargo build --release --locked")).is_ok());
    assert!(check_cargo(&cmd("cargo build --relaese")).is_err());
}
