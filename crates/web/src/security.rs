//! The guard in front of every route: the `Host` check (DNS rebinding), the token
//! login and its session cookie, the cross-site check of unsafe methods (CSRF), and the
//! security headers of every response. See `docs/web.md#security` and ADR 0018.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::AppState;
use crate::i18n::Lang;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "solocrm_session";
/// The language cookie's name.
pub const LANG_COOKIE: &str = "solocrm_lang";

/// The Content-Security-Policy of every response: nothing inline, nothing from
/// elsewhere, no framing.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// 32 random bytes from the operating system, as 64 hex digits.
///
/// # Errors
///
/// If the operating system has no randomness to give.
pub fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Equal secrets, compared in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// True if `host` (a `Host` header: a name or address, maybe with a port) is a
/// loopback address, `localhost`, or the address the server was bound to (`extra`).
pub fn host_allowed(host: &str, extra: Option<IpAddr>) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inner, tail)) if tail.is_empty() || is_port(tail) => inner,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if is_port(&format!(":{port}")) => name,
            _ => host,
        }
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback() || Some(ip) == extra)
}

fn is_port(tail: &str) -> bool {
    tail.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// True if a request of an unsafe method comes from another site: Go 1.25's
/// header-only rule. `Sec-Fetch-Site` decides when present (`same-origin` and `none`
/// pass); otherwise an `Origin` must name the request's own host; a request with
/// neither header is not from a browser and passes.
pub fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.to_str().ok().and_then(|o| {
        o.strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
    });
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        _ => true,
    }
}

/// The value of cookie `name` among the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The value of `name` in a query string (not decoded: the token and the language
/// are plain ASCII).
pub fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

/// The path and query of a request without its `token` parameter. A path that a
/// browser would read as another host (`//host`, `/\host`) becomes `/`: the login
/// never redirects off the server.
fn without_token(path: &str, query: Option<&str>) -> String {
    let path = if path.starts_with("//") || path.starts_with("/\\") || !path.starts_with('/') {
        "/"
    } else {
        path
    };
    let rest: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("token=") && *p != "token")
        .collect();
    if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    }
}

/// The language of a request: `?lang=`, the cookie, `Accept-Language`, English.
pub fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query_param(query, "lang")
        .and_then(Lang::from_tag)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::from_tag))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

/// The middleware: checks, then the route, then the headers.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = lang_of(request.headers(), request.uri().query());
    let set_lang = query_param(request.uri().query(), "lang").and_then(Lang::from_tag);
    let mut response = check(&state, lang, request, next).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(lang) = set_lang
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
            lang.tag()
        ))
    {
        headers.append(header::SET_COOKIE, v);
    }
    response
}

async fn check(state: &AppState, lang: Lang, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| host_allowed(h, state.inner.extra_host)) {
        return refusal(lang, StatusCode::MISDIRECTED_REQUEST, "error.host");
    }
    let path = request.uri().path();
    // The calendar feed carries its own token in the path (a calendar app sends no
    // cookie); its handler checks it. Reading only.
    let feed = path.starts_with(crate::FEED_PREFIX)
        && matches!(*request.method(), Method::GET | Method::HEAD);
    let public = path == "/health" || path == crate::CSS_PATH || feed;
    let query = request.uri().query();
    if let Some(token) = query_param(query, "token") {
        if !same_secret(token, &state.inner.token) {
            return refusal(lang, StatusCode::UNAUTHORIZED, "error.bad_token");
        }
        let mut response =
            axum::response::Redirect::to(&without_token(path, query)).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            state.inner.session
        )) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        return response;
    }
    if !public
        && !cookie(request.headers(), SESSION_COOKIE)
            .is_some_and(|s| same_secret(s, &state.inner.session))
    {
        return refusal(lang, StatusCode::UNAUTHORIZED, "error.login");
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && cross_site(request.headers()) {
        return refusal(lang, StatusCode::FORBIDDEN, "error.cross_site");
    }
    next.run(request).await
}

/// A refusal: a small page with one message, outside the workspace's frame.
fn refusal(lang: Lang, status: StatusCode, key: &str) -> Response {
    let title = match status {
        StatusCode::UNAUTHORIZED => lang.t("error.login_title"),
        _ => lang.t("error.forbidden_title"),
    };
    let markup = maud::html! {
        (maud::DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                title { (title) " · solocrm" }
                link rel="stylesheet" href=(crate::CSS_PATH);
            }
            body { main { h1 { (title) } p.message { (lang.t(key)) } } }
        }
    };
    let mut response = (status, markup).into_response();
    if status == StatusCode::UNAUTHORIZED {
        // Not an HTTP authentication scheme the browser could answer: a page.
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_loopback_or_localhost() {
        for ok in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "localhost:1",
            "LOCALHOST",
            "[::1]:8080",
            "[::1]",
            "127.1.2.3:9",
        ] {
            assert!(host_allowed(ok, None), "{ok} refused");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.2:80",
            "[::1]x",
            "127.0.0.1:80:80",
            "",
        ] {
            assert!(!host_allowed(bad, None), "{bad} allowed");
        }
        let lan: IpAddr = "10.0.0.2".parse().expect("ip");
        assert!(host_allowed("10.0.0.2:80", Some(lan)));
    }

    #[test]
    fn the_token_leaves_the_url_and_other_parameters_stay() {
        assert_eq!(without_token("/", Some("token=abc")), "/");
        assert_eq!(
            without_token("/customers", Some("q=x&token=abc&lang=en")),
            "/customers?q=x&lang=en"
        );
        assert_eq!(without_token("//evil.example", Some("token=abc")), "/");
        assert_eq!(without_token("/\\evil.example", Some("token=abc")), "/");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
