//! `cargo xtask setup`: installs what is missing, quietly when everything is there.

use std::path::Path;

use crate::run::{cargo, cmd, output, root, status};

/// Where Debian puts Chromium and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn run() -> Result<(), String> {
    wasm_target()?;
    chromium()?;
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

fn chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let how = "install Debian's `chromium` and `chromium-driver` \
               (`sudo apt-get install chromium chromium-driver`)";
    let is_root = output(cmd("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        return Err(format!(
            "Chromium or ChromeDriver is missing and this is not root: {how}"
        ));
    }
    let _ = status(cmd("apt-get").args(["update", "-qq"]));
    let install = || {
        status(
            cmd("apt-get")
                .args([
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "chromium",
                    "chromium-driver",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    // The first install can stop half-way ("cannot access archive"); a second one completes it.
    install()
        .or_else(|_| install())
        .map_err(|e| format!("{e}: {how}"))
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
    status(cmd("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])).map_err(|e| {
        format!("{e}: the npm dev tools (playwright-core, binaryen) need Node.js and npm (https://nodejs.org)")
    })
}

/// The wasm-bindgen CLI and test runner, built from this workspace's lock file.
fn wasm_bindgen_tools() -> Result<(), String> {
    status(cargo().args(["build", "--quiet", "--package", "hail-wasm-bindgen-tools"]))
}

/// The wasm-bindgen CLI built by [`run`].
pub fn wasm_bindgen() -> std::path::PathBuf {
    root().join("target/debug/wasm-bindgen")
}
