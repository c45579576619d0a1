//! Each vendor call is declared once, as data (`hail::VendorCall`, beside its endpoint): outside
//! tests and comments every vendor path literal appears exactly once, and the simulated vendors
//! (`relay/src/sandbox/`) spell none: they route by the declarations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How vendor API paths begin (MEMOIO and LiveDesk `/api/`, mluvii `/api/` and `/login/`, chayns
/// `/v2.0/` and `/rest/`).
const VENDOR_PREFIXES: [&str; 4] = ["/api/", "/rest/", "/v2.0/", "/login/"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // A `tests` folder beside a module holds its unit tests.
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of `text` that start like a vendor path, outside comments and before
/// the file's first `#[cfg(test)]`.
fn vendor_literals(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let literal = &after[..end];
            if VENDOR_PREFIXES.iter().any(|p| literal.starts_with(p)) {
                found.push(literal.to_owned());
            }
            rest = &after[end + 1..];
        }
    }
    found
}

#[test]
fn every_vendor_path_is_declared_once_and_the_sandbox_spells_none() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("relay/src"), &mut files);
    assert!(files.len() > 20, "the sources were not found");
    let mut seen: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for literal in vendor_literals(&text) {
            seen.entry(literal).or_default().push(file.clone());
        }
    }
    assert!(
        seen.keys()
            .any(|p| p == "/api/v2/accounts/conversations/{conversation_id}/messages"),
        "{seen:?}"
    );
    for (literal, places) in &seen {
        assert_eq!(places.len(), 1, "{literal} is spelled in {places:?}");
        assert!(
            !places[0].starts_with(root.join("relay/src/sandbox")),
            "the sandbox spells {literal}: route it by the declaration"
        );
    }
}

#[test]
fn literals_are_found_in_code_only() {
    let text = "// \"/api/comment\"\nlet a = (\"/api/x\", \"other\", \"/rest/y\");\n#[cfg(test)]\n\"/api/test\"";
    assert_eq!(vendor_literals(text), ["/api/x", "/rest/y"]);
}
