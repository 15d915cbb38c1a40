//! A local stand-in for the Lambda Runtime API (the HTTP interface a `provided.al2023`
//! function polls for work): it hands out queued events, collects the answers, and
//! notes when the process first asked for work, which is the end of its cold init.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Default)]
struct State {
    queue: VecDeque<(String, String)>,
    first_poll: Option<Instant>,
    answered: usize,
    failed: usize,
    expected: usize,
}

#[derive(Clone)]
pub struct RuntimeApi {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    done: Arc<Notify>,
    polled: Arc<Notify>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let api = RuntimeApi {
            addr: listener.local_addr()?,
            state: Arc::default(),
            done: Arc::new(Notify::new()),
            polled: Arc::new(Notify::new()),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let api = api.clone();
                        async move { Ok::<_, Infallible>(api.respond(request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(api)
    }

    /// Starts a new run: these events, in order, then nothing.
    pub fn load(&self, events: Vec<String>) {
        let mut state = self.state.lock().unwrap();
        *state = State {
            expected: events.len(),
            queue: events
                .into_iter()
                .enumerate()
                .map(|(i, e)| (format!("req-{i}"), e))
                .collect(),
            ..State::default()
        };
    }

    /// When the process first asked for work, once it has.
    pub async fn first_poll(&self) -> Instant {
        loop {
            let notified = self.polled.notified();
            if let Some(at) = self.state.lock().unwrap().first_poll {
                return at;
            }
            notified.await;
        }
    }

    /// (answered, failed) so far.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.state.lock().unwrap();
        (state.answered, state.failed)
    }

    /// Resolves once every loaded event has an answer.
    pub async fn all_answered(&self) {
        loop {
            let notified = self.done.notified();
            {
                let state = self.state.lock().unwrap();
                if state.answered + state.failed >= state.expected {
                    return;
                }
            }
            notified.await;
        }
    }

    async fn respond(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        if path.ends_with("/runtime/invocation/next") {
            let next = {
                let mut state = self.state.lock().unwrap();
                if state.first_poll.is_none() {
                    state.first_poll = Some(Instant::now());
                    self.polled.notify_one();
                }
                state.queue.pop_front()
            };
            return match next {
                Some((id, event)) => Response::builder()
                    .header("lambda-runtime-aws-request-id", id)
                    .header("lambda-runtime-deadline-ms", "4102444800000")
                    .header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:000000000000:function:bench",
                    )
                    .header(
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000",
                    )
                    .body(Full::new(Bytes::from(event)))
                    .unwrap(),
                // No more work: hold the poll, as Lambda does between invocations.
                None => std::future::pending().await,
            };
        }
        let body = request.into_body().collect().await.map(|b| b.to_bytes());
        {
            let mut state = self.state.lock().unwrap();
            if path.ends_with("/response") {
                let body = body.unwrap_or_default();
                // An API Gateway answer whose status is 5xx counts as a failure too.
                let status = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["statusCode"].as_u64());
                if status.is_some_and(|s| s >= 500) {
                    state.failed += 1;
                } else {
                    state.answered += 1;
                }
            } else {
                state.failed += 1;
                eprintln!(
                    "runtime error report at {path}: {}",
                    String::from_utf8_lossy(&body.unwrap_or_default())
                );
            }
        }
        self.done.notify_one();
        Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}")))
            .unwrap()
    }
}
