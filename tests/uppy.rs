//! Uppy (`@uppy/core` + `@uppy/aws-s3`, pinned in web/uppy/package-lock.json) in headless
//! Chromium, through the example glue page, against the local stack: a 64 MiB upload in
//! parts, and one cut off and retried without sending its stored parts again. The
//! browser side is web/uppy/test/uppy-browser.mjs; `make test` installs what it needs.

use std::path::Path;

use integration_tests::{new_org, stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uppy_uploads_in_parts_and_resumes_through_the_multipart_routes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/uppy");
    assert!(
        root.join("node_modules/@uppy/aws-s3").exists()
            && root.join("dist/uppy-file-service.js").exists(),
        "run `make web-deps` (npm ci and the bundle in web/uppy) first"
    );
    let stack = stack().await;
    let org = new_org();
    let out = tokio::process::Command::new("node")
        .arg("test/uppy-browser.mjs")
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
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
}
