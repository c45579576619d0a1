//! The package's type declarations, from wasm-bindgen's `web/hail.d.ts`: `index.d.ts` for
//! `import` (ESM, with a default export) and `index.d.cts` for `require` (CommonJS, where a
//! default export would be a lie), the same API in both.
//!
//! Taken out of wasm-bindgen's file: its loader declarations (`InitOutput` lists the module's
//! raw, minified exports; `InitInput`, `initSync`, the default `__wbg_init`), replaced by the
//! package's own `init`/`initSync`; and `[Symbol.dispose]()`, which needs `lib: esnext.disposable`
//! and fails a strict project on `lib: ["ES2022", "DOM"]` (`free()` remains, and `using` works at
//! run time where the platform has `Symbol.dispose`).

use std::path::Path;

/// The package's loader declarations (both files).
const LOADER: &str = r#"
/** What `init` can load the module from: its URL, a `fetch` answer, its bytes or the compiled module. */
export type ModuleSource = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
/**
 * Loads the WebAssembly module; resolves once it is ready, and at once when it already is.
 *
 * Only `hail-sdk/web` needs it: `hail-sdk` loads the module when it is imported (in browsers
 * with top-level await; in Node synchronously), where `init` has nothing left to do.
 * Without `module_or_path`, the module is fetched from `hail_bg.wasm` beside the glue.
 * Rejects when the module cannot be fetched or compiled (a Content-Security-Policy needs
 * `script-src 'wasm-unsafe-eval'`).
 */
export function init(options?: { module_or_path?: ModuleSource | Promise<ModuleSource> }): Promise<void>;
/**
 * Loads the WebAssembly module from its bytes or the compiled module, synchronously (browsers
 * may refuse to compile large modules synchronously on the main thread; prefer `init`).
 * Nothing to do after `hail-sdk` was imported.
 */
export function initSync(options: { module: BufferSource | WebAssembly.Module }): void;
"#;

/// Writes `index.d.ts` and `index.d.cts` into `pkg` from `pkg/web/hail.d.ts`, and removes the
/// wasm-bindgen type files nothing refers to.
pub fn write(pkg: &Path) -> Result<(), String> {
    let web = pkg.join("web");
    let generated = web.join("hail.d.ts");
    let text =
        std::fs::read_to_string(&generated).map_err(|e| format!("{}: {e}", generated.display()))?;
    let api = public_api(&text)?;
    let header = "/* hail-sdk: generated from the Rust definitions by `cargo xtask pkg`. */\n";
    super::write(
        &pkg.join("index.d.ts"),
        &format!("{header}{api}{LOADER}export default init;\n"),
    )?;
    super::write(&pkg.join("index.d.cts"), &format!("{header}{api}{LOADER}"))?;
    // For resolvers without `exports` (TypeScript's node10): `hail-sdk/web` is the folder.
    super::write(
        &web.join("index.d.ts"),
        "export * from \"../index.js\";\nexport { default } from \"../index.js\";\n",
    )?;
    for file in ["hail.d.ts", "hail_bg.wasm.d.ts"] {
        let path = web.join(file);
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// wasm-bindgen's declarations without its loader and without `[Symbol.dispose]()`.
fn public_api(text: &str) -> Result<String, String> {
    // wasm-bindgen writes its loader declarations last, starting with `InitInput`.
    let start = "export type InitInput =";
    let end = text
        .find(start)
        .ok_or_else(|| format!("web/hail.d.ts: no `{start}`: wasm-bindgen's output changed"))?;
    let mut api = String::with_capacity(end);
    let mut disposers = 0;
    for line in text[..end].split_inclusive('\n') {
        let indent = &line[..line.len() - line.trim_start().len()];
        match line.trim() {
            "[Symbol.dispose](): void;" => disposers += 1,
            // wasm-bindgen's own members of every class, documented here once.
            "private constructor();" => {
                api.push_str(&format!("{indent}/** Not constructed with `new`: made by this package's functions. */\n{line}"));
            }
            "free(): void;" => {
                api.push_str(&format!(
                    "{indent}/** Releases its memory in the WebAssembly module at once (the garbage collector does it \
                     otherwise); calling it afterwards throws a `HailError`. */\n{line}"
                ));
            }
            _ => api.push_str(line),
        }
    }
    if disposers == 0 {
        return Err(
            "web/hail.d.ts: no `[Symbol.dispose]` found: wasm-bindgen's output changed".into(),
        );
    }
    for leftover in ["InitOutput", "__wbg_init", "Symbol.dispose", "any;"] {
        if api.contains(leftover) {
            return Err(format!(
                "web/hail.d.ts: `{leftover}` left in the public API"
            ));
        }
    }
    Ok(api
        .trim_start_matches("/* tslint:disable */\n/* eslint-disable */\n")
        .to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_loader_and_disposers_go_and_free_is_documented() {
        let text = "/* tslint:disable */\n/* eslint-disable */\nexport class A {\n    free(): void;\n    [Symbol.dispose](): void;\n}\nexport type InitInput = RequestInfo;\nexport interface InitOutput { readonly a: any; }\n";
        let api = super::public_api(text).unwrap_or_default();
        assert!(
            api.starts_with("export class A {\n    /** Releases its memory"),
            "{api}"
        );
        assert!(api.ends_with("*/\n    free(): void;\n}\n"), "{api}");
        assert!(super::public_api("export class A {}\n").is_err());
    }
}
