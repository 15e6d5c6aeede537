//! The loopback load bench of `solocrm serve` (issue 15): N concurrent readers over a
//! fixed mix of pages, bounded in requests and seconds, with the latency percentiles
//! of each route and the server's peak memory.
//!
//! It starts the release binary on a given book (`serve --port 0 --no-automation`),
//! logs in with the printed link, warms each route once, then lets the readers go:
//! each takes the next request of the mix until the count or the time runs out. At
//! the end it prints, per route, the count, p50, p95, p99, max and p99 / p50, and the
//! server's peak resident memory (`VmHWM` of `/proc/PID/status`) and CPU time, then
//! stops the server it started.
//!
//! ```sh
//! cargo build --release -p solocrm-cli
//! SOLOCRM_LOAD_DB=/path/to/demo-100k.db cargo bench -p solocrm-web --bench load
//! ```
//!
//! Settings (environment): `SOLOCRM_LOAD_DB` (the book; without it the bench says so
//! and does nothing), `SOLOCRM_BIN` (default `$CARGO_TARGET_DIR/release/solocrm`, else
//! `target/release/solocrm`), `LOAD_READERS` (50), `LOAD_REQUESTS` (2000),
//! `LOAD_SECONDS` (120), `LOAD_CUSTOMERS` (the ids of customer pages are drawn from
//! 1..=this, default 100000). It is a bench, not a test: it asserts nothing about time
//! and runs only when asked.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Http = Client<HttpConnector, Empty<Bytes>>;

/// The searches of the mix: a given + family name, one character, two letters, a
/// common surname with a diacritic, a full name.
const SEARCHES: [&str; 5] = ["张伟", "王", "an", "Nguyễn", "李娜"];

/// The routes of the mix, in the order they repeat: reads a solo founder makes most.
const MIX: [&str; 8] = [
    "dashboard",
    "customer",
    "search",
    "customer",
    "care",
    "search",
    "customer",
    "list",
];

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The path of request `i` of route `route`.
fn path(route: &str, i: usize, customers: usize) -> String {
    match route {
        "dashboard" => "/".to_owned(),
        "customer" => format!("/customers/{}", 1 + (i * 7919) % customers.max(1)),
        "search" => format!(
            "/customers?{}",
            serde_urlencoded::to_string([("q", SEARCHES[i % SEARCHES.len()])]).unwrap_or_default()
        ),
        "care" => "/care".to_owned(),
        _ => "/customers".to_owned(),
    }
}

/// What `/proc/PID/status` says of `field` (in kB), if readable.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The process's CPU time so far (user + system), if readable.
fn cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// The server this bench started; stopped when dropped.
struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bin: &str, db: &str) -> Server {
    let mut child = Command::new(bin)
        .args(["--db", db, "serve", "--port", "0", "--no-automation"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its standard output"))
        .read_line(&mut line)
        .expect("the server's link");
    let url = line.trim();
    let (base, token) = url
        .split_once("/?token=")
        .unwrap_or_else(|| panic!("not a link: {url:?}"));
    Server {
        base: base.to_owned(),
        token: token.to_owned(),
        child,
    }
}

fn request(base: &str, path: &str, cookie: &str) -> Request<Empty<Bytes>> {
    Request::get(format!("{base}{path}"))
        .header(header::COOKIE, cookie)
        .body(Empty::new())
        .expect("a request")
}

/// Sends one GET and reads the whole body: its status and the time it took.
async fn fetch(client: &Http, base: &str, path: &str, cookie: &str) -> (StatusCode, Duration) {
    let t = Instant::now();
    match client.request(request(base, path, cookie)).await {
        Ok(response) => {
            let status = response.status();
            let _ = response.into_body().collect().await;
            (status, t.elapsed())
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, t.elapsed()),
    }
}

/// The `q`-quantile (nearest rank) of sorted durations, in milliseconds.
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn main() {
    let Ok(db) = std::env::var("SOLOCRM_LOAD_DB") else {
        println!("load bench: set SOLOCRM_LOAD_DB to a book (e.g. a 100 k demo) to run it");
        return;
    };
    let bin = std::env::var("SOLOCRM_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/solocrm")
    });
    let readers = setting("LOAD_READERS", 50).max(1);
    let total = setting("LOAD_REQUESTS", 2000);
    let seconds = setting("LOAD_SECONDS", 120) as u64;
    let customers = setting("LOAD_CUSTOMERS", 100_000);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let server = start(&bin, &db);
    let pid = server.child.id();
    let base = server.base.clone();
    let client: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(readers)
        .build_http();

    runtime.block_on(async {
        // Log in: the token's link answers with the session cookie.
        let login = client
            .request(request(&base, &format!("/?token={}", server.token), ""))
            .await
            .expect("the login");
        let cookie = login
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("solocrm_session="))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let _ = login.into_body().collect().await;

        println!("server {bin} (pid {pid}) on {db}");
        println!("warm-up (one request per route, in turn):");
        for route in ["dashboard", "care", "customer", "search", "list"] {
            let (status, took) = fetch(&client, &base, &path(route, 0, customers), &cookie).await;
            println!(
                "  {route:<10} {status} {:>10.1} ms",
                took.as_secs_f64() * 1000.0
            );
        }
        let cpu_before = cpu(pid);

        let next = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..readers {
            let (client, base, cookie, next) =
                (client.clone(), base.clone(), cookie.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut seen: Vec<(&'static str, StatusCode, Duration)> = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || Instant::now() >= deadline {
                        break;
                    }
                    let route = MIX[i % MIX.len()];
                    let (status, took) = fetch(
                        &client,
                        &base,
                        &path(route, i / MIX.len(), customers),
                        &cookie,
                    )
                    .await;
                    seen.push((route, status, took));
                }
                seen
            }));
        }
        let mut by_route: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        let mut failed = 0usize;
        let mut done = 0usize;
        for t in tasks {
            for (route, status, took) in t.await.expect("a reader") {
                done += 1;
                if status != StatusCode::OK {
                    failed += 1;
                }
                by_route.entry(route).or_default().push(took);
            }
        }
        let wall = started.elapsed();
        let server_cpu = match (cpu_before, cpu(pid)) {
            (Some(a), Some(b)) => format!("{:.1} s", (b - a).as_secs_f64()),
            _ => "unknown".to_owned(),
        };
        println!(
            "{readers} readers, {done} requests ({failed} not 200) in {:.1} s wall \
             ({:.1} requests/s); server CPU (user + sys) during the run: {server_cpu}",
            wall.as_secs_f64(),
            done as f64 / wall.as_secs_f64().max(1e-9),
        );
        println!(
            "{:<10} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8}",
            "route", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", "p99/p50"
        );
        let mut all = Vec::new();
        for (route, mut times) in by_route {
            times.sort();
            let (p50, p99) = (quantile(&times, 0.50), quantile(&times, 0.99));
            println!(
                "{route:<10} {:>6} {p50:>9.1} {:>9.1} {p99:>9.1} {:>9.1} {:>8.2}",
                times.len(),
                quantile(&times, 0.95),
                quantile(&times, 1.0),
                p99 / p50.max(1e-9),
            );
            all.extend(times);
        }
        all.sort();
        let (p50, p99) = (quantile(&all, 0.50), quantile(&all, 0.99));
        println!(
            "{:<10} {:>6} {p50:>9.1} {:>9.1} {p99:>9.1} {:>9.1} {:>8.2}",
            "all",
            all.len(),
            quantile(&all, 0.95),
            quantile(&all, 1.0),
            p99 / p50.max(1e-9),
        );
    });
    let kib = |f| status_kb(pid, f).map_or("unknown".to_owned(), |k| format!("{} MiB", k / 1024));
    println!(
        "server memory: peak resident (VmHWM) {}, resident now (VmRSS) {}",
        kib("VmHWM"),
        kib("VmRSS")
    );
    drop(server);
}
