//! `cargo xtask pkg`: the npm package `hail-sdk` in `pkg/`, packed into `target/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::run::{cargo, cmd, output, root, status};

mod entries;
mod guards;
mod minify;
pub mod relay;
mod types;

/// The folder under each entry's folder that holds the WebAssembly module and its glue.
pub const WEB: &str = "web";

/// The package's wasm builds: the folder under `pkg/` (`""`: the package root, `hail-sdk`) and
/// the `hail` crate's features. Each vendor's entry (`hail-sdk/memoio`, …) has the same files
/// in its own folder, from a wasm with that vendor's definitions only.
pub const ENTRIES: [(&str, &str); 5] = [
    ("", "web,memoio,chayns,livedesk,mluvii"),
    ("memoio", "web,memoio"),
    ("chayns", "web,chayns"),
    ("livedesk", "web,livedesk"),
    ("mluvii", "web,mluvii"),
];

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
    let pkg = root.join("pkg");
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).map_err(|e| format!("removing pkg/: {e}"))?;
    }
    // The builds one after the other (cargo holds one lock; they share std and the
    // dependencies), each through wasm-bindgen before the next overwrites the module; the rest
    // of an entry (mostly wasm-opt) runs beside the next build, which is mostly one-threaded
    // (fat LTO, one codegen unit).
    let started = std::time::Instant::now();
    let finished: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let mut jobs = Vec::new();
        for (dir, features) in ENTRIES {
            let entry = pkg.join(dir);
            let built = build_wasm(features).and_then(|wasm| {
                status(
                    cmd(crate::setup::wasm_bindgen())
                        .args(["--target", "web", "--out-name", "hail", "--out-dir"])
                        .arg(entry.join(WEB))
                        .arg(&wasm),
                )
            });
            if let Err(e) = built {
                jobs.push(scope.spawn(move || Err(e)));
                break;
            }
            jobs.push(scope.spawn(move || finish_entry(&entry)));
        }
        jobs.into_iter()
            .map(|job| {
                job.join()
                    .unwrap_or_else(|_| Err("an entry's build panicked".into()))
            })
            .collect()
    });
    finished.into_iter().collect::<Result<Vec<()>, String>>()?;
    println!("wasm builds and entries: {} s", started.elapsed().as_secs());
    let template = std::fs::read_to_string(root.join("pkg-template/package.json"))
        .map_err(|e| format!("pkg-template/package.json: {e}"))?;
    write(
        &pkg.join("package.json"),
        &template.replace("0.0.0-template", &version("hail")?),
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
    for (dir, _) in ENTRIES {
        let (raw, gz) = sizes(&pkg.join(dir).join(WEB))?;
        let name = if dir.is_empty() {
            "hail-sdk".to_owned()
        } else {
            format!("hail-sdk/{dir}")
        };
        println!("  {name}: wasm + glue + entry {raw} B raw, {gz} B gzip");
    }
    Ok(tarball)
}

/// The shipped wasm module with `features`:
/// `wasm32-unknown-unknown/wasm-release/hail.wasm` in the target folder, overwritten by the next
/// build.
///
/// On the stable toolchain with `RUSTC_BOOTSTRAP=1`: the standard library rebuilt for size
/// (`-Zbuild-std`, its `optimize_for_size` feature) with `panic=immediate-abort` (a panic is a
/// trap, with no message or formatting code; Hail never panics on anything a page or vendor
/// sends, see DESIGN.md). Rust 1.95 takes it as a panic strategy, `-Zunstable-options
/// -Cpanic=immediate-abort`; the old `panic_immediate_abort` std feature is now a compile error.
/// Every build shares the rebuilt std and the dependencies; only `hail` differs. This is the
/// module `cargo xtask test` tests (the packed package in Node and browsers); a plain `cargo
/// build` of the same profile needs none of it and still works.
fn build_wasm(features: &str) -> Result<PathBuf, String> {
    status(
        cargo()
            .args(["build", "--quiet", "--package", "hail", "--lib"])
            .args(["--no-default-features", "--features", features])
            .args([
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ])
            .args([
                "-Zbuild-std=std,panic_abort",
                "-Zbuild-std-features=optimize_for_size",
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            // Only for the wasm32 crates (a `--target` build leaves build scripts and proc macros
            // alone); the encoded form wins over a RUSTFLAGS of the caller's.
            .env(
                "CARGO_ENCODED_RUSTFLAGS",
                "-Zunstable-options\x1f-Cpanic=immediate-abort",
            )
            .env_remove("RUSTFLAGS"),
    )?;
    Ok(crate::run::target_dir().join("wasm32-unknown-unknown/wasm-release/hail.wasm"))
}

/// Everything of one entry after wasm-bindgen: the module optimised and its names shortened,
/// the glue guarded and minified, the types and the entry points.
fn finish_entry(entry: &Path) -> Result<(), String> {
    let root = root();
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    let web = entry.join(WEB);
    let module = web.join("hail_bg.wasm");
    // npm's binaryen, never Debian's: Debian's 108 produces a broken module.
    status(
        cmd(&wasm_opt)
            // Flattening and re-looping before the size passes lets them find more
            // (about 1% gzip here); -Oz twice, as a second round still shrinks it. (--converge
            // saves 0.1–0.2 KB more per module at twice the time: not worth it, BENCHMARKS.md.)
            .args(["--flatten", "--rereloop", "-Oz", "-Oz"])
            .args(["--strip-debug", "--strip-producers"])
            .args(WASM_FEATURES)
            .arg(&module)
            .arg("-o")
            .arg(&module),
    )?;
    guards::patch(entry)?;
    minify::names(&web, &wasm_opt, &WASM_FEATURES)?;
    let esbuild = root.join("node_modules/.bin/esbuild");
    for glue in std::iter::once(web.join("hail.js")).chain(files_under(&web.join("snippets"))?) {
        status(
            cmd(&esbuild)
                .args([
                    "--minify",
                    "--format=esm",
                    "--log-level=warning",
                    "--allow-overwrite",
                ])
                .arg(&glue)
                .arg(format!("--outfile={}", glue.display())),
        )?;
    }
    types::write(entry)?;
    entries::write(entry)
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

/// The version of workspace crate `name` (`hail`, `hail-relay`), for a package.json.
fn version(name: &str) -> Result<String, String> {
    let meta = output(cargo().args(["metadata", "--no-deps", "--format-version", "1"]))
        .ok_or("`cargo metadata` failed")?;
    let meta: serde_json::Value = serde_json::from_str(&meta).map_err(|e| e.to_string())?;
    meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .and_then(|p| p["version"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("no version of the {name} crate in cargo metadata"))
}

/// Raw and gzip bytes of the wasm module plus its JS glue in `dir`.
pub fn sizes(dir: &Path) -> Result<(u64, u64), String> {
    let mut raw = 0;
    let mut gz = 0;
    let files = ["hail_bg.wasm", "hail.js", "index.js"].map(|name| dir.join(name));
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

pub(crate) fn copy_dir(src: &Path, dest: &Path) -> Result<(), String> {
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

pub(crate) fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
