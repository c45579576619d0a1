//! Two guards patched into wasm-bindgen's generated glue (the one build every entry point
//! shares), so that misuse is a `HailError` instead of a stray `TypeError` (see
//! `src/web/hail_error.js`):
//! - before `init()` the module handle is `notReady`, which throws a HailError saying
//!   "await init() first" (the glue would read a property of `undefined`);
//! - the "null pointer passed to rust" that a method throws after `free()` becomes
//!   a HailError saying the client was freed.
//!
//! The glue of the pinned wasm-bindgen is matched exactly: a pattern that is not found the
//! expected number of times fails the build, so an upgrade cannot drop a guard silently.

use std::path::Path;

/// `(file under pkg/, names to import from the error snippet, [(pattern, replacement, expected
/// count)])`.
type Patches = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, usize)],
);

const THROW: (&str, &str, usize) = (
    "throw new Error(getStringFromWasm0(arg0, arg1));",
    "throw rustThrew(getStringFromWasm0(arg0, arg1));",
    1,
);

const PATCHES: [Patches; 1] = [(
    "web/hail.js",
    "notReady, rustThrew",
    &[
        THROW,
        (
            "let wasmModule, wasmInstance, wasm;",
            "let wasmModule, wasmInstance, wasm = notReady;",
            1,
        ),
        (
            "if (wasm !== undefined) return wasm;",
            "if (wasm !== notReady) return wasm;",
            2,
        ),
    ],
)];

/// Patches the glue of every build under `pkg`.
pub fn patch(pkg: &Path) -> Result<(), String> {
    for (file, names, patches) in PATCHES {
        let path = pkg.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut text = import_too(file, &text, names)?;
        for (pattern, replacement, count) in patches {
            let found = text.matches(pattern).count();
            if found != *count {
                return Err(format!(
                    "{file}: expected `{pattern}` {count} time(s), found {found}: the glue of \
                     this wasm-bindgen differs; update xtask/src/pkg/guards.rs"
                ));
            }
            text = text.replace(pattern, replacement);
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `text` with `names` added to its one import of the error snippet (`import { … } from
/// '…/hail_error.js'`).
fn import_too(file: &str, text: &str, names: &str) -> Result<String, String> {
    let mut found = 0;
    let mut out = String::with_capacity(text.len() + names.len() + 2);
    for line in text.split_inclusive('\n') {
        let imports_snippet =
            line.contains("/src/web/hail_error.js") && line.starts_with("import {");
        match line.split_once('{') {
            Some((head, rest)) if imports_snippet => {
                found += 1;
                out.push_str(head);
                out.push_str("{ ");
                out.push_str(names);
                out.push(',');
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    if found != 1 {
        return Err(format!(
            "{file}: expected one import of the error snippet, found {found}: the glue of this \
             wasm-bindgen differs; update xtask/src/pkg/guards.rs"
        ));
    }
    Ok(out)
}
