//! Running commands: from the workspace root, failing with the command line in the message.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (where the root Cargo.toml is).
pub fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` when set (relative to the workspace root,
/// where [`cargo`] runs), else `target/` in the workspace root. Every path to a built binary or
/// module goes through this, so a build with its own target folder finds its own products.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// `cargo`, as the one that runs xtask.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// A command run from the workspace root.
pub fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    cmd
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd`, output shown; `Err` unless it exits 0.
pub fn status(cmd: &mut Command) -> Result<(), String> {
    let s = cmd
        .status()
        .map_err(|e| format!("`{}` could not start: {e}", describe(cmd)))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({s})", describe(cmd)))
    }
}

/// Runs `cmd` and returns its stdout; `None` when it cannot start or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Passed and failed test counts read off test runners' summary lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, line: &str) {
        let line = line.trim();
        // cargo test and wasm-bindgen-test-runner: "test result: ok. 3 passed; 0 failed; …"
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.passed += number_before(rest, " passed");
            self.failed += number_before(rest, " failed");
        }
        // node --test (TAP): "# pass 3", "# fail 0"
        if let Some(n) = line.strip_prefix("# pass ") {
            self.passed += n.trim().parse().unwrap_or(0);
        }
        if let Some(n) = line.strip_prefix("# fail ") {
            self.failed += n.trim().parse().unwrap_or(0);
        }
    }
}

fn number_before(s: &str, word: &str) -> u64 {
    s.find(word)
        .and_then(|end| s[..end].rsplit([' ', '.']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Runs `cmd`, echoing its stdout line by line, and counts the tests it reports.
pub fn tests(cmd: &mut Command) -> (Result<(), String>, Counts) {
    let mut counts = Counts::default();
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            return (
                Err(format!("`{}` could not start: {e}", describe(cmd))),
                counts,
            )
        }
    };
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            counts.add(&line);
        }
    }
    let result = match child.wait() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("`{}` failed ({s})", describe(cmd))),
        Err(e) => Err(format!("`{}`: {e}", describe(cmd))),
    };
    (result, counts)
}

/// The `[--seconds N]` argument of `cargo xtask <command>`, `default` when absent.
pub fn seconds_arg(args: &[String], default: u64, command: &str) -> Result<u64, String> {
    match args {
        [] => Ok(default),
        [flag, n] if flag == "--seconds" => n
            .parse()
            .map_err(|_| format!("--seconds {n}: not a number")),
        _ => Err(format!("usage: cargo xtask {command} [--seconds N]")),
    }
}

/// A memory figure of process `pid` from `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …), in MB;
/// 0 where it cannot be read.
pub fn memory_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_and_node_summaries() {
        let mut c = Counts::default();
        c.add("test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
        c.add("test result: FAILED. 3 passed; 2 failed; 0 ignored");
        c.add("# pass 4");
        c.add("# fail 1");
        c.add("unrelated 9 passed");
        assert_eq!((c.passed, c.failed), (19, 3));
    }

    #[test]
    fn reads_the_seconds_argument() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(seconds_arg(&args(&[]), 10, "bench"), Ok(10));
        assert_eq!(seconds_arg(&args(&["--seconds", "5"]), 10, "bench"), Ok(5));
        assert!(seconds_arg(&args(&["--seconds", "x"]), 10, "bench").is_err());
        assert_eq!(
            seconds_arg(&args(&["-s"]), 10, "soak"),
            Err("usage: cargo xtask soak [--seconds N]".into())
        );
    }

    #[test]
    fn reads_this_process_memory() {
        let rss = memory_mb(std::process::id(), "VmRSS");
        assert!(rss > 0.0 && rss <= memory_mb(std::process::id(), "VmHWM"));
        assert_eq!(memory_mb(std::process::id(), "NoSuchField"), 0.0);
    }
}
