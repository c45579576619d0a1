//! Short names in the `web` build. wasm-bindgen names every import after its JS function plus a
//! hash (`__wbg_setTimeout_96d8522f6118bd79`) and every export after its Rust item; those names
//! appear twice (module and glue) and were 6% of the build's gzip size (3.4 KB), the hashes
//! being incompressible. binaryen renames them and prints the mapping; the glue is rewritten to
//! match, and checked to refer to no old name afterwards.

use std::path::Path;

use crate::run::{cmd, output};

/// The module binaryen's renaming gives all imports (checked against the module after).
const MODULE: &str = "a";

/// Renames the imports, exports and import module of `dir/hail_bg.wasm` and rewrites
/// `dir/hail.js` and the type files to the new names.
pub fn names(dir: &Path, wasm_opt: &Path, features: &[&str]) -> Result<(), String> {
    let wasm = dir.join("hail_bg.wasm");
    let map = output(
        cmd(wasm_opt)
            .args(features)
            .arg("--minify-imports-and-exports-and-modules")
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )
    .ok_or("wasm-opt --minify-imports-and-exports-and-modules failed")?;
    let map: serde_json::Value =
        serde_json::from_str(&map).map_err(|e| format!("wasm-opt's name map: {e}"))?;
    let pairs = |key: &str, old: usize, new: usize| -> Result<Vec<(String, String)>, String> {
        let list = map[key]
            .as_array()
            .ok_or(format!("no {key} in wasm-opt's map"))?;
        list.iter()
            .map(|e| match (e[old].as_str(), e[new].as_str()) {
                (Some(o), Some(n)) => Ok((o.to_owned(), n.to_owned())),
                _ => Err(format!("wasm-opt's map: odd {key} entry {e}")),
            })
            .collect()
    };
    let imports = pairs("imports", 1, 2)?;
    let exports = pairs("exports", 0, 1)?;
    check_module(&wasm)?;

    let glue = dir.join("hail.js");
    let mut js = read(&glue)?;
    for (old, new) in &imports {
        js = replace_word(&js, &format!("{old}:"), &format!("\"{new}\":"));
    }
    js = js.replace(
        "\"./hail_bg.js\": import0",
        &format!("\"{MODULE}\": import0"),
    );
    for (old, new) in &exports {
        js = replace_word(&js, &format!("wasm.{old}"), &format!("wasm.{new}"));
    }
    let left: Vec<&str> = imports
        .iter()
        .filter(|(old, _)| contains_word(&js, old))
        .chain(
            exports
                .iter()
                .filter(|(old, _)| contains_word(&js, &format!("wasm.{old}"))),
        )
        .map(|(old, _)| old.as_str())
        .collect();
    // An import wasm-bindgen binds straight to a JS snippet (no shim) keeps its snippet as import
    // module, which is renamed in the module but not here: the module would fail to link.
    if js.contains("\"./snippets/") {
        return Err(
            "the wasm module imports straight from a JS snippet, which the renaming does not \
             cover: give that import a shim (e.g. `#[wasm_bindgen(catch)]`)"
                .into(),
        );
    }
    if !left.is_empty() || js.contains("\"./hail_bg.js\"") {
        return Err(format!(
            "the web glue still refers to wasm names after renaming: {left:?}"
        ));
    }
    write(&glue, &js)?;

    // `InitOutput` in the types lists the module's exports.
    for types in ["hail.d.ts", "hail_bg.wasm.d.ts"] {
        let path = dir.join(types);
        let mut text = read(&path)?;
        for (old, new) in &exports {
            text = replace_word(
                &text,
                &format!("readonly {old}:"),
                &format!("readonly {new}:"),
            );
            text = replace_word(&text, &format!("const {old}:"), &format!("const {new}:"));
        }
        write(&path, &text)?;
    }
    Ok(())
}

/// Whether every import of the renamed module comes from [`MODULE`].
fn check_module(wasm: &Path) -> Result<(), String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        let payload = payload.map_err(|e| format!("{}: {e}", wasm.display()))?;
        if let wasmparser::Payload::ImportSection(reader) = payload {
            for import in reader.into_imports() {
                let import = import.map_err(|e| format!("{}: {e}", wasm.display()))?;
                if import.module != MODULE {
                    return Err(format!(
                        "after renaming, an import comes from {:?}, not {MODULE:?}",
                        import.module
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `text` with every `from` that is not part of a longer identifier replaced by `to`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if is_ident(before) || (from.ends_with(is_ident_char) && is_ident(after)) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Whether `word` occurs in `text` as a whole identifier.
fn contains_word(text: &str, word: &str) -> bool {
    replace_word(text, word, "") != text
}

fn is_ident(c: Option<char>) -> bool {
    c.is_some_and(is_ident_char)
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_identifiers_only() {
        let js = "wasm.validate(x); wasm.validate_all(); xwasm.validate; wasm.validate";
        assert_eq!(
            replace_word(js, "wasm.validate", "wasm.A"),
            "wasm.A(x); wasm.validate_all(); xwasm.validate; wasm.A"
        );
        assert!(contains_word("a.free(1)", "free"));
        assert!(!contains_word("a.freed(1)", "free"));
    }
}
