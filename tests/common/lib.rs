//! What every integration test needs: the local API on an ephemeral port, in
//! front of the same handler code the Lambda functions run, backed by the
//! emulator at `AWS_ENDPOINT_URL` (moto or LocalStack; `make test` starts one).

pub mod source;
pub mod stream;

use std::sync::Arc;
use std::time::Duration;

use local_api::jwt::JwtSettings;
use local_api::{serve, LocalApi};
use serde_json::{json, Value};
use shared::aws::{AwsClients, AwsSettings};
use shared::config::Config;
use shared::AwsFileService;

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4566";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.into())
}

pub fn endpoint() -> String {
    env_or("AWS_ENDPOINT_URL", DEFAULT_ENDPOINT)
}

/// S3's endpoint: `AWS_ENDPOINT_URL_S3` (the signature-checking S3 `make test` starts),
/// else the one endpoint.
pub fn s3_endpoint() -> String {
    env_or("AWS_ENDPOINT_URL_S3", &endpoint())
}

/// DynamoDB's endpoint: `AWS_ENDPOINT_URL_DYNAMODB`, else the one endpoint.
pub fn dynamodb_endpoint() -> String {
    env_or("AWS_ENDPOINT_URL_DYNAMODB", &endpoint())
}

pub fn config() -> Config {
    Config::for_tests(
        &env_or("FILES_BUCKET", "file-service-local"),
        &env_or("FILES_TABLE", "file-service-local"),
    )
}

pub fn clients() -> AwsClients {
    let mut settings = AwsSettings::emulator(&endpoint());
    settings.s3_endpoint = Some(s3_endpoint());
    settings.dynamodb_endpoint = Some(dynamodb_endpoint());
    // moto serves EventBridge and SQS beside DynamoDB.
    settings.events_endpoint = Some(dynamodb_endpoint());
    settings.sqs_endpoint = Some(dynamodb_endpoint());
    AwsClients::new(settings)
}

/// The service as the functions build it, against the emulator.
pub fn service() -> AwsFileService {
    shared::aws_service(config(), clients())
}

pub fn jwt() -> JwtSettings {
    JwtSettings {
        secret: b"integration-test-secret".to_vec(),
        issuer: "file-service-local".into(),
        audience: "file-service".into(),
    }
}

/// A fresh organisation, so tests never see each other's files.
pub fn new_org() -> String {
    format!("org-{}", uuid::Uuid::new_v4().simple())
}

pub struct Stack {
    pub base: String,
    pub http: reqwest::Client,
    pub jwt: JwtSettings,
    /// The same service the API runs, for looking into storage directly.
    pub service: AwsFileService,
}

/// Starts the local API on 127.0.0.1 with a free port, after checking the emulator answers.
pub async fn stack() -> Stack {
    stack_with(config()).await
}

/// As [`stack`], with the service configured as given.
pub async fn stack_with(config: Config) -> Stack {
    stack_at(config, shared::time::Clock::system()).await
}

/// As [`stack_with`], with the service's clock as given.
pub async fn stack_at(config: Config, clock: shared::time::Clock) -> Stack {
    build_stack(config, clock, Options::default()).await
}

/// As [`stack`], with the public upload route throttled as API Gateway would.
pub async fn stack_throttled(throttle: local_api::Throttle) -> Stack {
    let options = Options {
        throttle: Some(throttle),
        ..Options::default()
    };
    build_stack(config(), shared::time::Clock::system(), options).await
}

/// As [`stack`], with the local API's read timeouts as given.
pub async fn stack_with_timeouts(timeouts: local_api::Timeouts) -> Stack {
    let options = Options {
        timeouts,
        ..Options::default()
    };
    build_stack(config(), shared::time::Clock::system(), options).await
}

/// As [`stack_with`], with PDFs drawn in a child process of `program` (the local API's
/// binary), killed at the preview's time limit, as `local-api serve` and the preview
/// function draw them.
pub async fn stack_with_pdf_child(config: Config, program: std::path::PathBuf) -> Stack {
    let options = Options {
        pdf_child: Some(program),
        ..Options::default()
    };
    build_stack(config, shared::time::Clock::system(), options).await
}

#[derive(Default)]
struct Options {
    throttle: Option<local_api::Throttle>,
    timeouts: local_api::Timeouts,
    pdf_child: Option<std::path::PathBuf>,
}

async fn build_stack(config: Config, clock: shared::time::Clock, options: Options) -> Stack {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    for endpoint in [s3_endpoint(), dynamodb_endpoint()] {
        if let Err(e) = http.get(&endpoint).send().await {
            panic!(
                "no AWS-compatible endpoint answers at {endpoint} ({e}); run the tests with \
                 `make test`, which starts them, or `make emulator` first"
            );
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let mut config = config;
    config.public_base_url = Some(base.clone());
    config.tokens = Some(jwt().verifier());
    let mut api_service = shared::aws_service(config.clone(), clients());
    api_service.clock = clock.clone();
    let mut worker = shared::aws_service(config.clone(), clients());
    worker.clock = clock.clone();
    let api_service = local_api::with_background_ingest(api_service, worker)
        .expect("ingest worker")
        .with_previews(match options.pdf_child {
            Some(program) => Arc::new(thumbnail::isolated::PdfIsolated::in_child_of(
                program,
                config.previews.timeout,
            )),
            None => Arc::new(thumbnail::Renderer),
        });
    let api = LocalApi {
        service: api_service,
        jwt: jwt(),
        public_upload_throttle: options.throttle,
        timeouts: options.timeouts,
    };
    tokio::spawn(serve(listener, api));
    Stack {
        base,
        http,
        jwt: jwt(),
        service: {
            let mut service = shared::aws_service(config, clients());
            service.clock = clock;
            service
        },
    }
}

/// An HTTP answer: status, headers and body as JSON (or `Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Answer {
    /// Asserts the status and returns the body, showing the body when it differs.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.json
        );
        self.json
    }

    /// Asserts a JSON error answer with this status and returns its `error` code.
    pub fn expect_error(self, status: u16) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.json
        );
        let code = self.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.json));
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message in {}",
            self.json
        );
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        code.to_owned()
    }
}

impl Stack {
    pub fn token(&self, org: &str) -> String {
        let now = shared::time::Clock::system().now_millis() / 1000;
        self.jwt.token_for(org, "org_id", now, 3600)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the local API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    /// A token of `org` for the user `sub` (`token`'s user is `dev-user@<org>`).
    pub fn token_as(&self, org: &str, sub: &str) -> String {
        let now = shared::time::Clock::system().now_millis() / 1000;
        let claims = json!({
            "sub": sub, "org_id": org, "iss": self.jwt.issuer,
            "aud": self.jwt.audiences()[0], "iat": now, "exp": now + 3600,
        });
        local_api::jwt::sign_hs256(claims.as_object().unwrap(), &self.jwt.secret)
    }

    /// `method path` with org's token and, if given, a JSON body.
    pub async fn call(
        &self,
        org: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call_with(&self.token(org), method, path, body).await
    }

    /// `method path` with this token and, if given, a JSON body.
    pub async fn call_with(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// uploadFileV2 then a PUT of `bytes` to the upload URL; returns the s3ref.
    pub async fn upload(&self, org: &str, filename: &str, mime_type: &str, bytes: &[u8]) -> Value {
        let answer = self
            .call(
                org,
                reqwest::Method::POST,
                "/v2/files/upload",
                Some(json!({ "filename": filename, "mime_type": mime_type })),
            )
            .await
            .expect(201);
        self.put_bytes(
            answer["upload_url"].as_str().expect("upload_url"),
            mime_type,
            bytes,
        )
        .await;
        answer["s3ref"].clone()
    }

    pub async fn put_bytes(&self, url: &str, mime_type: &str, bytes: &[u8]) {
        let response = self
            .http
            .put(url)
            .header("content-type", mime_type)
            .body(bytes.to_vec())
            .send()
            .await
            .expect("PUT to the upload URL");
        assert!(
            response.status().is_success(),
            "PUT failed: {}",
            response.status()
        );
    }

    /// saveFileV2 with an s3ref (and more fields); returns the answer.
    pub async fn save(&self, org: &str, body: Value) -> Answer {
        self.call(org, reqwest::Method::POST, "/v2/files", Some(body))
            .await
    }

    /// upload + save: a new file's entity.
    pub async fn new_file(
        &self,
        org: &str,
        filename: &str,
        mime_type: &str,
        bytes: &[u8],
    ) -> Value {
        let s3ref = self.upload(org, filename, mime_type, bytes).await;
        self.save(org, json!({ "s3ref": s3ref, "filename": filename }))
            .await
            .expect(201)
    }

    /// Reads the file until its fetch from a URL ends (or 20 s pass); the entity then.
    pub async fn until_settled(&self, org: &str, id: &str) -> Value {
        for _ in 0..200 {
            let entity = self
                .call(org, reqwest::Method::GET, &format!("/v2/files/{id}"), None)
                .await
                .expect(200);
            if entity["status"] != "pending" {
                return entity;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the fetch of {id} never ended");
    }

    /// GET a presigned URL; returns status, headers and bytes.
    pub async fn fetch(&self, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .expect("GET the presigned URL");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.bytes().await.expect("body").to_vec(),
        )
    }

    /// downloadFile's URL for `id` with a raw query string.
    pub async fn download_url(&self, org: &str, id: &str, query: &str) -> String {
        let answer = self
            .call(
                org,
                reqwest::Method::GET,
                &format!("/v1/files/{id}/download{query}"),
                None,
            )
            .await
            .expect(200);
        answer["download_url"]
            .as_str()
            .expect("download_url")
            .to_owned()
    }
}

/// Runs `node <script>` in `dir` (a folder of `web/` with its pinned node_modules, where
/// `ready` must exist) against a fresh stack with a token of a new organisation, and
/// asserts it ends well and prints `"ok":true`.
pub async fn run_node_against_the_stack(dir: &str, ready: &str, script: &str) {
    run_node_against_the_stack_with(dir, ready, script, &[]).await
}

/// As [`run_node_against_the_stack`], with more environment variables for the script.
pub async fn run_node_against_the_stack_with(
    dir: &str,
    ready: &str,
    script: &str,
    env: &[(&str, &str)],
) {
    let stack = stack().await;
    let org = new_org();
    run_node_with(&stack, &org, dir, ready, script, env).await;
}

/// As [`run_node_against_the_stack_with`], against `stack` with a token of `org`.
pub async fn run_node_with(
    stack: &Stack,
    org: &str,
    dir: &str,
    ready: &str,
    script: &str,
    env: &[(&str, &str)],
) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../web")
        .join(dir);
    assert!(
        root.join(ready).exists(),
        "run `make web-deps` (npm ci in web/{dir}) first"
    );
    let out = tokio::process::Command::new("node")
        .arg(script)
        .current_dir(&root)
        .env("FILES_API_URL", &stack.base)
        .env("FILES_TOKEN", stack.token(org))
        .envs(env.iter().copied())
        .output()
        .await
        .expect("node runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
}

/// The debug build's directory of this workspace, after `cargo build` of `args` (as
/// `cargo test --workspace` resolves features, so only what is missing is built).
pub fn built(args: &[&str]) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .arg("build")
        .args(args)
        .arg("--quiet")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build {args:?}");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug")
}
