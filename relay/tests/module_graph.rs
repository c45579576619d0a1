//! The relay's modules form no import cycle (issue 24): each top-level module of `relay/src`
//! (with its submodules) is a node, each `crate::…` path outside comments and test modules an
//! edge. A cycle here is how the relay's centre got tangled before: the state imported every
//! module and every module imported the state.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The code of a file without line comments and without its `#[cfg(test)]` tail.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `.rs` file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules `code` names after `crate::`, directly or in a `crate::{…}` group.
fn named(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let group = match rest.strip_prefix('{') {
            Some(inner) => inner.split('}').next().unwrap_or_default(),
            None => rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default(),
        };
        for word in group.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if modules.contains(word) {
                out.insert(word.to_owned());
            }
        }
    }
    out
}

#[test]
fn the_relays_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .filter_map(|e| e.path().file_stem()?.to_str().map(str::to_owned))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for module in &modules {
        let mut paths = vec![src.join(format!("{module}.rs"))];
        files(&src.join(module), &mut paths);
        let mut to = BTreeSet::new();
        for path in paths {
            to.extend(named(&code(&path), &modules));
        }
        to.remove(module);
        edges.insert(module.clone(), to);
    }
    assert!(
        edges["state"].contains("store"),
        "the scan reads imports: {edges:?}"
    );
    // A depth-first search for a path back to where it began.
    fn back(
        at: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            return Some(path[i..].iter().cloned().chain([at.to_owned()]).collect());
        }
        if !done.insert(at.to_owned()) {
            return None;
        }
        path.push(at.to_owned());
        for next in &edges[at] {
            if let Some(cycle) = back(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        if let Some(cycle) = back(module, &edges, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}
