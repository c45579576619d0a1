//! `cargo xtask setup`: installs what is missing, quietly when everything is there.

use std::path::Path;

use crate::run::{cargo, cmd, output, root, status};

/// Where Debian puts Chromium and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The schemathesis version the test command runs (PyPI).
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

pub fn run() -> Result<(), String> {
    wasm_target()?;
    rust_src()?;
    debian_packages()?;
    schemathesis()?;
    npm_tools()?;
    wasm_bindgen_tools()
}

fn wasm_target() -> Result<(), String> {
    let installed = output(cmd("rustup").args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|l| l.trim() == "wasm32-unknown-unknown") => Ok(()),
        Some(_) => status(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"])),
        None => Err("rustup is not available: install the wasm32 target with \
                     `rustup target add wasm32-unknown-unknown` (https://rustup.rs)"
            .into()),
    }
}

/// The standard library's source, which the shipped wasm is built from (`-Zbuild-std`, see
/// `pkg::build_wasm`).
fn rust_src() -> Result<(), String> {
    let installed = output(cmd("rustup").args(["component", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|l| l.trim() == "rust-src") => Ok(()),
        Some(_) => status(cmd("rustup").args(["component", "add", "rust-src"])),
        None => Err(
            "rustup is not available: install the standard library's source with \
                     `rustup component add rust-src` (https://rustup.rs)"
                .into(),
        ),
    }
}

/// Debian packages the tests use: Chromium and its driver (browser tests), redis-server (the
/// shared-store tests).
fn debian_packages() -> Result<(), String> {
    let on_path =
        |program: &str| output(cmd("sh").args(["-c", &format!("command -v {program}")])).is_some();
    let mut missing = Vec::new();
    if !(Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()) {
        missing.extend(["chromium", "chromium-driver"]);
    }
    if !on_path("redis-server") {
        missing.push("redis-server");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let how = format!(
        "install Debian's {} (`sudo apt-get install {}`)",
        missing.join(", "),
        missing.join(" ")
    );
    let is_root = output(cmd("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        return Err(format!("missing and this is not root: {how}"));
    }
    let _ = status(cmd("apt-get").args(["update", "-qq"]));
    let install = || {
        status(
            cmd("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    // The first install can stop half-way ("cannot access archive"); a second one completes it.
    install()
        .or_else(|_| install())
        .map_err(|e| format!("{e}: {how}"))
}

/// schemathesis (PyPI), for the OpenAPI conformance run.
fn schemathesis() -> Result<(), String> {
    let installed = output(cmd("schemathesis").arg("--version"));
    if installed.is_some_and(|v| {
        SCHEMATHESIS
            .split("==")
            .nth(1)
            .is_some_and(|want| v.contains(want))
    }) {
        return Ok(());
    }
    status(cmd("python3").args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        SCHEMATHESIS,
    ]))
    .map_err(|e| {
        format!(
            "{e}: schemathesis needs Python 3 with pip (`python3 -m pip install {SCHEMATHESIS}`)"
        )
    })
}

fn npm_tools() -> Result<(), String> {
    let root = root();
    let lock = root.join("package-lock.json");
    let installed = root.join("node_modules/.package-lock.json");
    let fresh = match (
        lock.metadata().and_then(|m| m.modified()),
        installed.metadata().and_then(|m| m.modified()),
    ) {
        (Ok(lock), Ok(installed)) => installed >= lock,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    let how = "the npm dev tools (playwright-core, binaryen, typescript, vite) need Node.js and npm (https://nodejs.org)";
    // `npm ci` installs exactly the lock file. Some npm 11 builds write lock files without the
    // other platforms' optional packages (rollup's native binaries) and then refuse their own
    // lock in `npm ci`; `npm install` of the same exact versions is the fallback.
    status(cmd("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]))
        .or_else(|_| {
            status(cmd("npm").args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
            ]))
        })
        .map_err(|e| format!("{e}: {how}"))
}

/// The wasm-bindgen CLI and test runner, built from this workspace's lock file.
fn wasm_bindgen_tools() -> Result<(), String> {
    status(cargo().args(["build", "--quiet", "--package", "hail-wasm-bindgen-tools"]))
}

/// The wasm-bindgen CLI built by [`run`].
pub fn wasm_bindgen() -> std::path::PathBuf {
    crate::run::target_dir().join("debug/wasm-bindgen")
}
