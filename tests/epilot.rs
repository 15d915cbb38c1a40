//! epilot's own client (`@epilot/file-client` 1.23, pinned in web/epilot/package-lock.json)
//! run as its users run it (Node.js, its README's calls) against the local stack:
//! uploadFile, saveFile, downloadS3File, generatePublicLink, listPublicLinksForFile,
//! getSession and saveFileV2 with version_only. The client side is
//! web/epilot/test/epilot-client.mjs; `make test` installs it.

use std::path::Path;

use integration_tests::{new_org, stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn epilots_client_drives_upload_save_share_and_versions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/epilot");
    assert!(
        root.join("node_modules/@epilot/file-client").exists(),
        "run `make web-deps` (npm ci in web/epilot) first"
    );
    let stack = stack().await;
    let org = new_org();
    let out = tokio::process::Command::new("node")
        .arg("test/epilot-client.mjs")
        .current_dir(&root)
        .env("FILES_API_URL", &stack.base)
        .env("FILES_TOKEN", stack.token(&org))
        .output()
        .await
        .expect("node runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "epilot's client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
}
