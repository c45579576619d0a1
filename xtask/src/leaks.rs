//! The secret-leak scan: the company secrets the sandbox relay holds (its canaries, read from
//! `relay/src/sandbox.rs`) must appear in no file the browser downloads and no relay log line.

use std::path::{Path, PathBuf};

use crate::run::root;

/// Sandbox constants that are company secrets (a chayns *user* token is the user's own and
/// belongs in the browser, so it is no canary).
const SECRET_NAMES: [&str; 5] = [
    "MEMOIO_SECRET_KEY",
    "CHAYNS_TAPP_SECRET",
    "LIVEDESK_API_KEY",
    "LIVEDESK_API_SECRET",
    "MLUVII_CLIENT_SECRET",
];

/// The canary values, from the sandbox's source.
pub fn canaries() -> Result<Vec<String>, String> {
    let path = root().join("relay/src/sandbox.rs");
    let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for name in SECRET_NAMES {
        let value = source
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("pub const {name}: &str = \""))
            })
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| format!("{name} not found in {}", path.display()))?;
        out.push(value.to_owned());
    }
    Ok(out)
}

/// `Err` naming every file that contains a canary.
pub fn scan(paths: &[PathBuf]) -> Result<(), String> {
    let canaries = canaries()?;
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files);
    }
    if files.is_empty() {
        return Err("nothing to scan".into());
    }
    let mut leaks = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for canary in &canaries {
            if bytes.windows(canary.len()).any(|w| w == canary.as_bytes()) {
                leaks.push(format!(
                    "{} contains the sandbox secret {canary:?}",
                    file.display()
                ));
            }
        }
    }
    println!(
        "scanned {} files for {} canaries",
        files.len(),
        canaries.len()
    );
    if leaks.is_empty() {
        Ok(())
    } else {
        Err(leaks.join("; "))
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                collect(&e.path(), out);
            }
        }
    } else if path.is_file() {
        out.push(path.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_canaries_and_a_planted_leak() {
        let canaries = canaries().unwrap();
        assert_eq!(canaries.len(), SECRET_NAMES.len());
        let dir = std::env::temp_dir().join(format!("hail-leak-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("clean.js"), "nothing here").unwrap();
        assert!(scan(std::slice::from_ref(&dir)).is_ok());
        std::fs::write(
            dir.join("leak.js"),
            format!("const k = \"{}\";", canaries[2]),
        )
        .unwrap();
        let err = scan(std::slice::from_ref(&dir)).unwrap_err();
        assert!(err.contains("leak.js"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
