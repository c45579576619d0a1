//! `--www` serves its folder and nothing else: the real relay process in front of a folder with
//! a symlink out of it, a symlinked folder out of it, `.env` and `.git/config`.

#[path = "support/process.rs"]
mod process;

use std::os::unix::fs::symlink;

use process::{listening, relay_cmd};

#[tokio::test]
async fn www_serves_only_what_lies_inside_and_no_dotfiles() {
    let base = std::env::temp_dir().join(format!("hail-www-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let www = base.join("www");
    let outside = base.join("outside");
    std::fs::create_dir_all(www.join(".git")).unwrap();
    std::fs::create_dir_all(www.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(www.join("app.js"), "console.log('app')").unwrap();
    std::fs::write(www.join("sub/page.html"), "sub page").unwrap();
    std::fs::write(www.join(".env"), "SECRET=canary-env").unwrap();
    std::fs::write(www.join(".git/config"), "canary-git-config").unwrap();
    std::fs::write(outside.join("secret.txt"), "canary-outside").unwrap();
    std::fs::write(outside.join("index.html"), "canary-outside-index").unwrap();
    symlink(outside.join("secret.txt"), www.join("leak.txt")).unwrap();
    symlink(&outside, www.join("linked")).unwrap();
    symlink(outside.join("index.html"), www.join("sub/index.html")).unwrap();
    // A link that stays inside is fine.
    symlink(www.join("app.js"), www.join("alias.js")).unwrap();

    let (_proc, url) = listening(
        relay_cmd()
            .args(["--sandbox", "--listen", "127.0.0.1:0", "--www"])
            .arg(&www)
            .stderr(std::process::Stdio::null()),
    );
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let req = http.get(format!("{url}{path}"));
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    for (path, body) in [
        ("/", "<h1>demo</h1>"),
        ("/index.html", "<h1>demo</h1>"),
        ("/app.js", "console.log('app')"),
        ("/alias.js", "console.log('app')"),
        ("/sub/page.html", "sub page"),
    ] {
        assert_eq!(get(path).await, (200, body.to_owned()), "{path}");
    }
    for path in [
        "/leak.txt",
        "/linked/secret.txt",
        "/linked/",
        "/sub/",
        "/sub/index.html",
        "/.env",
        "/%2eenv",
        "/.git/config",
        "/.git/",
        "/sub/../.env",
    ] {
        let (status, body) = get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("canary"), "{path}: {body}");
    }
    let _ = std::fs::remove_dir_all(&base);
}
