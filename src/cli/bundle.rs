//! `mssconf bundle --run DIR [--sign-key FILE] [--out DIR] [--envoi N] [--proof-numbers FILE]` and
//! `mssconf bundle verify FILE.zip [--pubkey FILE] [--cosigner-pubkey FILE]…` and
//! `mssconf bundle cosign FILE.zip --key FILE [--signer NAME] [--out FILE]`.

use std::path::Path;

use super::args::{BundleAction, BundleArgs, CosignArgs, VerifyArgs};
use crate::evidence::bundle::verify::{Signer, Verification, verify_bundle_with};
use crate::evidence::bundle::{BundleOptions, cosign_bundle_attesting, create_bundle_with, keys, load_run};
use crate::evidence::proof_numbers::ProofNumbers;
use crate::exit_code;

pub fn main(args: BundleArgs) -> i32 {
    match &args.action {
        Some(BundleAction::Verify(v)) => verify(v),
        Some(BundleAction::Cosign(c)) => cosign(c),
        None => match &args.run {
            Some(run) => create(run, &args),
            None => {
                eprintln!("error: `mssconf bundle` needs --run DIR (or `mssconf bundle verify FILE.zip`)");
                exit_code::CONFIG
            }
        },
    }
}

/// Builds a bundle; prints its path on stdout. Exit 0, or 2 when it cannot be built.
pub fn create(run: &Path, args: &BundleArgs) -> i32 {
    let key = match args.sign_key.as_deref().map(keys::read_signing_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let numbers = match args.proof_numbers.as_deref().map(ProofNumbers::load).transpose() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    if let (Some(n), Ok(record)) = (&numbers, load_run(run)) {
        let ids: Vec<&str> = record.scenarios.iter().flat_map(|s| &s.proofs).map(|p| p.id.as_str()).collect();
        for id in n.unknown(&ids) {
            eprintln!("warning: {}: proof `{id}` is not in this run; its number is not used", n.file().display());
        }
    }
    if args.envoi.is_none() {
        eprintln!("note: no --envoi N: the deposit number is the first one free in the output folder");
    }
    let options = BundleOptions { out_dir: args.out.as_deref(), key: key.as_ref(), envoi: args.envoi, proof_numbers: numbers.as_ref(), attachments: &args.attach };
    match create_bundle_with(run, &options) {
        Ok(path) => {
            match &key {
                Some(k) => eprintln!("bundle signed with key {}", keys::fingerprint(&k.verifying_key())),
                None => eprintln!("bundle not signed (use --sign-key to sign it)"),
            }
            println!("{}", path.display());
            exit_code::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
    }
}

fn verify(args: &VerifyArgs) -> i32 {
    let pubkey = match args.pubkey.as_deref().map(keys::read_public_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let cosigners = match args.cosigner_pubkey.iter().map(|p| keys::read_public_key(p)).collect::<Result<Vec<_>, _>>() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    match verify_bundle_with(&args.file, pubkey.as_ref(), &cosigners) {
        Ok(v) => {
            print_verification(&args.file, &v);
            // The exit code holds only what was proved, or what the reader accepted by name.
            match v.accepted(args.trust_embedded_key, args.allow_unsigned) {
                Ok(()) => {
                    let accepted = match &v.signer {
                        Signer::Embedded { .. } => " (signer not authenticated: accepted by --trust-embedded-key)",
                        Signer::None => " (unsigned: accepted by --allow-unsigned)",
                        Signer::Authenticated { .. } => "",
                    };
                    println!("verification passed{accepted}");
                    exit_code::OK
                }
                Err(why) => {
                    println!("verification FAILED: {why}");
                    exit_code::FAILED
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
    }
}

fn print_verification(file: &Path, v: &Verification) {
    println!("bundle {}{}", file.display(), v.run_id.as_ref().map(|r| format!(" (run {r})")).unwrap_or_default());
    for d in &v.discrepancies {
        println!("FAIL {}: {}", d.file, d.problem);
    }
    match &v.signer {
        Signer::Authenticated { fingerprint } => {
            println!("ok   signature: valid, made with the key given by --pubkey ({fingerprint})")
        }
        Signer::Embedded { fingerprint } => println!(
            "ok   signature: valid with the key inside the bundle ({fingerprint}) — the signer is NOT authenticated; \
             check with --pubkey and the key the operator published"
        ),
        Signer::None if v.passed() => println!("warn not signed: the hashes protect against damage, not against tampering"),
        Signer::None => {}
    }
    print_signatures(v);
    println!("{} {} file(s) match the manifest", if v.discrepancies.is_empty() { "ok  " } else { "    " }, v.files_ok);
}

/// What each signature covers and whose key made it: the operator's, then every co-signature.
fn print_signatures(v: &Verification) {
    if !matches!(v.signer, Signer::None) {
        println!("     the operator's signature covers manifest.json, which lists the SHA-256 of {} file(s)", v.files_listed);
    }
    for (i, c) in v.cosignatures.iter().enumerate() {
        let who = c.signer.as_deref().map(|s| format!(" « {s} »")).unwrap_or_default();
        let trust = if c.authenticated { "key given by --cosigner-pubkey" } else { "key inside the co-signature, NOT authenticated (pass --cosigner-pubkey)" };
        let state = if c.problem.is_none() { "ok  " } else { "FAIL" };
        println!(
            "{state} co-signature {} ({}){who}: key {} ({trust}), signed {}, covers {}",
            i + 1,
            c.role,
            c.fingerprint,
            c.signed_at.format("%Y-%m-%d %H:%M:%S UTC"),
            c.covers.join(" + ")
        );
        if let Some(a) = &c.attestation {
            for line in a.lines() {
                println!("       attestation: {}", super::progress::printable(line));
            }
        }
    }
}

/// `--attestation TEXT`, or `@FILE` for a text file (UTF-8, at most 16 KiB).
fn read_attestation(arg: &str) -> Result<String, String> {
    let Some(path) = arg.strip_prefix('@') else { return Ok(arg.to_string()) };
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() > 16 * 1024 {
        return Err(format!("{path}: an attestation is at most 16 KiB of text"));
    }
    String::from_utf8(bytes).map_err(|_| format!("{path}: not UTF-8 text"))
}

/// Co-signs a bundle; prints its path. Exit 0, or 2 when the key or the bundle is refused.
fn cosign(args: &CosignArgs) -> i32 {
    let key = match keys::read_signing_key(&args.key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    let attestation = match args.attestation.as_deref().map(read_attestation).transpose() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    match cosign_bundle_attesting(&args.file, &key, args.signer.as_deref(), attestation.as_deref(), args.out.as_deref()) {
        Ok(path) => {
            eprintln!("bundle co-signed with key {}", keys::fingerprint(&key.verifying_key()));
            println!("{}", path.display());
            exit_code::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
    }
}
