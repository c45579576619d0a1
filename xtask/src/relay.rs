//! A `hail-relay --sandbox` child process, stopped when dropped (also when a step fails).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::run::{cargo, cmd, status, target_dir};

pub struct Relay {
    child: Child,
    /// e.g. `http://127.0.0.1:40123`
    pub url: String,
}

impl Relay {
    /// Builds and starts the sandbox relay on `listen`, serving `www` when given; its log goes
    /// to `log` when given (else to this terminal).
    pub fn start(
        listen: &str,
        www: Option<&str>,
        log: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        status(cargo().args(["build", "--quiet", "--package", "hail-relay"]))?;
        let mut command = cmd(target_dir().join("debug/hail-relay"));
        command.args(["--sandbox", "--listen", listen]);
        if let Some(www) = www {
            command.args(["--www", www]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(match log {
                Some(path) => std::fs::File::create(path)
                    .map(Stdio::from)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                None => Stdio::inherit(),
            })
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .spawn()
            .map_err(|e| format!("hail-relay could not start: {e}"))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        match line.split_whitespace().find(|w| w.starts_with("http://")) {
            Some(url) => Ok(Self {
                url: url.to_owned(),
                child,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("hail-relay did not start (it printed {line:?})"))
            }
        }
    }

    /// Waits until the relay exits (the demo: until interrupted).
    pub fn wait(mut self) -> Result<(), String> {
        self.child.wait().map(|_| ()).map_err(|e| e.to_string())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
