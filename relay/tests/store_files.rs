//! The embedded store's file, as an operator's mistakes and a full disk meet it: `/healthz`
//! says whether sends can be recorded (a deleted or replaced file, a file that cannot be
//! written), the files are the relay's own (0600, folder 0700), and a store that cannot be
//! opened stops the start with a reason naming the file, never a panic.
//!
//! Read-only files: the tests run as root, whom `chmod 0444` does not stop, so they make files
//! immutable with `chattr +i` (which stops root too; the data folder must be on a filesystem
//! that supports it, such as ext4).

#[path = "support/process.rs"]
mod process;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use process::{free_port, listening, relay_cmd, write_config, Proc};
use serde_json::Value;

const FILE: &str = "idempotency.sqlite3";

/// A fresh data folder (not created yet) for one test.
fn data_dir(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("hail-store-{name}-{}", free_port()))
        .join("data")
}

/// The configuration for the store in `dir`: a file of its own, since tests run in parallel
/// and a relay must not read one half rewritten by another test.
fn config(dir: &Path) -> PathBuf {
    let test = dir.parent().and_then(Path::file_name).unwrap();
    write_config(
        &format!("{}.toml", test.to_string_lossy()),
        "store = \"embedded\"\n",
    )
}

/// A sandbox relay with the embedded store in `dir`; its log lines arrive on the receiver.
fn start(dir: &Path) -> (Proc, String, mpsc::Receiver<String>) {
    let mut cmd = relay_cmd();
    cmd.args(["--sandbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(config(dir))
        .env("HAIL_RELAY_DATA_DIR", dir)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped());
    let (mut proc, url) = listening(&mut cmd);
    let stderr = proc.0.stderr.take().unwrap();
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (proc, url, log)
}

fn healthz(url: &str) -> (u16, Value) {
    // A blocking client is not among the dev-dependencies: one request on a plain socket.
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // Chunked or not, the JSON object is between the first `{` and the last `}`.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `chattr` on `files`; undone (`-i`) when dropped, so the test's files can be removed.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(files: &[PathBuf]) -> Self {
        for f in files {
            let out = Command::new("chattr").arg("+i").arg(f).output().unwrap();
            assert!(
                out.status.success(),
                "chattr +i {} (needs root and an ext4-like filesystem): {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Self(files.to_vec())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(f).status();
        }
    }
}

fn sidecars(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(FILE),
        dir.join(format!("{FILE}-wal")),
        dir.join(format!("{FILE}-shm")),
    ]
}

#[test]
fn a_new_store_is_announced_and_private() {
    let dir = data_dir("new");
    let (_relay, url, log) = start(&dir);
    let path = dir.join(FILE);
    let announced = log
        .iter()
        .take_while(|l| !l.contains("relay started"))
        .any(|l| l.contains("new empty store at") && l.contains(&*path.to_string_lossy()));
    assert!(announced, "no \"new empty store at {}\"", path.display());
    assert_eq!(healthz(&url).0, 200);
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    for file in sidecars(&dir) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[test]
fn a_deleted_store_turns_healthz_503() {
    let dir = data_dir("deleted");
    let (_relay, url, _log) = start(&dir);
    assert_eq!(healthz(&url).0, 200);
    for file in sidecars(&dir) {
        let _ = std::fs::remove_file(file);
    }
    let (status, body) = healthz(&url);
    assert_eq!(status, 503, "{body}");
    let why = body["store"].as_str().unwrap_or("");
    assert!(
        why.contains("deleted") || why.contains("replaced"),
        "{body}"
    );
    assert!(why.contains(FILE), "{body}");
}

#[test]
fn a_replaced_store_turns_healthz_503() {
    let dir = data_dir("replaced");
    let (_relay, url, _log) = start(&dir);
    assert_eq!(healthz(&url).0, 200);
    // A restore from a backup: another file put in its place.
    let copy = dir.join("copy");
    std::fs::copy(dir.join(FILE), &copy).unwrap();
    std::fs::rename(&copy, dir.join(FILE)).unwrap();
    let (status, body) = healthz(&url);
    assert_eq!(status, 503, "{body}");
    assert!(
        body["store"].as_str().unwrap_or("").contains("replaced"),
        "{body}"
    );
}

#[test]
fn a_store_that_cannot_be_written_turns_healthz_503_until_it_can() {
    let dir = data_dir("unwritable");
    let (_relay, url, _log) = start(&dir);
    assert_eq!(healthz(&url).0, 200);
    let [db, wal, _] = sidecars(&dir);
    {
        let _frozen = Immutable::set(&[db, wal]);
        let (status, body) = healthz(&url);
        assert_eq!(status, 503, "{body}");
        assert!(
            body["store"].as_str().is_some_and(|s| !s.is_empty()),
            "{body}"
        );
    }
    let (status, body) = healthz(&url);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_read_only_store_stops_the_start_naming_the_file_and_leaves_nothing_behind() {
    let dir = data_dir("readonly");
    {
        let (_relay, url, _log) = start(&dir);
        assert_eq!(healthz(&url).0, 200);
    }
    let [db, wal, shm] = sidecars(&dir);
    let _ = std::fs::remove_file(&wal);
    let _ = std::fs::remove_file(&shm);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    {
        let _frozen = Immutable::set(std::slice::from_ref(&db));
        let out = relay_cmd()
            .args(["--sandbox", "--listen", "127.0.0.1:0", "--config"])
            .arg(config(&dir))
            .env("HAIL_RELAY_DATA_DIR", &dir)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot open store at {}", db.display())),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // The operator undoes the mistake (chattr -i): the relay starts, and no file it left
    // behind keeps it refusing; its files are 0600 again.
    let (_relay, url, _log) = start(&dir);
    assert_eq!(healthz(&url).0, 200);
    for file in sidecars(&dir) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
