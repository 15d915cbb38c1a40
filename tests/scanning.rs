//! Malware scanning (`SCAN_MODE=guardduty`): a saved version waits for its verdict; the
//! scan function records GuardDuty's result events (the samples in events/); and every
//! path that hands out bytes answers by the verdict: 409 `scan_pending` while pending or
//! unscannable, 403 `file_infected` when infected, the bytes when clean.

use integration_tests::stream::{streamed_config, StreamReader};
use integration_tests::{new_org, stack_with, Stack};
use reqwest::Method;
use serde_json::{json, Value};
use shared::config::{Config, InfectedAction, ScanSettings};
use shared::guardduty::handle_scan_event;
use thumbnail::samples;

const SAMPLE_KEY: &str =
    "files/123/4ffdc191-f32c-404a-8520-c403b7408afa/0b7b1c3e-2f4a-4d5e-9c8b-7a6f5e4d3c2b/example.pdf";

/// A GuardDuty sample event (events/), about `key` in `bucket`.
fn guardduty(sample: &str, bucket: &str, key: &str) -> Value {
    let path = format!("{}/../events/{sample}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace(SAMPLE_KEY, key)
        .replace("\"file-service-local\"", &format!("\"{bucket}\""));
    serde_json::from_str(&text).unwrap()
}

async fn scanning(config: Config, action: InfectedAction) -> Stack {
    let mut config = config;
    config.scan = ScanSettings {
        infected_action: action,
        ..ScanSettings::guardduty()
    };
    stack_with(config).await
}

/// A public PNG (previews draw it), and the key of its version.
async fn new_image(s: &Stack, org: &str) -> (String, String) {
    let s3ref = s
        .upload(org, "logo.png", "image/png", &samples::png(64, 32, false))
        .await;
    let file = s
        .save(
            org,
            json!({"s3ref": s3ref, "filename": "logo.png", "access_control": "public-read"}),
        )
        .await
        .expect(201);
    let key = file["versions"][0]["s3ref"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    (file["_id"].as_str().unwrap().to_owned(), key)
}

/// Each path that hands out bytes, and the status it answered (with the error code).
async fn every_gated_path(
    s: &Stack,
    org: &str,
    id: &str,
    key: &str,
) -> Vec<(&'static str, u16, String)> {
    let bucket = s.service.config.bucket.clone();
    let code = |answer: &integration_tests::Answer| {
        answer.json["error"].as_str().unwrap_or_default().to_owned()
    };
    let mut seen = Vec::new();
    let mut call = |name: &'static str, answer: integration_tests::Answer| {
        seen.push((name, answer.status, code(&answer)));
    };
    call(
        "download",
        s.call(org, Method::GET, &format!("/v1/files/{id}/download"), None)
            .await,
    );
    call(
        "downloadFiles",
        s.call(
            org,
            Method::POST,
            "/v1/files:downloadFiles",
            Some(json!([{"id": id}])),
        )
        .await,
    );
    let key_query = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC);
    call(
        "downloadS3File",
        s.call(
            org,
            Method::POST,
            &format!("/v1/files:downloadS3?s3_key={key_query}&s3_bucket={bucket}"),
            None,
        )
        .await,
    );
    let signed = s
        .call(
            org,
            Method::POST,
            "/v2/files:signUrls",
            Some(json!({"ids": [id]})),
        )
        .await
        .expect(200);
    let withheld = &signed["withheld"][0];
    seen.push((
        "signUrls",
        if signed["items"][0]["url"].is_string() {
            200
        } else {
            0
        },
        withheld["error"].as_str().unwrap_or_default().to_owned(),
    ));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = |url: String| {
        let client = no_redirects.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (
                status,
                body["error"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let authorized = |path: String| {
        let client = no_redirects.clone();
        let request = client.get(s.url(&path)).bearer_auth(s.token(org));
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (
                status,
                body["error"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let (status, error) = authorized(format!("/v2/files/{id}/content")).await;
    seen.push(("content", status, error));
    let (status, error) = bare(s.url(&format!("/v1/files/public/{id}"))).await;
    seen.push(("public_url", status, error));
    let link = s
        .call(
            org,
            Method::POST,
            &format!("/v1/files/{id}/public/links"),
            None,
        )
        .await
        .expect(201);
    let (status, error) = bare(link.as_str().unwrap().to_owned()).await;
    seen.push(("public link", status, error));
    let (status, error) = authorized(format!("/v1/files/{id}/preview?w=32")).await;
    seen.push(("preview", status, error));
    let (status, error) = authorized(format!(
        "/v1/files:previewS3?w=32&bucket={bucket}&key={key_query}"
    ))
    .await;
    seen.push(("previewS3", status, error));
    let (status, error) = bare(s.url(&format!("/v1/files/public/{id}/preview?w=32"))).await;
    seen.push(("public preview", status, error));
    seen
}

/// What every gated path answers, for one state.
fn all(status: u16, error: &str) -> Vec<(&'static str, u16, String)> {
    let ok = |name: &'static str, redirect: bool| {
        let code = if status == 200 && redirect {
            302
        } else if name == "signUrls" && status != 200 {
            0
        } else {
            status
        };
        (name, code, error.to_owned())
    };
    vec![
        ok("download", false),
        ok("downloadFiles", false),
        ok("downloadS3File", false),
        ok("signUrls", false),
        ok("content", true),
        ok("public_url", true),
        ok("public link", true),
        ok("preview", false),
        ok("previewS3", false),
        ok("public preview", false),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_that_hands_out_bytes_answers_by_the_verdict() {
    let s = scanning(integration_tests::config(), InfectedAction::Keep).await;
    let bucket = s.service.config.bucket.clone();
    let org = new_org();
    let cases = [
        (None, "pending", all(409, "scan_pending")),
        (Some("guardduty-clean.json"), "clean", all(200, "")),
        (
            Some("guardduty-threats-found.json"),
            "infected",
            all(403, "file_infected"),
        ),
        (
            Some("guardduty-unsupported.json"),
            "error",
            all(409, "scan_pending"),
        ),
        (
            Some("guardduty-access-denied.json"),
            "error",
            all(409, "scan_pending"),
        ),
    ];
    for (sample, status, expected) in cases {
        let (id, key) = new_image(&s, &org).await;
        if let Some(sample) = sample {
            let report = handle_scan_event(&s.service, &guardduty(sample, &bucket, &key))
                .await
                .unwrap();
            assert_eq!(report.recorded, status, "{sample}");
        }
        let entity = s
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await
            .expect(200);
        assert_eq!(entity["scan_status"], status, "{sample:?}");
        assert_eq!(entity["versions"][0]["scan_status"], status);
        if sample.is_some() {
            assert!(entity["versions"][0]["scanned_at"].is_string());
        }
        if status == "infected" {
            assert_eq!(
                entity["versions"][0]["scan_verdict"],
                "EICAR-Test-File (not a virus)"
            );
        }
        assert_eq!(
            every_gated_path(&s, &org, &id, &key).await,
            expected,
            "{sample:?}"
        );
    }
    // Lists and counts filter by the latest version's scan; usage counts infected bytes.
    let listed = |filter: &'static str| {
        let s = &s;
        let org = &org;
        async move {
            let page = s
                .call(
                    org,
                    Method::GET,
                    &format!("/v2/files?scan_status={filter}"),
                    None,
                )
                .await
                .expect(200);
            let count = s
                .call(
                    org,
                    Method::GET,
                    &format!("/v2/files:count?scan_status={filter}"),
                    None,
                )
                .await
                .expect(200);
            (
                page["results"].as_array().unwrap().len(),
                count["count"].as_u64().unwrap(),
            )
        }
    };
    assert_eq!(listed("pending").await, (1, 1));
    assert_eq!(listed("clean").await, (1, 1));
    assert_eq!(listed("infected").await, (1, 1));
    assert_eq!(listed("error").await, (2, 2));
    assert_eq!(listed("not_scanned").await, (0, 0));
    assert_eq!(
        s.call(&org, Method::GET, "/v2/files?scan_status=dirty", None)
            .await
            .expect_error(400),
        "invalid_query"
    );
    let usage = s
        .call(&org, Method::GET, "/v2/usage", None)
        .await
        .expect(200);
    assert_eq!(usage["infected_files"], 1);
    assert_eq!(
        usage["infected_bytes"].as_u64().unwrap(),
        samples::png(64, 32, false).len() as u64
    );
    assert_eq!(usage["files"], 5);

    // An unsaved upload has no verdict of its own: withheld until saved and clean.
    let upload = s.upload(&org, "up.txt", "text/plain", b"up").await;
    let key = percent_encoding::utf8_percent_encode(
        upload["key"].as_str().unwrap(),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let answer = s
        .call(
            &org,
            Method::POST,
            &format!("/v1/files:downloadS3?s3_key={key}&s3_bucket={bucket}"),
            None,
        )
        .await;
    assert_eq!(answer.expect_error(409), "scan_pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_scanning_nothing_waits_and_versions_say_not_scanned() {
    let s = stack_with(integration_tests::config()).await;
    let org = new_org();
    let (id, key) = new_image(&s, &org).await;
    let entity = s
        .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
        .await
        .expect(200);
    assert_eq!(entity["scan_status"], "not_scanned");
    assert_eq!(every_gated_path(&s, &org, &id, &key).await, all(200, ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_is_one_event_and_an_infected_file_may_be_purged() {
    let config = streamed_config().await;
    let s = scanning(config.clone(), InfectedAction::Delete).await;
    let bucket = config.bucket.clone();
    let org = new_org();
    let (clean_id, clean_key) = new_image(&s, &org).await;
    let (bad_id, bad_key) = new_image(&s, &org).await;
    let mut stream = StreamReader::at_end(&config.table).await;
    handle_scan_event(
        &s.service,
        &guardduty("guardduty-clean.json", &bucket, &clean_key),
    )
    .await
    .unwrap();
    let report = handle_scan_event(
        &s.service,
        &guardduty("guardduty-threats-found.json", &bucket, &bad_key),
    )
    .await
    .unwrap();
    assert_eq!(report.recorded, "purged");
    s.call(&org, Method::GET, &format!("/v2/files/{bad_id}"), None)
        .await
        .expect_error(404);
    // Delivered again (EventBridge retries): nothing more happens.
    let again = handle_scan_event(
        &s.service,
        &guardduty("guardduty-threats-found.json", &bucket, &bad_key),
    )
    .await
    .unwrap();
    assert_eq!(again.recorded, "ignored");
    let events = stream.events_of(&org).await;
    let details: Vec<Value> = events
        .iter()
        .map(|e| {
            serde_json::from_str(&shared::events::detail::detail_json(e, &bucket, "")).unwrap()
        })
        .collect();
    let summary: Vec<(&str, &str, &str)> = details
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap(),
                d["file_id"].as_str().unwrap(),
                d["scan_status"]
                    .as_str()
                    .or(d["reason"].as_str())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("file.scan_completed", clean_id.as_str(), "clean"),
            ("file.scan_completed", bad_id.as_str(), "infected"),
            ("file.deleted", bad_id.as_str(), "infected"),
        ]
    );
    assert_eq!(details[0]["version"], 1);
    assert_eq!(details[1]["scan_verdict"], "EICAR-Test-File (not a virus)");
    // Another bucket's results, or an unsaved upload's, change nothing.
    let other = handle_scan_event(
        &s.service,
        &guardduty("guardduty-clean.json", "another-bucket", &clean_key),
    )
    .await
    .unwrap();
    assert_eq!(other.recorded, "ignored");
    let temp = handle_scan_event(
        &s.service,
        &guardduty("guardduty-clean.json", &bucket, "temp/x/y/z.txt"),
    )
    .await
    .unwrap();
    assert_eq!(temp.recorded, "ignored");
}

/// A verdict racing a new version of its file, many times: the verdict lands on its own
/// version, the new version waits for its own, and the file lists by its latest's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verdict_racing_a_new_version_lands_on_its_own_version() {
    let s = scanning(integration_tests::config(), InfectedAction::Keep).await;
    let bucket = s.service.config.bucket.clone();
    let org = new_org();
    for trial in 0..12 {
        let (id, key) = new_image(&s, &org).await;
        let second = s
            .upload(&org, "logo.png", "image/png", &samples::png(8, 8, false))
            .await;
        let verdict = guardduty("guardduty-threats-found.json", &bucket, &key);
        let (recorded, saved) = tokio::join!(
            handle_scan_event(&s.service, &verdict),
            s.save(&org, json!({"_id": id, "s3ref": second}))
        );
        assert_eq!(recorded.unwrap().recorded, "infected", "trial {trial}");
        saved.expect(201);
        let entity = s
            .call(&org, Method::GET, &format!("/v2/files/{id}"), None)
            .await
            .expect(200);
        let statuses: Vec<&str> = entity["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["scan_status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["infected", "pending"], "trial {trial}");
        assert_eq!(entity["scan_status"], "pending", "trial {trial}");
        let pending = s
            .call(
                &org,
                Method::GET,
                "/v2/files?scan_status=pending&limit=100",
                None,
            )
            .await
            .expect(200);
        assert!(
            pending["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["_id"] == id.as_str()),
            "trial {trial}: listed by its latest version's scan"
        );
    }
}
