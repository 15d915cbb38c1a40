//! The file service's HTTP API as the CLI calls it: JSON in and out, errors as one line.

use std::fmt;

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// What went wrong, as one line for people.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// The API's status, when it answered one.
    pub status: Option<StatusCode>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            status: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        Failure::new(message)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::new(e.to_string())
    }
}

pub type Outcome<T> = Result<T, Failure>;

#[derive(Clone)]
pub struct Api {
    base: String,
    token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, token: &str) -> Outcome<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("files-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// `method path` with the token and, if given, a JSON body; the answer's JSON
    /// (`Null` for an empty one). An API error becomes its message, code and status.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Outcome<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            Failure::new(format!(
                "cannot reach the API at {}: {}",
                self.base,
                Failure::from(e)
            ))
        })?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let json: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok(json);
        }
        let message = match (json["message"].as_str(), json["error"].as_str()) {
            (Some(message), Some(code)) => format!("{message} ({code}, HTTP {})", status.as_u16()),
            _ => format!("the API answered HTTP {}", status.as_u16()),
        };
        Err(Failure {
            message,
            status: Some(status),
        })
    }
}
