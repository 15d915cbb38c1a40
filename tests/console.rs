//! The web console (web/console, served by the local API at `/`) in headless Chromium,
//! driven by playwright-core (web/console-test, pinned lockfile): sign in, uploads by
//! picker and by drop (one in parts, cut off and resumed after a reload), the list with
//! thumbnails, search, download byte-exact, versions, public/private, a public link in a
//! fresh browser context and revoked, delete and bulk delete; no console errors; a phone's
//! width. Screenshots are left in target/console-screenshots.

use integration_tests::run_node_against_the_stack_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_signs_in_uploads_lists_shares_and_deletes_in_a_real_browser() {
    let shots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
    std::fs::create_dir_all(&shots).expect("the screenshot folder");
    run_node_against_the_stack_with(
        "console-test",
        "node_modules/playwright-core",
        "test/console-browser.mjs",
        &[("SCREENSHOT_DIR", shots.to_str().expect("a UTF-8 path"))],
    )
    .await;
    assert!(shots.join("console.png").exists());
}
