//! The sample events in `events/` (the ones `sam local invoke -e` takes) go
//! straight into the functions' handler code, as Lambda would deliver them.

use integration_tests::{service, stack};
use lambda_http::Body;
use serde_json::{json, Value};
use std::sync::Arc;

use shared::api::{all_routes, handle, Function};
use shared::AwsFileService;

const SAMPLE_ID: &str = "4ffdc191-f32c-404a-8520-c403b7408afa";
const SAMPLE_ID_2: &str = "0b7b1c3e-2f4a-4d5e-9c8b-7a6f5e4d3c2b";
const SAMPLE_KEY: &str = "temp/123/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/example.pdf";
const API_EVENTS: &[&str] = &[
    "upload.json",
    "upload-public.json",
    "save.json",
    "save-version.json",
    "get.json",
    "download.json",
    "download-files.json",
    "delete.json",
    "save-external.json",
    "verify-custom-url.json",
    "public-file.json",
    "save-direct.json",
    "save-from-url.json",
    "list.json",
    "count.json",
    "delete-files.json",
    "usage.json",
    "upload-v1.json",
    "save-v1.json",
    "download-s3.json",
    "session.json",
    "delete-session.json",
    "generate-public-link.json",
    "list-public-links.json",
    "access-public-link.json",
    "revoke-public-link.json",
    "sign-urls.json",
    "content.json",
    "versions.json",
    "restore-version.json",
    "delete-version.json",
    "preview.json",
    "preview-s3.json",
    "preview-s3-get.json",
    "preview-public.json",
    "restore.json",
    "delete-purge.json",
    "collection-create.json",
    "collections.json",
    "collection-files.json",
    "collection-delete.json",
    "webhook-create.json",
    "webhooks.json",
    "webhook-deliveries.json",
    "webhook-delete.json",
];
/// The custom URL inside `verify-custom-url.json`, replaced by a freshly signed one.
const SAMPLE_SIGNED_URL: &str = "https://archive.example.com/contracts/2024/contract.pdf?tenant=acme&expires_at=1795338900000&signature=REPLACE_WITH_THE_SIGNATURE_FROM_DOWNLOAD";

fn event_text(name: &str) -> String {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The event with sample values replaced, as a Lambda request, and the function its route belongs to.
fn request(name: &str, replacements: &[(&str, &str)]) -> (Function, lambda_http::Request) {
    let mut text = event_text(name);
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    let request = lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"));
    // The route API Gateway matched, as the event names it.
    let event: Value = serde_json::from_str(&text).unwrap();
    let route_key = event["routeKey"].as_str().unwrap_or_default();
    let function = all_routes::<shared::AwsBackend>()
        .into_iter()
        .find(|(_, r)| format!("{} {}", r.method, r.path) == route_key)
        .map(|(f, _)| f)
        .unwrap_or_else(|| panic!("{name} names no route ({route_key})"));
    (function, request)
}

async fn invoke(
    service: &Arc<AwsFileService>,
    name: &str,
    replacements: &[(&str, &str)],
) -> (u16, Value) {
    let (function, request) = request(name, replacements);
    let response = handle(service, function, request).await;
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        other => serde_json::from_slice(other.as_ref()).unwrap(),
    };
    (response.status().as_u16(), body)
}

#[tokio::test]
async fn claims_that_are_not_an_organisation_are_refused_where_functions_read_them() {
    // API Gateway hands every claim over as a string: a JSON null, true, 1.5 or a list
    // arrives as "null", "true", "1.5", "[a b]". None of them is a tenant.
    let svc = Arc::new(service());
    for org in ["null", "true", "false", "1.5", "[1 2]", "", "a/b"] {
        let claim = format!("\"org_id\": \"{org}\"");
        let (status, body) = invoke(&svc, "get.json", &[("\"org_id\": \"123\"", &claim)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{org}"
        );
    }
}

#[test]
fn every_api_event_parses_and_every_function_has_one() {
    let mut functions = std::collections::HashSet::new();
    for name in API_EVENTS {
        let (function, request) = request(name, &[]);
        functions.insert(function);
        assert!(
            request.headers().contains_key("host"),
            "{name} has a host header"
        );
    }
    for f in Function::ALL {
        assert!(functions.contains(&f), "no sample event for {}", f.name());
    }
}

#[tokio::test]
async fn sample_events_drive_the_whole_flow_through_the_handlers() {
    let s = stack().await; // only for PUTting bytes to the presigned URL
    let svc = Arc::new(service());

    let (status, upload) = invoke(&svc, "upload.json", &[]).await;
    assert_eq!(status, 201, "{upload}");
    let key = upload["s3ref"]["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("temp/123/"),
        "the org comes from the event's claims: {key}"
    );
    s.put_bytes(
        upload["upload_url"].as_str().unwrap(),
        "application/pdf",
        b"%PDF-sample",
    )
    .await;

    let (status, public) = invoke(&svc, "upload-public.json", &[]).await;
    assert_eq!(status, 201, "{public}");
    assert!(public["s3ref"]["key"]
        .as_str()
        .unwrap()
        .starts_with("temp/_public/"));

    let (status, saved) = invoke(&svc, "save.json", &[(SAMPLE_KEY, &key)]).await;
    assert_eq!(status, 201, "{saved}");
    let id = saved["_id"].as_str().unwrap().to_owned();
    assert_eq!(saved["size_bytes"], 11);

    let (status, upload2) = invoke(&svc, "upload.json", &[]).await;
    assert_eq!(status, 201);
    let key2 = upload2["s3ref"]["key"].as_str().unwrap().to_owned();
    s.put_bytes(
        upload2["upload_url"].as_str().unwrap(),
        "application/pdf",
        b"%PDF-sample-2",
    )
    .await;
    let (status, version) = invoke(
        &svc,
        "save-version.json",
        &[(SAMPLE_KEY, &key2), (SAMPLE_ID, &id)],
    )
    .await;
    assert_eq!(status, 201, "{version}");
    assert_eq!(version["versions"].as_array().unwrap().len(), 2);

    let (status, got) = invoke(&svc, "get.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!((status, &got["_id"]), (200, &json!(id)));

    let (status, download) = invoke(&svc, "download.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 200, "{download}");
    let (_, _, bytes) = s.fetch(download["download_url"].as_str().unwrap()).await;
    assert_eq!(bytes, b"%PDF-sample-2");

    let (status, many) = invoke(
        &svc,
        "download-files.json",
        &[(SAMPLE_ID, &id), (SAMPLE_ID_2, &id)],
    )
    .await;
    assert_eq!(status, 200, "{many}");
    assert_eq!(many.as_array().unwrap().len(), 2);

    // public_url: private, so 403; public-read, so a redirect to the bytes.
    let (status, refused) = invoke(&svc, "public-file.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("forbidden"))
    );
    let owner = shared::service::Caller {
        org: shared::domain::OrgId::parse("123").unwrap(),
        sub: None,
    };
    let make_public = shared::service::SaveRequest {
        intent: shared::service::SaveIntent::Metadata {
            file: id.parse().unwrap(),
        },
        fields: shared::service::FileFields {
            access_control: Some(shared::domain::AccessControl::PublicRead),
            ..Default::default()
        },
    };
    svc.save(&owner, make_public).await.unwrap();
    let (function, public) = request("public-file.json", &[(SAMPLE_ID, &id)]);
    let response = handle(&svc, function, public).await;
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(s.fetch(location).await.2, b"%PDF-sample-2");

    // Into the trash, back, and for good.
    let (status, deleted) = invoke(&svc, "delete.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 200, "{deleted}");
    assert!(deleted["purge_at"].is_string(), "{deleted}");
    let (status, _) = invoke(&svc, "get.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 404);
    let (status, restored) = invoke(&svc, "restore.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!((status, restored["_id"].as_str()), (200, Some(id.as_str())));
    let (status, purged) = invoke(&svc, "delete-purge.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 200, "{purged}");
    let (status, gone) = invoke(&svc, "get.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!((status, gone["error"].as_str()), (404, Some("not_found")));
    let (status, _) = invoke(&svc, "restore.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 404, "purged for good");
}

#[tokio::test]
async fn sample_events_drive_a_collection_through_the_handlers() {
    let svc = Arc::new(service());
    // The samples' organisation is shared by every run: a schema of this run's own.
    let schema = format!("s{}", uuid::Uuid::new_v4().simple());
    let ours = [("opportunity", schema.as_str())];
    let (status, created) = invoke(&svc, "collection-create.json", &ours).await;
    assert_eq!(status, 201, "{created}");
    let slug = created["slug"].as_str().unwrap().to_owned();
    assert!(slug.ends_with("_user-1:contracts"), "{slug}");
    let (status, listed) = invoke(&svc, "collections.json", &ours).await;
    assert_eq!(
        (status, listed[0]["slug"].as_str()),
        (200, Some(slug.as_str()))
    );
    let sample_slug = "_system_files_collection_schema_opportunity:contracts";
    let (status, files) = invoke(&svc, "collection-files.json", &[(sample_slug, &slug)]).await;
    assert_eq!((status, files), (200, json!([])));
    let (status, deleted) = invoke(&svc, "collection-delete.json", &ours).await;
    assert_eq!(
        (status, deleted["slug"].as_str()),
        (200, Some(slug.as_str()))
    );
    let (status, listed) = invoke(&svc, "collections.json", &ours).await;
    assert_eq!((status, listed), (200, json!([])));
}

#[tokio::test]
async fn sample_events_drive_the_external_file_flow_through_the_handlers() {
    let svc = Arc::new(service());
    let (status, saved) = invoke(&svc, "save-external.json", &[]).await;
    assert_eq!(status, 201, "{saved}");
    let id = saved["_id"].as_str().unwrap().to_owned();

    let (status, download) = invoke(&svc, "download.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 200, "{download}");
    let signed = download["download_url"].as_str().unwrap().to_owned();
    assert!(
        signed.starts_with("https://archive.example.com/contracts/2024/contract.pdf?"),
        "{signed}"
    );

    let (status, verdict) = invoke(
        &svc,
        "verify-custom-url.json",
        &[(SAMPLE_SIGNED_URL, &signed)],
    )
    .await;
    assert_eq!((status, verdict), (200, json!({"valid": true})));
    // The event as shipped carries a placeholder signature: not valid.
    let (status, verdict) = invoke(&svc, "verify-custom-url.json", &[]).await;
    assert_eq!((status, verdict), (200, json!({"valid": false})));

    let (status, _) = invoke(&svc, "delete.json", &[(SAMPLE_ID, &id)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_event_without_authorizer_claims_is_refused_by_authenticated_functions() {
    let svc = Arc::new(service());
    let (function, mut request) = request("get.json", &[]);
    use lambda_http::RequestExt;
    let context: lambda_http::request::RequestContext = serde_json::from_value(json!({
        "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "x"},
        "timeEpoch": 0
    }))
    .unwrap();
    request = request.with_request_context(context);
    let response = handle(&svc, function, request).await;
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn a_function_refuses_routes_that_belong_to_another() {
    let svc = Arc::new(service());
    let (_, request) = request("get.json", &[]);
    let response = handle(&svc, Function::Delete, request).await;
    assert_eq!(response.status().as_u16(), 404);
}

/// An ingest queue that keeps the jobs it is handed, as Lambda keeps async events.
#[derive(Default)]
struct KeptJobs(std::sync::Mutex<Vec<shared::ingest::IngestJob>>);

impl shared::ingest::IngestQueue for KeptJobs {
    fn submit(
        &self,
        job: shared::ingest::IngestJob,
    ) -> futures::future::BoxFuture<'_, shared::Result<()>> {
        self.0.lock().unwrap().push(job);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn sample_events_drive_a_direct_upload_and_a_fetch_through_the_ingest_function() {
    use integration_tests::source::{pattern, SourceServer};
    use shared::ingest::lambda::{handle_event, IngestEvent};
    use std::sync::Arc;

    let s = stack().await;
    let (status, direct) = invoke(&Arc::new(service()), "save-direct.json", &[]).await;
    assert_eq!(status, 201, "{direct}");
    assert_eq!(direct["filename"], "notes.txt");
    assert!(direct["expires_at"].is_string());
    let url = direct["download_url"].as_str().unwrap();
    assert_eq!(s.fetch(url).await.2, b"hello from a direct upload\n");

    // The save hands the job over and answers 202 when it does not end in time.
    let source = SourceServer::start().await;
    let kept = Arc::new(KeptJobs::default());
    let mut config = integration_tests::config();
    config.ingest_wait = std::time::Duration::from_millis(100);
    let saving = Arc::new(
        shared::aws_service(config, integration_tests::clients()).with_ingest(kept.clone()),
    );
    let source_url = source.url("/bytes/4096/q3-report.pdf");
    let sample_url = "https://downloads.example.com/reports/q3-report.pdf";
    let (status, pending) =
        invoke(&saving, "save-from-url.json", &[(sample_url, &source_url)]).await;
    assert_eq!(status, 202, "{pending}");
    assert_eq!(pending["status"], "pending");
    let job = kept.0.lock().unwrap().pop().expect("a job was handed over");
    assert_eq!(
        job.source.headers[0].0, "Authorization",
        "the headers travel with the job"
    );

    // The ingest function's event, as Lambda delivers it: the job, its headers sealed.
    let seal = shared::ingest::HeaderSeal::new(saving.config.custom_url_keys.as_ref().unwrap());
    let text = event_text("ingest.json")
        .replace(SAMPLE_ID, pending["_id"].as_str().unwrap())
        .replace("9d3c1b7e-6f5a-4e2d-8c1b-0a9f8e7d6c5b", &job.job.to_string())
        .replace(sample_url, &source_url);
    let mut event: IngestEvent =
        serde_json::from_str(&text).expect("ingest.json is an IngestEvent");
    event.sealed_headers = IngestEvent::seal(job.clone(), Some(&seal))
        .unwrap()
        .sealed_headers;
    assert!(
        !serde_json::to_string(&event).unwrap().contains("Bearer"),
        "sealed in the event"
    );
    let fetcher =
        shared::ingest::Fetcher::new(saving.config.url_policy, saving.config.fetch_limits).unwrap();
    handle_event(&saving, &fetcher, Some(&seal), event.clone())
        .await
        .unwrap();
    let (status, ready) = invoke(
        &saving,
        "get.json",
        &[(SAMPLE_ID, pending["_id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        (status, ready["status"].as_str()),
        (200, Some("ready")),
        "{ready}"
    );
    assert_eq!(ready["size_bytes"], 4096);
    // Delivered again (Lambda retries): the job has ended, nothing changes.
    handle_event(&saving, &fetcher, Some(&seal), event)
        .await
        .unwrap();
    let (_, again) = invoke(
        &saving,
        "get.json",
        &[(SAMPLE_ID, pending["_id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(again["versions"].as_array().unwrap().len(), 1);
    let url = s
        .download_url("123", pending["_id"].as_str().unwrap(), "")
        .await;
    assert_eq!(s.fetch(&url).await.2, pattern(4096));
}

#[tokio::test]
async fn the_sweep_event_deletes_an_expired_files_objects_and_nothing_else() {
    use shared::ports::ObjectStore;
    use shared::sweep::{sweep_expired, StreamEvent};

    let svc = Arc::new(service());
    let (status, direct) = invoke(&svc, "save-direct.json", &[]).await;
    assert_eq!(status, 201, "{direct}");
    let id = direct["_id"].as_str().unwrap().to_owned();
    let key = direct["s3ref"]["key"].as_str().unwrap().to_owned();
    // A stray under the file's prefix (a copy that never became a version) goes too.
    let stray = format!("files/123/{id}/stray/left.bin");
    svc.store().put(&stray, b"x".to_vec(), None).await.unwrap();
    let sample_key = "files/123/4ffdc191-f32c-404a-8520-c403b7408afa/0b7b1c3e-2f4a-4d5e-9c8b-7a6f5e4d3c2b/example.pdf";
    let text = event_text("sweep-ttl-remove.json")
        .replace(sample_key, &key)
        .replace(SAMPLE_ID, &id);
    // A removal by a user (a delete through the API) is not the sweeper's.
    let by_user: StreamEvent =
        serde_json::from_str(&text.replace("\"type\": \"Service\"", "\"type\": \"User\"")).unwrap();
    let report = sweep_expired(svc.store(), svc.files(), &by_user)
        .await
        .unwrap();
    assert_eq!((report.applied, report.ignored), (0, 1));
    assert!(
        svc.store().head(&key).await.unwrap().is_some(),
        "left alone"
    );

    let event: StreamEvent = serde_json::from_str(&text).expect("a stream event");
    let report = sweep_expired(svc.store(), svc.files(), &event)
        .await
        .unwrap();
    assert_eq!(report.applied, 1);
    assert!(
        svc.store().head(&key).await.unwrap().is_none(),
        "the version is gone"
    );
    assert!(
        svc.store().head(&stray).await.unwrap().is_none(),
        "and the stray"
    );
    // Delivered again: nothing left to delete, no error.
    assert_eq!(
        sweep_expired(svc.store(), svc.files(), &event)
            .await
            .unwrap()
            .applied,
        1
    );
}

#[tokio::test]
async fn the_file_events_sample_is_published_as_its_three_events() {
    use shared::adapters::memory::MemoryEvents;
    use shared::events::{publish_batch, stream::StreamEvent};

    let event: StreamEvent =
        serde_json::from_str(&event_text("file-events.json")).expect("a stream event");
    let sink = MemoryEvents::default();
    let answer = publish_batch(&sink, &(), &event, "file-service-files", "").await;
    assert!(answer.failures.is_empty());
    let published = sink.published();
    let types: Vec<&str> = published.iter().map(|e| e.detail_type).collect();
    assert_eq!(types, ["file.created", "file.trashed", "upload.expired"]);
    let details: Vec<Value> = published
        .iter()
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(details[0]["file_id"], SAMPLE_ID);
    assert_eq!(details[0]["occurred_at"], "2026-11-23T09:00:00.000Z");
    assert_eq!(details[1]["file"]["deleted_by"], "user-1");
    assert_eq!(
        details[2]["upload"]["key"],
        "temp/123/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/example.pdf"
    );
    assert!(details[0]["sequence"].as_str() < details[1]["sequence"].as_str());
}

#[tokio::test]
async fn sample_events_drive_a_webhook_through_the_handlers_and_the_webhooks_function() {
    use aws_lambda_events::event::sqs::SqsEvent;
    use shared::time::Clock;
    use shared::webhooks::{deliver_batch, Sender, SenderSettings};

    let svc = Arc::new(service());
    // The samples' organisation is shared by every run (and has at most ten webhooks).
    let org = integration_tests::new_org();
    let org_claim = format!("\"org_id\": \"{org}\"");
    let ours = [("\"org_id\": \"123\"", org_claim.as_str())];
    let (status, created) = invoke(&svc, "webhook-create.json", &ours).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["events"], json!(["file.created", "file.trashed"]));
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, listed) = invoke(&svc, "webhooks.json", &ours).await;
    assert_eq!((status, &listed["results"][0]["id"]), (200, &json!(id)));
    let sample_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let this = [ours[0], (sample_id, id.as_str())];

    // The delivery sample, for this webhook: its URL's host does not resolve here, so
    // the attempt fails, is logged, and is handed back for a later retry.
    let text = event_text("webhook-delivery.json")
        .replace(sample_id, &id)
        .replace(
            "\\\"org\\\": \\\"123\\\"",
            &format!("\\\"org\\\": \\\"{org}\\\""),
        );
    let event: SqsEvent = serde_json::from_str(&text).expect("an SQS event");
    struct NoTimer;
    impl shared::webhooks::RetryTimer for NoTimer {
        async fn retry_after(&self, _: &str, _: u64) -> shared::ports::StoreResult<()> {
            Ok(())
        }
    }
    let sender = Sender::new(
        SenderSettings {
            policy: Default::default(),
            retry_base_seconds: 30,
            max_attempts: 14,
            timeout: std::time::Duration::from_secs(5),
        },
        Clock::system(),
    )
    .unwrap();
    let answer = deliver_batch(&svc.backend.files, &sender, &NoTimer, &event).await;
    assert_eq!(
        answer.batch_item_failures[0].item_identifier,
        "059f36b4-87a3-44ab-83d2-661975830a7d"
    );
    let (status, log) = invoke(&svc, "webhook-deliveries.json", &this).await;
    assert_eq!(status, 200, "{log}");
    assert_eq!(log["results"][0]["outcome"], "failed", "{log}");
    assert_eq!(log["results"][0]["event_type"], "file.created");

    let (status, _) = invoke(&svc, "webhook-delete.json", &this).await;
    assert_eq!(status, 200);
    let (status, listed) = invoke(&svc, "webhooks.json", &ours).await;
    assert_eq!((status, listed["results"].clone()), (200, json!([])));
}
