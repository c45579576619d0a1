//! `cargo xtask pkg`: the npm package `hail-sdk` in `pkg/`, packed into `target/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::run::{cargo, cmd, output, root, status};

mod guards;
mod minify;

/// wasm-bindgen targets and the `pkg/` folder each goes to.
pub const TARGETS: [(&str, &str); 3] = [("bundler", "bundler"), ("web", "web"), ("nodejs", "node")];

/// Features the Rust wasm32 target enables by default; wasm-opt must accept them.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Builds `pkg/` and packs it; returns the tarball's path.
pub fn run() -> Result<PathBuf, String> {
    let root = root();
    crate::setup::run()?;
    status(cargo().args([
        "build",
        "--quiet",
        "--package",
        "hail",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let wasm = root.join("target/wasm32-unknown-unknown/wasm-release/hail.wasm");
    let pkg = root.join("pkg");
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).map_err(|e| format!("removing pkg/: {e}"))?;
    }
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    for (target, dir) in TARGETS {
        let out = pkg.join(dir);
        status(
            cmd(crate::setup::wasm_bindgen())
                .args(["--target", target, "--out-name", "hail", "--out-dir"])
                .arg(&out)
                .arg(&wasm),
        )?;
        let module = out.join("hail_bg.wasm");
        // npm's binaryen, never Debian's: Debian's 108 produces a broken module.
        status(
            cmd(&wasm_opt)
                // Flattening and re-looping before the size passes lets them find more
                // (about 1% gzip here); -Oz twice, as a second round still shrinks it.
                .args(["--flatten", "--rereloop", "-Oz", "-Oz"])
                .args(["--strip-debug", "--strip-producers"])
                .args(WASM_FEATURES)
                .arg(&module)
                .arg("-o")
                .arg(&module),
        )?;
    }
    guards::patch(&pkg)?;
    // The web build is the one dropped into a page as it is, without a bundler to minify it.
    let web = pkg.join("web");
    minify::names(&web, &wasm_opt, &WASM_FEATURES)?;
    let esbuild = root.join("node_modules/.bin/esbuild");
    let main = web.join("hail.js");
    for glue in std::iter::once(main.clone()).chain(files_under(&web.join("snippets"))?) {
        let mut minify = cmd(&esbuild);
        minify
            .args([
                "--minify",
                "--format=esm",
                "--log-level=warning",
                "--allow-overwrite",
            ])
            .arg(&glue)
            .arg(format!("--outfile={}", glue.display()));
        if glue == main {
            // Deno and JSR find the types through this comment.
            minify.arg("--banner:js=/* @ts-self-types=\"./hail.d.ts\" */");
        }
        status(&mut minify)?;
    }
    // The Node build is CommonJS inside an ESM package; its JS snippets (ESM, shared with the
    // browser builds) become CommonJS too, so any Node 20 can `require` them. `import` gets an
    // ESM face with the same names plus an `init()` that has nothing to do (Node instantiates
    // synchronously). Browsers through bundlers without wasm ESM integration (Vite, esbuild) get
    // the web build, instantiated on import.
    write(
        &pkg.join("node/package.json"),
        "{ \"type\": \"commonjs\" }\n",
    )?;
    for snippet in files_under(&pkg.join("node/snippets"))? {
        let text =
            std::fs::read_to_string(&snippet).map_err(|e| format!("{}: {e}", snippet.display()))?;
        write(&snippet, &esm_to_cjs(&text))?;
    }
    write(
        &pkg.join("node/hail.mjs"),
        &node_esm(&pkg.join("node/hail.js"))?,
    )?;
    write(&pkg.join("auto.js"), AUTO_JS)?;
    let template = std::fs::read_to_string(root.join("pkg-template/package.json"))
        .map_err(|e| format!("pkg-template/package.json: {e}"))?;
    write(
        &pkg.join("package.json"),
        &template.replace("0.0.0-template", &version()?),
    )?;
    for file in ["README.md", "LICENSE"] {
        std::fs::copy(root.join("pkg-template").join(file), pkg.join(file))
            .map_err(|e| format!("pkg-template/{file}: {e}"))?;
    }

    let packed = output(
        cmd("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(root.join("target"))
            .current_dir(&pkg),
    )
    .ok_or("`npm pack` failed")?;
    let tarball = root.join("target").join(packed.trim());
    println!("packed {}", tarball.display());
    for (_, dir) in TARGETS {
        let (raw, gz) = sizes(&pkg.join(dir))?;
        println!("  {dir:8} wasm + glue: {raw} B raw, {gz} B gzip");
    }
    Ok(tarball)
}

const AUTO_JS: &str =
    "// The web build, instantiated on import (top-level await): no init() needed.
import init from \"./web/hail.js\";
export * from \"./web/hail.js\";
export default init;
await init();
";

/// `node/hail.mjs`: the CommonJS build's exports as ESM, plus a no-op `init`.
fn node_esm(cjs: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(cjs).map_err(|e| format!("{}: {e}", cjs.display()))?;
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("exports."))
        .filter_map(|l| l.split_once(" = ").map(|(name, _)| name))
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    if names.is_empty() {
        return Err(format!("{}: no exports found", cjs.display()));
    }
    Ok(format!(
        "// ESM face of the CommonJS Node build.\nimport hail from \"./hail.js\";\nexport const {{ {} }} = hail;\n\
         /** Nothing to do in Node: the module is instantiated when imported. */\n\
         export default async function init() {{ return undefined; }}\n",
        names.join(", ")
    ))
}

/// Every `.js` file below `dir`.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else if path.extension().is_some_and(|e| e == "js") {
            out.push(path);
        }
    }
    Ok(out)
}

/// A snippet's top-level `export class|function|const NAME` declarations as CommonJS.
fn esm_to_cjs(text: &str) -> String {
    let mut names = Vec::new();
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let declared = [
            "export class ",
            "export function ",
            "export async function ",
            "export const ",
        ]
        .iter()
        .find_map(|prefix| {
            line.strip_prefix(prefix)
                .map(|rest| (prefix.trim_start_matches("export "), rest))
        });
        match declared {
            Some((keyword, rest)) => {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
                out.push_str(keyword);
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.push_str(&format!("module.exports = {{ {} }};\n", names.join(", ")));
    out
}

/// The `hail` crate's version, for package.json.
fn version() -> Result<String, String> {
    let meta = output(cargo().args(["metadata", "--no-deps", "--format-version", "1"]))
        .ok_or("`cargo metadata` failed")?;
    let meta: serde_json::Value = serde_json::from_str(&meta).map_err(|e| e.to_string())?;
    meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "hail"))
        .and_then(|p| p["version"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| "no version of the hail crate in cargo metadata".into())
}

/// Raw and gzip bytes of the wasm module plus its JS glue in `dir`.
pub fn sizes(dir: &Path) -> Result<(u64, u64), String> {
    let mut raw = 0;
    let mut gz = 0;
    let files = ["hail_bg.wasm", "hail.js", "hail_bg.js"].map(|name| dir.join(name));
    let snippets = files_under(&dir.join("snippets")).unwrap_or_default();
    for path in files.into_iter().chain(snippets) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        raw += bytes.len() as u64;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&bytes).map_err(|e| e.to_string())?;
        gz += enc.finish().map_err(|e| e.to_string())?.len() as u64;
    }
    Ok((raw, gz))
}

/// Copies the `web` build to `dest` (the demo page loads it from `www/pkg/`).
pub fn copy_web_build(dest: &Path) -> Result<(), String> {
    copy_dir(&root().join("pkg/web"), dest)
}

fn copy_dir(src: &Path, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let entries = std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))?;
    for entry in entries.flatten() {
        let (from, to) = (entry.path(), dest.join(entry.file_name()));
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| format!("copying {}: {e}", from.display()))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
