//! `cargo xtask pkg-relay`: the relay on npm, as esbuild and biome ship their binaries. `hail-relay`
//! is a small launcher (`npx hail-relay --sandbox`) whose optional dependencies are one package
//! per platform, `hail-relay-<platform>`, each holding the release binary; npm installs only the
//! one whose `os`/`cpu`/`libc` fit. Built from `pkg-relay-template/` into `pkg-relay/`, packed into
//! `target/` next to `hail-sdk`'s tarball.

use std::path::{Path, PathBuf};

use crate::run::{cargo, cmd, output, root, status, target_dir};

/// A platform with a prebuilt binary: its npm suffix (`process.platform`-`process.arch`, as the
/// launcher looks it up), npm's `os`, `cpu` and `libc` fields, and the Rust target it is built for.
struct Platform {
    npm: &'static str,
    os: &'static str,
    cpu: &'static str,
    /// npm skips the package on another C library (musl on Alpine): the binary links glibc.
    libc: Option<&'static str>,
    rust_target: &'static str,
    /// `std::env::consts` of a host that builds this one natively.
    host: (&'static str, &'static str),
}

/// Every platform the launcher lists. Each is built on a host of its own (no cross-compiling:
/// the relay links SQLite and ring, which need that platform's C compiler), so a run packs the
/// launcher and the host's platform package.
const PLATFORMS: [Platform; 1] = [Platform {
    npm: "linux-x64",
    os: "linux",
    cpu: "x64",
    libc: Some("glibc"),
    rust_target: "x86_64-unknown-linux-gnu",
    host: ("linux", "x86_64"),
}];

/// Stands for the crate's version in the templates.
const TEMPLATE_VERSION: &str = "0.0.0-template";

/// What the templates leave to be filled in; none may be left in a package.
const PLACEHOLDERS: [&str; 6] = [
    TEMPLATE_VERSION,
    "@PLATFORM@",
    "@OS@",
    "@CPU@",
    "@LIBC@",
    "@RUST_TARGET@",
];

/// The packed tarballs.
pub struct Packed {
    /// `hail-relay-<version>.tgz`
    pub launcher: PathBuf,
    /// `hail-relay-<platform>-<version>.tgz`, this host's.
    pub platform: PathBuf,
}

impl Packed {
    /// Both tarballs, platform package first, as one `PATH`-style list (`HAIL_RELAY_TARBALLS`).
    pub fn env_list(&self) -> Result<std::ffi::OsString, String> {
        std::env::join_paths([&self.platform, &self.launcher]).map_err(|e| e.to_string())
    }
}

/// Which build of the relay goes into the platform package.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// What is published (`cargo xtask pkg-relay`).
    Release,
    /// What `cargo xtask test` already built for its sandbox relay: the launcher and the packages'
    /// layout are the same, and a release build of the relay would add about 6 minutes on 2 cores
    /// to a fresh machine's test run (its budget is 20).
    Debug,
}

/// Builds the relay, writes both packages into `pkg-relay/` and packs them.
pub fn run(build: Build) -> Result<Packed, String> {
    let root = root();
    let host = (std::env::consts::OS, std::env::consts::ARCH);
    let platform = PLATFORMS.iter().find(|p| p.host == host).ok_or_else(|| {
        format!(
            "no npm package of the relay for {}-{} (prebuilt: {}); build it with \
             `cargo build --release -p hail-relay`",
            host.0,
            host.1,
            PLATFORMS.map(|p| p.npm).join(", ")
        )
    })?;
    let version = super::version("hail-relay")?;
    let mut cargo_build = cargo();
    cargo_build.args(["build", "--quiet", "--package", "hail-relay"]);
    if build == Build::Release {
        cargo_build.arg("--release");
    }
    status(&mut cargo_build)?;
    let profile = match build {
        Build::Release => "release",
        Build::Debug => "debug",
    };
    let binary = target_dir().join(profile).join("hail-relay");

    let out = root.join("pkg-relay");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("removing pkg-relay/: {e}"))?;
    }
    let templates = root.join("pkg-relay-template");
    let launcher = write_launcher(&templates, &out.join("hail-relay"), &version)?;
    let platform_dir = out.join(format!("hail-relay-{}", platform.npm));
    write_platform(&templates, &platform_dir, platform, &version, &binary)?;

    let packed = Packed {
        launcher: pack(&launcher)?,
        platform: pack(&platform_dir)?,
    };
    for tarball in [&packed.platform, &packed.launcher] {
        let bytes = std::fs::metadata(tarball).map_or(0, |m| m.len());
        println!("packed {} ({} KB)", tarball.display(), bytes / 1024);
    }
    Ok(packed)
}

/// The launcher: its script, README and LICENSE as they are, `relay.example.toml` (the starting
/// point of a real relay's configuration), and its package.json with the version and one optional
/// dependency per platform, each of exactly this version.
fn write_launcher(templates: &Path, dest: &Path, version: &str) -> Result<PathBuf, String> {
    super::copy_dir(&templates.join("hail-relay"), dest)?;
    copy(
        &root().join("relay.example.toml"),
        &dest.join("relay.example.toml"),
    )?;
    let optional = PLATFORMS
        .iter()
        .map(|p| format!("\"hail-relay-{}\": \"{version}\"", p.npm))
        .collect::<Vec<_>>()
        .join(", ");
    let manifest = read(&templates.join("hail-relay/package.json"))?
        .replace(TEMPLATE_VERSION, version)
        .replace(
            "\"optionalDependencies\": {}",
            &format!("\"optionalDependencies\": {{ {optional} }}"),
        );
    checked_manifest(&manifest, "hail-relay", version)?;
    super::write(&dest.join("package.json"), &manifest)?;
    Ok(dest.to_path_buf())
}

/// One platform's package: the binary as `bin/hail-relay`, executable (npm keeps the mode in the
/// tarball), with a package.json that npm installs on that platform only.
fn write_platform(
    templates: &Path,
    dest: &Path,
    platform: &Platform,
    version: &str,
    binary: &Path,
) -> Result<(), String> {
    let bin = dest.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let fill = |text: String| {
        text.replace(TEMPLATE_VERSION, version)
            .replace("@PLATFORM@", platform.npm)
            .replace("@OS@", platform.os)
            .replace("@CPU@", platform.cpu)
            .replace("@RUST_TARGET@", platform.rust_target)
    };
    let mut manifest = fill(read(&templates.join("platform/package.json"))?);
    manifest = match platform.libc {
        Some(libc) => manifest.replace("@LIBC@", libc),
        None => manifest.replace("  \"libc\": [\"@LIBC@\"],\n", ""),
    };
    let name = format!("hail-relay-{}", platform.npm);
    checked_manifest(&manifest, &name, version)?;
    super::write(&dest.join("package.json"), &manifest)?;
    super::write(
        &dest.join("README.md"),
        &fill(read(&templates.join("platform/README.md"))?),
    )?;
    copy(&templates.join("hail-relay/LICENSE"), &dest.join("LICENSE"))?;
    let exe = bin.join("hail-relay");
    copy(binary, &exe)?;
    executable(&exe)
}

/// A filled-in package.json is JSON, with the expected name and version and no placeholder left.
fn checked_manifest(text: &str, name: &str, version: &str) -> Result<(), String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{name}/package.json: {e}"))?;
    if let Some(left) = PLACEHOLDERS.iter().find(|p| text.contains(**p)) {
        return Err(format!("{name}/package.json: {left} left unfilled"));
    }
    if json["name"] != name || json["version"] != version {
        return Err(format!(
            "{name}/package.json: name {} and version {}, expected {name} {version}",
            json["name"], json["version"]
        ));
    }
    Ok(())
}

/// `npm pack` of `dir` into `target/`; the tarball's path.
fn pack(dir: &Path) -> Result<PathBuf, String> {
    let target = root().join("target");
    std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    let packed = output(
        cmd("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&target)
            .current_dir(dir),
    )
    .ok_or_else(|| format!("`npm pack` failed in {}", dir.display()))?;
    Ok(target.join(packed.trim()))
}

#[cfg(unix)]
fn executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn executable(_: &Path) -> Result<(), String> {
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_fill_in_to_valid_manifests() {
        let dir = std::env::temp_dir().join(format!("hail-pkg-relay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let templates = root().join("pkg-relay-template");
        let launcher = write_launcher(&templates, &dir.join("hail-relay"), "1.2.3");
        let manifest = launcher
            .and_then(|d| read(&d.join("package.json")))
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()));
        let _ = std::fs::remove_dir_all(&dir);
        let manifest = manifest.expect("the launcher's package.json");
        assert_eq!(manifest["bin"]["hail-relay"], "bin/hail-relay.js");
        for p in PLATFORMS {
            assert_eq!(
                manifest["optionalDependencies"][format!("hail-relay-{}", p.npm)],
                "1.2.3"
            );
        }
    }
}
