//! A local HTTP server that plays the sources a save from a URL fetches: plain bytes,
//! bytes behind a header, large, missing, slow, redirecting (also to the metadata
//! address). Raw HTTP/1.1 over tokio, so each answer is exactly what a test needs.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The header `/secret.bin` wants, and its value.
pub const SOURCE_TOKEN_HEADER: &str = "x-source-token";
pub const SOURCE_TOKEN: &str = "s3cr3t-source-token-41";

/// `n` bytes that differ from any other `n` bytes here: byte i is a hash of i.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

pub struct SourceServer {
    pub base: String,
}

impl SourceServer {
    pub async fn start() -> SourceServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(stream));
            }
        });
        SourceServer { base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

struct Head {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

async fn read_head(stream: &mut TcpStream) -> Option<Head> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Head {
        method,
        path,
        headers,
    })
}

async fn answer(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

async fn serve(mut stream: TcpStream) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let path = head.path.as_str();
    if path == "/secret.bin" {
        if head.headers.get(SOURCE_TOKEN_HEADER).map(String::as_str) != Some(SOURCE_TOKEN) {
            return answer(&mut stream, "401 Unauthorized", &[], b"no token").await;
        }
        let headers = [
            ("Content-Type", "application/pdf".to_owned()),
            (
                "Content-Disposition",
                "attachment; filename=\"Report 2026.pdf\"".to_owned(),
            ),
        ];
        return answer(&mut stream, "200 OK", &headers, &pattern(100_000)).await;
    }
    if let Some(size) = path.strip_prefix("/bytes/") {
        // `/bytes/<n>/<name>`: n bytes of the pattern, typed by nothing (octet-stream).
        let n: usize = size.split('/').next().unwrap_or("0").parse().unwrap_or(0);
        let headers = [("Content-Type", "application/octet-stream".to_owned())];
        return answer(&mut stream, "200 OK", &headers, &pattern(n)).await;
    }
    if let Some(rest) = path.strip_prefix("/typed/") {
        // `/typed/<Content-Type, percent-encoded>/<name>`: a source that says this type.
        let encoded = rest.split('/').next().unwrap_or_default();
        let content_type = percent_decode(encoded);
        let headers = [("Content-Type", content_type)];
        return answer(&mut stream, "200 OK", &headers, b"%PDF-1.4 typed source").await;
    }
    if path == "/post-only" {
        if head.method != "POST" {
            return answer(&mut stream, "405 Method Not Allowed", &[], b"").await;
        }
        let headers = [("Content-Type", "text/csv".to_owned())];
        return answer(&mut stream, "200 OK", &headers, b"a,b\n1,2\n").await;
    }
    if path == "/missing" {
        return answer(&mut stream, "404 Not Found", &[], b"gone").await;
    }
    if path == "/to-metadata" {
        let location = [(
            "Location",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned(),
        )];
        return answer(&mut stream, "302 Found", &location, b"").await;
    }
    if let Some(n) = path.strip_prefix("/hops/") {
        // `/hops/<n>`: n redirects, then bytes.
        let n: usize = n.parse().unwrap_or(1);
        let next = if n <= 1 {
            "/bytes/1000/after-hops.bin".to_owned()
        } else {
            format!("/hops/{}", n - 1)
        };
        return answer(&mut stream, "302 Found", &[("Location", next)], b"").await;
    }
    if let Some(rest) = path.strip_prefix("/slow/") {
        // `/slow/<millis>`: the head at once, then 64 KiB over that long.
        let millis: u64 = rest.parse().unwrap_or(1000);
        let body = pattern(64 * 1024);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        for chunk in body.chunks(body.len() / 8) {
            tokio::time::sleep(Duration::from_millis(millis / 8)).await;
            if stream.write_all(chunk).await.is_err() {
                return;
            }
        }
        let _ = stream.shutdown().await;
        return;
    }
    if let Some(rest) = path.strip_prefix("/slow-fail/") {
        let millis: u64 = rest.parse().unwrap_or(1000);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        return answer(&mut stream, "503 Service Unavailable", &[], b"").await;
    }
    answer(&mut stream, "404 Not Found", &[], b"").await
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                let hex = std::str::from_utf8(hex).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
