//! Stream ids and tokens: random, from the operating system's generator. A token is stored only
//! as its SHA-256, and compared as such: a stolen store opens no stream.

use sha2::{Digest as _, Sha256};

/// `bytes` random bytes as lowercase hex (so `2 × bytes` characters).
pub fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS generator failing is the host being broken; a fixed value would be worse than a
    // panic-free fallback that still differs per call: so fall back to UUIDs (also random).
    if getrandom::fill(&mut buf).is_err() {
        for chunk in buf.chunks_mut(16) {
            let id = uuid::Uuid::new_v4();
            chunk.copy_from_slice(&id.as_bytes()[..chunk.len()]);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new stream id.
pub fn stream_id() -> String {
    random_text(16)
}

/// A new token.
pub fn token() -> String {
    random_text(32)
}

/// What is stored of `token`.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `a` and `b` are equal, in time independent of where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `given` is the secret `expected` (both hashed first, so their lengths say nothing).
pub fn same_secret(given: &str, expected: &str) -> bool {
    same(&hash(given), &hash(expected))
}
