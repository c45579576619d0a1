//! The `hail-relay` binary as a child process: config files, a child killed when dropped, and
//! the URL the relay prints once it listens.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_hail-relay");

/// The relay binary, with its embedded store in this test process's own temporary folder.
pub fn relay_cmd() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("HAIL_RELAY_DATA_DIR", test_dir().join("data"));
    cmd
}

fn test_dir() -> PathBuf {
    std::env::temp_dir().join(format!("hail-relay-test-{}", std::process::id()))
}

/// Writes `text` to file `name` in this test process's own temporary folder.
pub fn write_config(name: &str, text: &str) -> PathBuf {
    let dir = test_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A child process, killed and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the relay `cmd` (stdout piped here) and returns it with the URL it listens on, read
/// from its first line of output.
pub fn listening(cmd: &mut Command) -> (Proc, String) {
    let mut child = Proc(cmd.stdout(Stdio::piped()).spawn().unwrap());
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        // It did not start: say why, from its stderr where the test piped it.
        let mut why = String::new();
        if let Some(mut err) = child.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut err, &mut why);
        }
        panic!("the relay did not start: printed {line:?}, stderr: {why}");
    };
    let url = url.to_owned();
    (child, url)
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's `redis-server` on loopback `port`, without persistence unless `extra` turns it on.
pub fn redis_server(port: u16, extra: &[&str]) -> Proc {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(if extra.is_empty() {
            &["--appendonly", "no"][..]
        } else {
            extra
        })
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (Debian package redis-server; `cargo xtask setup` installs it)");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Proc(child)
}
