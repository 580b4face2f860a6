//! `mssconf bundle --run DIR [--sign-key FILE] [--out DIR]` and
//! `mssconf bundle verify FILE.zip [--pubkey FILE]`.

use std::path::Path;

use super::args::{BundleAction, BundleArgs, VerifyArgs};
use crate::evidence::bundle::verify::{Signer, Verification, verify_bundle};
use crate::evidence::bundle::{create_bundle, keys};
use crate::exit_code;

pub fn main(args: BundleArgs) -> i32 {
    match &args.action {
        Some(BundleAction::Verify(v)) => verify(v),
        None => match &args.run {
            Some(run) => create(run, args.out.as_deref(), args.sign_key.as_deref()),
            None => {
                eprintln!("error: `mssconf bundle` needs --run DIR (or `mssconf bundle verify FILE.zip`)");
                exit_code::CONFIG
            }
        },
    }
}

/// Builds a bundle; prints its path on stdout. Exit 0, or 2 when it cannot be built.
pub fn create(run: &Path, out: Option<&Path>, sign_key: Option<&Path>) -> i32 {
    let key = match sign_key.map(keys::read_signing_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    match create_bundle(run, out, key.as_ref()) {
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
    match verify_bundle(&args.file, pubkey.as_ref()) {
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
    println!("{} {} file(s) match the manifest", if v.discrepancies.is_empty() { "ok  " } else { "    " }, v.files_ok);
}
