//! The `--www` folder (the demo page), served at `/`: only what lies inside it. A symlink that
//! resolves outside the folder, a dotfile or anything under a dot-directory (`.env`,
//! `.git/config`) is a 404, as if it were not there: a folder handed to the relay may hold more
//! than was meant to be published, and tower-http's `ServeDir` serves all of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

/// The folder and its file service.
#[derive(Clone)]
pub struct Www {
    /// The folder, resolved (symlinks followed) once at start.
    root: Arc<PathBuf>,
    files: ServeDir,
}

impl Www {
    /// Serves `folder`.
    pub fn new(folder: PathBuf) -> Self {
        let root = std::fs::canonicalize(&folder).unwrap_or_else(|_| folder.clone());
        Self {
            root: Arc::new(root),
            files: ServeDir::new(folder),
        }
    }

    /// The answer to `request`: the file, or 404 (a problem body, made by the app).
    pub async fn serve(self, request: Request) -> Response {
        if !self.allowed(request.uri().path()).await {
            return StatusCode::NOT_FOUND.into_response();
        }
        match self.files.oneshot(request).await {
            Ok(response) => response.into_response(),
            Err(never) => match never {},
        }
    }

    /// Whether URL `path` names something inside the folder that is no dotfile.
    async fn allowed(&self, path: &str) -> bool {
        // Decoded as `ServeDir` decodes it: `/%2eenv` is `.env`.
        let Ok(decoded) = percent_encoding::percent_decode_str(path).decode_utf8() else {
            return false;
        };
        let mut target = self.root.as_ref().clone();
        for segment in decoded.split('/').filter(|s| !s.is_empty()) {
            // `.`, `..` and every dot-name; a backslash is a separator elsewhere.
            if segment.starts_with('.') || segment.contains('\\') {
                return false;
            }
            target.push(segment);
        }
        let Ok(real) = tokio::fs::canonicalize(&target).await else {
            // Not there (or a dangling link): `ServeDir` answers 404.
            return true;
        };
        if !real.starts_with(self.root.as_path()) {
            return false;
        }
        // A folder is answered with its index.html, which may be a link of its own.
        if real.is_dir() {
            return inside(&real.join("index.html"), &self.root).await;
        }
        true
    }
}

/// Whether `path` is missing or resolves inside `root`.
async fn inside(path: &Path, root: &Path) -> bool {
    tokio::fs::canonicalize(path)
        .await
        .map_or(true, |real| real.starts_with(root))
}
