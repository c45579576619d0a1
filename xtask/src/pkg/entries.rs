//! The package's entry points around wasm-bindgen's `web` glue (`pkg/web/hail.js`), one module
//! instance per JS realm whichever entry is imported:
//!
//! - `index.js` (browsers, bundlers, a page without a bundler): loads the module on import (top-level
//!   await) from the `.wasm` file beside the glue, found through `new URL(…, import.meta.url)`,
//!   which Vite, webpack, Turbopack, Rollup and Parcel copy as an asset. Where that file cannot
//!   be fetched (esbuild copies no such asset) it falls back to the same bytes as a JS module,
//!   which bundlers split into a chunk loaded only then (esbuild only with `--splitting`; else
//!   it inlines them).
//! - `web/index.js`: the same API, loaded when the page calls `init()` (its own URL or bytes).
//! - `web/embedded.js` (the `webpack` condition): the bytes as a JS module, instantiated
//!   synchronously on import. webpack warns about top-level await for most targets (Next.js's
//!   client build included: "your target environment does not appear to support
//!   'async/await'"); this costs 68 KB gzip instead of 51 KB and gives up streaming compilation,
//!   which browsers allow synchronously for a module this small (measured: 1.7 ms in Chromium).
//! - `node/hail.cjs`: one CommonJS file with the bytes inside (esbuild's `binary` loader),
//!   instantiated synchronously on `require`. No file is read at run time, so a server bundle
//!   (Next.js with Turbopack or webpack) needs no asset copied. `node/hail.mjs` is its ESM face,
//!   so `import` and `require` share one instance.

use std::path::Path;

use crate::run::{cmd, output, root, status};

/// The browser entry (`index.js`).
const INDEX_JS: &str = r#"/* @ts-self-types="./index.d.ts" */
// Loads the WebAssembly module on import. The .wasm file beside the glue first (streamed, and
// copied by bundlers that understand `new URL(…, import.meta.url)`); when it cannot be fetched,
// the same bytes as a JS module (where the bundler splits chunks, one fetched only then).
import { init } from "./web/index.js";
export * from "./web/index.js";
export { default } from "./web/index.js";
try {
  await init();
} catch (first) {
  try {
    await init({ module_or_path: (await import("./web/hail_bg.wasm.js")).default });
  } catch (second) {
    // Browsers name the policy when a Content-Security-Policy refused to compile the module.
    const csp = /unsafe-eval|CSP|Content.Security.Policy/i.test(String(second))
      ? " The page's Content-Security-Policy must allow it with script-src 'wasm-unsafe-eval'."
      : "";
    throw new Error(
      "hail-sdk: the WebAssembly module could not be loaded (" + first + "; from the embedded bytes: " +
        second + ")." + csp,
      { cause: second },
    );
  }
}
"#;

/// The entry that loads when told (`web/index.js`).
const WEB_INDEX_JS: &str = r#"/* @ts-self-types="../index.d.ts" */
import load, { initSync as loadSync } from "./hail.js";
export * from "./hail.js";

/** Loads the module once; later calls resolve at once. */
export async function init(options) {
  await load(options);
}

/** Loads the module from bytes or a compiled module, synchronously. */
export function initSync(options) {
  loadSync(options);
}

export default init;
"#;

/// The entry for webpack (`web/embedded.js`).
const EMBEDDED_JS: &str = r#"/* @ts-self-types="../index.d.ts" */
// The module's bytes, instantiated synchronously on import: no top-level await, no asset.
import bytes from "./hail_bg.wasm.js";
import { initSync } from "./index.js";
export * from "./index.js";
export { default } from "./index.js";
initSync({ module: bytes });
"#;

/// The entry esbuild bundles into `node/hail.cjs`.
const NODE_ENTRY: &str = r#"import bytes from "../web/hail_bg.wasm";
import { initSync as loadSync } from "../web/hail.js";
export * from "../web/hail.js";
loadSync({ module: bytes });
/** Nothing to do in Node: the module was loaded when this file was. */
export async function init() {}
/** Nothing to do in Node: the module was loaded when this file was. */
export function initSync() {}
"#;

/// What the glue takes from the global scope, taken from Node itself in the Node build: test
/// environments such as Jest's jsdom replace the globals and leave these out.
const NODE_GLOBALS: &str = "export { TextDecoder, TextEncoder } from \"node:util\";\n";

/// Module bytes as an ES module (`export default Uint8Array`).
const BYTES_ENTRY: &str = "export { default } from \"./hail_bg.wasm\";\n";

/// Writes every entry point into `pkg`, from the finished `pkg/web` build.
pub fn write(pkg: &Path) -> Result<(), String> {
    let esbuild = root().join("node_modules/.bin/esbuild");
    let web = pkg.join("web");
    super::write(&pkg.join("index.js"), INDEX_JS)?;
    super::write(&web.join("index.js"), WEB_INDEX_JS)?;
    super::write(&web.join("embedded.js"), EMBEDDED_JS)?;

    let bytes_entry = web.join("bytes-entry.js");
    super::write(&bytes_entry, BYTES_ENTRY)?;
    let bytes = status(
        cmd(&esbuild)
            .arg(&bytes_entry)
            .args(["--bundle", "--format=esm", "--platform=neutral", "--minify"])
            // A target, so that esbuild decodes with its own code where the platform lacks
            // `Uint8Array.fromBase64` (Node before 25, Chromium before 140, Safari before 18.2).
            .args([
                "--target=es2020",
                "--loader:.wasm=binary",
                "--log-level=warning",
            ])
            .arg(format!(
                "--outfile={}",
                web.join("hail_bg.wasm.js").display()
            )),
    );
    remove(&bytes_entry)?;
    bytes?;

    let node = pkg.join("node");
    std::fs::create_dir_all(&node).map_err(|e| format!("{}: {e}", node.display()))?;
    let node_entry = node.join("entry.mjs");
    super::write(&node_entry, NODE_ENTRY)?;
    let globals = node.join("globals.mjs");
    super::write(&globals, NODE_GLOBALS)?;
    let built = status(
        cmd(&esbuild)
            .arg(&node_entry)
            .args([
                "--bundle",
                "--format=cjs",
                "--platform=node",
                "--target=node20",
            ])
            .args(["--loader:.wasm=binary", "--log-level=warning"])
            // The glue's default URL (`import.meta.url`) is used only when `init()` gets no
            // module; this build always passes the bytes.
            .arg("--log-override:empty-import-meta=silent")
            .arg(format!("--inject:{}", globals.display()))
            .arg(format!("--outfile={}", node.join("hail.cjs").display())),
    );
    remove(&node_entry)?;
    remove(&globals)?;
    built?;
    super::write(&node.join("hail.mjs"), &node_esm(&node.join("hail.cjs"))?)?;
    Ok(())
}

/// `node/hail.mjs`: the CommonJS build's exports, by the names Node itself sees.
fn node_esm(cjs: &Path) -> Result<String, String> {
    let names = output(
        cmd("node")
            .arg("-e")
            .arg("console.log(Object.keys(require(process.argv[1])).join(' '))")
            .arg(cjs),
    )
    .ok_or_else(|| format!("{}: node could not require it", cjs.display()))?;
    let names: Vec<&str> = names
        .split_whitespace()
        .filter(|n| *n != "__esModule")
        .collect();
    if !names.contains(&"createRelayClient") || !names.contains(&"init") {
        return Err(format!("{}: unexpected exports {names:?}", cjs.display()));
    }
    Ok(format!(
        "/* @ts-self-types=\"../index.d.ts\" */\n\
         // The ESM face of hail.cjs: one module instance for `import` and `require`.\n\
         import hail from \"./hail.cjs\";\n\
         export const {{ {} }} = hail;\n\
         export default hail.init;\n",
        names.join(", ")
    ))
}

fn remove(path: &Path) -> Result<(), String> {
    std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))
}
