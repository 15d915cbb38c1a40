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

/// The console shows malware scans: a badge on a file being scanned and an infected
/// one, no thumbnail of withheld bytes, the verdict in the details.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_shows_each_files_malware_scan() {
    use serde_json::json;
    let mut config = integration_tests::config();
    config.scan = shared::config::ScanSettings::guardduty();
    let s = integration_tests::stack_with(config).await;
    let org = integration_tests::new_org();
    let png = thumbnail::samples::png(64, 32, false);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let names = ["scanning", "infected", "clean"].map(|n| format!("{n}-{}.png", &run[..6]));
    let mut keys = Vec::new();
    for name in &names {
        let s3ref = s.upload(&org, name, "image/png", &png).await;
        let file = s
            .save(&org, json!({"s3ref": s3ref, "filename": name}))
            .await
            .expect(201);
        keys.push(
            file["versions"][0]["s3ref"]["key"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for (key, status) in [(&keys[1], "THREATS_FOUND"), (&keys[2], "NO_THREATS_FOUND")] {
        let event = json!({
            "detail-type": shared::guardduty::DETAIL_TYPE, "source": "aws.guardduty",
            "detail": {"scanStatus": "COMPLETED", "resourceType": "S3_OBJECT",
                "s3ObjectDetails": {"bucketName": s.service.config.bucket, "objectKey": key},
                "scanResultDetails": {"scanResultStatus": status,
                    "threats": [{"name": "EICAR-Test-File (not a virus)"}]}}
        });
        shared::guardduty::handle_scan_event(&s.service, &event)
            .await
            .unwrap();
    }
    let shots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
    integration_tests::run_node_with(
        &s,
        &org,
        "console-test",
        "node_modules/playwright-core",
        "test/console-scan.mjs",
        &[
            ("SCANNING_NAME", names[0].as_str()),
            ("INFECTED_NAME", names[1].as_str()),
            ("CLEAN_NAME", names[2].as_str()),
            ("SCREENSHOT_DIR", shots.to_str().expect("a UTF-8 path")),
        ],
    )
    .await;
}
