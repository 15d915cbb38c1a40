//! `local-api serve` runs the API on http://127.0.0.1:3000 against the endpoint in
//! `AWS_ENDPOINT_URL`; `local-api token --org ORG` prints a development token.

use std::sync::Arc;

use local_api::jwt::JwtSettings;
use local_api::{serve, LocalApi};

const USAGE: &str = "usage: local-api serve [--addr 127.0.0.1:3000]\n       local-api token [--org ORG] [--ttl SECONDS]";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let jwt = JwtSettings::from_env();
    match args.first().map(String::as_str) {
        // A PDF drawn in a child, as the preview function draws it.
        Some(thumbnail::isolated::CHILD_ARGUMENT) => {
            std::process::exit(thumbnail::isolated::child_main(&args[1..]))
        }
        Some("token") => {
            let org = flag(&args, "--org").unwrap_or_else(|| "123".into());
            let ttl: i64 = flag(&args, "--ttl")
                .map(|t| t.parse())
                .transpose()?
                .unwrap_or(3600);
            let claim = std::env::var("ORG_CLAIM").unwrap_or_else(|_| "org_id".into());
            let now = shared::time::Clock::system().now_millis() / 1000;
            println!("{}", jwt.token_for(&org, &claim, now, ttl));
            Ok(())
        }
        Some("serve") => {
            lambda_http::tracing::init_default_subscriber();
            let addr = flag(&args, "--addr").unwrap_or_else(|| "127.0.0.1:3000".into());
            let service = local_api::with_background_ingest(
                shared::aws_service_from_env()?,
                shared::aws_service_from_env()?,
            )?;
            // PDFs in a child of this binary, killed at the preview's time limit.
            let pdfs = thumbnail::isolated::PdfIsolated::in_child_of(
                std::env::current_exe()?,
                service.config.previews.timeout,
            );
            let mut service = service.with_previews(Arc::new(pdfs));
            // Routes that take the session cookie check development tokens in the handler.
            service.config.tokens = Some(jwt.verifier());
            // Links back to the API (public_url) name where it listens, unless configured.
            service
                .config
                .public_base_url
                .get_or_insert_with(|| format!("http://{addr}"));
            let listener = match tokio::net::TcpListener::bind(&addr).await {
                Ok(listener) => listener,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    eprintln!("local-api: {addr} is already in use; choose another port, e.g. PORT=3001 make dev");
                    std::process::exit(1);
                }
                Err(e) => return Err(format!("local-api: cannot listen on {addr}: {e}").into()),
            };
            eprintln!(
                "File API on http://{addr} (bucket {}, table {}); get a token with: make token ORG=123",
                service.config.bucket, service.config.table
            );
            let api = LocalApi {
                service,
                jwt,
                public_upload_throttle: Some(local_api::Throttle::public_uploads_from_env()),
                timeouts: local_api::Timeouts::default(),
            };
            tokio::select! {
                result = serve(listener, api) => result?,
                _ = tokio::signal::ctrl_c() => eprintln!("stopping"),
            }
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}
