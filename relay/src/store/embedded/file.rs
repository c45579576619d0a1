//! The embedded store's files: the database and SQLite's `-wal` and `-shm` beside it.
//!
//! They hold what vendors answered (names, addresses): mode 0600, only the relay's user may
//! read them. SQLite gives its side files the database's mode, so a database once made
//! read-only (0444) leaves 0444 side files that would keep the relay refusing after the
//! database is fixed: every start sets all three back to 0600.
//!
//! The relay keeps a handle of the database file open beside SQLite's, to notice when the file
//! at the path is no longer the one it writes (deleted, or replaced by a restore): its records
//! would then be lost at the next restart, and a retry after it sent twice. SQLite's locks are
//! POSIX locks, which any close of the file in this process releases: the handle is closed only
//! with the store, after SQLite's connection.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::startup_error::StartupError;

/// The database file, and the relay's own handle of it.
pub(super) struct StoreFile {
    path: PathBuf,
    file: File,
}

/// "data_dir: cannot open store at PATH: why", the one form of every start-up error about the
/// files: `data_dir` is the setting that places them.
pub(crate) fn cannot(
    path: &Path,
    why: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> StartupError {
    StartupError::Store {
        setting: "data_dir",
        path: path.to_owned(),
        source: why.into(),
    }
}

/// The database and its side files.
fn all(path: &Path) -> [PathBuf; 3] {
    let side = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_owned(), side("-wal"), side("-shm")]
}

/// Sets every existing file of the store at `path` to mode 0600.
pub(crate) fn make_private(path: &Path) -> Result<(), StartupError> {
    for file in all(path) {
        let mode = match std::fs::metadata(&file) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(cannot(path, format!("{}: {e}", file.display()))),
        };
        if mode != 0o600 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| {
                    cannot(
                        path,
                        format!("setting the mode of {} to 0600: {e}", file.display()),
                    )
                },
            )?;
            tracing::warn!(file = %file.display(), was = format!("{mode:o}"), "store file mode set to 0600");
        }
    }
    Ok(())
}

impl StoreFile {
    /// Opens the database file for writing, creating it (0600) if missing; `true` if created.
    /// A file that cannot be written (read-only, immutable, on a read-only filesystem) is
    /// refused here with the system's reason, before SQLite would quietly open it read-only.
    pub(super) fn open(path: &Path) -> Result<(Self, bool), StartupError> {
        make_private(path)?;
        let created = match std::fs::metadata(path) {
            Ok(_) => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(cannot(path, e)),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            // An existing database is the store: never cut.
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| cannot(path, e))?;
        let store = Self {
            path: path.to_owned(),
            file,
        };
        Ok((store, created))
    }

    /// Whether the file at the path is still the one the relay writes (same device and inode).
    pub(super) fn check(&self) -> Result<(), String> {
        let open = self
            .file
            .metadata()
            .map_err(|e| format!("store file {}: {e}", self.path.display()))?;
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
                "store file {} was deleted while the relay runs: what it records now is lost at \
                 the next restart; restore the file or restart the relay",
                self.path.display()
            )),
            Err(e) => Err(format!("store file {}: {e}", self.path.display())),
            Ok(now) if (now.dev(), now.ino()) != (open.dev(), open.ino()) => Err(format!(
                "store file {} was replaced while the relay runs: the relay still writes the old \
                 file; restart it to use the new one",
                self.path.display()
            )),
            Ok(_) => Ok(()),
        }
    }
}
