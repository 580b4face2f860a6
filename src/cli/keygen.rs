//! `mssconf keygen --out DIR`: an Ed25519 key pair for signing bundles.

use super::args::KeygenArgs;
use crate::evidence::bundle::keys;
use crate::exit_code;

pub fn main(args: KeygenArgs) -> i32 {
    match keys::generate(&args.out) {
        Ok((key, public)) => {
            let fp = keys::read_public_key(&public).map(|k| keys::fingerprint(&k)).unwrap_or_default();
            println!("wrote {} (private, mode 0600: keep it secret, back it up)", key.display());
            println!("wrote {} (public key {fp}: publish it so readers can run `mssconf bundle verify --pubkey`)", public.display());
            exit_code::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
    }
}
