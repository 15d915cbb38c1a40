//! What the local API serves besides the routes: the OpenAPI document at
//! `/openapi.json` and the web console (web/console) at `/`. Compiled into the binary,
//! so no path from a request ever reaches the file system.

/// One file served as it is.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! console {
    ($path:literal, $file:literal, $type:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../web/console/", $file)),
        }
    };
}

/// The files of web/console, by the path each is served at (a test checks that every
/// file of the folder is listed).
pub const CONSOLE: &[Asset] = &[
    console!("/", "index.html", "text/html; charset=utf-8"),
    console!("/index.html", "index.html", "text/html; charset=utf-8"),
    console!("/app.js", "app.js", "text/javascript; charset=utf-8"),
    console!("/api.js", "api.js", "text/javascript; charset=utf-8"),
    console!(
        "/uploads.js",
        "uploads.js",
        "text/javascript; charset=utf-8"
    ),
    console!("/style.css", "style.css", "text/css; charset=utf-8"),
    console!("/icon.svg", "icon.svg", "image/svg+xml"),
];

/// The API's OpenAPI 3.1 document (docs/openapi.json).
pub const OPENAPI: Asset = Asset {
    path: "/openapi.json",
    content_type: "application/json",
    body: include_bytes!("../../docs/openapi.json"),
};

/// The console's pages may load scripts and styles from this origin only; they talk to
/// the API and to S3's presigned URLs, wherever those are.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob: data: http: https:; connect-src 'self' http: https:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The asset served for `GET path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    if path == OPENAPI.path {
        return Some(&OPENAPI);
    }
    CONSOLE.iter().find(|a| a.path == path)
}
