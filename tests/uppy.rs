//! Uppy (`@uppy/core` + `@uppy/aws-s3`, pinned in web/uppy/package-lock.json) in headless
//! Chromium, through the example glue page, against the local stack: a 64 MiB upload in
//! parts, and one cut off and retried without sending its stored parts again. The
//! browser side is web/uppy/test/uppy-browser.mjs; `make test` installs what it needs.

use integration_tests::run_node_against_the_stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uppy_uploads_in_parts_and_resumes_through_the_multipart_routes() {
    // The bundle is built by `make web-deps` too.
    assert!(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../web/uppy/dist/uppy-file-service.js")
            .exists(),
        "run `make web-deps` (the bundle in web/uppy) first"
    );
    run_node_against_the_stack("uppy", "node_modules/@uppy/aws-s3", "test/uppy-browser.mjs").await;
}
