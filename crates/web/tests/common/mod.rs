//! What the workspace's request tests share: the loopback host, the session and
//! token they were configured with, and requests sent to a router in one shot.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

pub const HOST: &str = "127.0.0.1:8765";
pub const ORIGIN: &str = "http://127.0.0.1:8765";
pub const TOKEN: &str = "0123456789abcdef";
pub const SESSION: &str = "fedcba9876543210";

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// Where a redirect points, or "" for none.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A GET with the session cookie.
pub async fn get(router: &Router, path: &str) -> Answer {
    let request = Request::get(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"))
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

/// A GET as a calendar app sends it: no cookie.
pub async fn get_plain(router: &Router, path: &str) -> Answer {
    let request = Request::get(path)
        .header(header::HOST, HOST)
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

/// Percent-encoding of a form value, every byte but the unreserved ones.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form POST with the session cookie, as a browser on `site` sends it
/// (`Sec-Fetch-Site`).
pub async fn post_from(router: &Router, path: &str, fields: &[(&str, &str)], site: &str) -> Answer {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let request = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", site)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.join("&")))
        .expect("request");
    send(router, request).await
}

/// A form POST from the workspace's own pages.
pub async fn post(router: &Router, path: &str, fields: &[(&str, &str)]) -> Answer {
    post_from(router, path, fields, "same-origin").await
}

/// The workspace's settings in these tests: [`TOKEN`] and [`SESSION`], loopback only,
/// no calendar feed, `clock` for the time, the automation on or off.
pub fn config(
    clock: fn() -> chrono::DateTime<chrono::Utc>,
    automation: bool,
) -> solocrm_web::Config {
    solocrm_web::Config {
        token: TOKEN.to_owned(),
        session: SESSION.to_owned(),
        extra_host: None,
        clock: Arc::new(clock),
        automation,
        feed: None,
    }
}
