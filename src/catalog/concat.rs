//! Joining `&str` constants at compile time, so the TypeScript text built from the catalog
//! costs nothing at run time (and nothing in the wasm: it lands in a custom section that
//! wasm-bindgen strips).

/// The total length of `parts`, in bytes.
pub const fn len(parts: &[&str]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < parts.len() {
        total += parts[i].len();
        i += 1;
    }
    total
}

/// `parts` one after another. `N` must be [`len`]`(parts)`: a wrong `N` fails the build (an
/// out-of-bounds write, or trailing zero bytes that the caller's UTF-8 check then sees as text
/// of the wrong length).
pub const fn join<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < parts.len() {
        let bytes = parts[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            out[at] = bytes[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// `concat_str!(a, b, …)`: the `&'static str` constants `a`, `b`, … joined, as a constant.
#[macro_export]
#[doc(hidden)]
macro_rules! concat_str {
    ($($part:expr),* $(,)?) => {{
        const PARTS: &[&str] = &[$($part),*];
        const BYTES: [u8; $crate::catalog::concat::len(PARTS)] =
            $crate::catalog::concat::join(PARTS);
        // Joined `str`s are UTF-8; the check runs at compile time, so the `panic!` can only
        // ever fail the build.
        match ::core::str::from_utf8(&BYTES) {
            Ok(text) => text,
            Err(_) => panic!("concat_str!: not UTF-8"),
        }
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn joins_constants() {
        const A: &str = "ab";
        const JOINED: &str = crate::concat_str!(A, "", "cdé", A);
        assert_eq!(JOINED, "abcdéab");
        assert_eq!(crate::concat_str!(), "");
    }
}
