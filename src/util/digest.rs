//! The SHA-256 digest as lowercase hex: how evidence, caches and transcripts name bytes.

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
