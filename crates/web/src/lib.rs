//! # solocrm-web
//!
//! The local web workspace that `solocrm serve` starts: server-rendered HTML over the
//! books, with plain links and forms (POST → 303 → GET), no script, SVG charts drawn
//! by the server, English and Chinese.
//!
//! [`app`] builds the [`Router`] over a [`Books`] (tests drive it with
//! `tower::ServiceExt::oneshot`); [`serve`] runs it on a loopback port until Ctrl-C.
//! Every store call runs on the blocking pool (`spawn_blocking`): the store is
//! synchronous, and the PostgreSQL client must never run or be dropped on an async
//! worker. [`serve`] borrows the books, so their last handle is dropped by the caller,
//! after the runtime has shut down.
//!
//! Security (`docs/web.md`, ADR 0018): loopback bind by default, a `Host` check, a
//! random token exchanged for an `HttpOnly; SameSite=Strict` cookie, a cross-site check
//! of every unsafe method, a strict Content-Security-Policy, and templates (maud) that
//! escape every value.
#![deny(missing_docs)]

pub mod charts;
pub mod feed;
pub mod i18n;
mod kept;
mod pages;
pub mod runner;
pub mod security;
mod store_work;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use solocrm_app::Books;

pub use feed::Feed;
pub use runner::Runner;

/// Where the one stylesheet is served.
pub const CSS_PATH: &str = "/assets/app.css";
/// The stylesheet, compiled into the binary.
const CSS: &str = include_str!("../assets/app.css");

/// What the handlers read the time from: the clock in `serve`, a fixed instant in
/// tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How the workspace is set up.
#[derive(Clone)]
pub struct Config {
    /// The login token (the `?token=` of the printed link).
    pub token: String,
    /// The session cookie's value, given for the token.
    pub session: String,
    /// An address besides loopback that `Host` may name: the one `--bind` gave.
    pub extra_host: Option<IpAddr>,
    /// The clock.
    pub clock: Clock,
    /// Whether the automation runs inside the workspace: after each write made through
    /// it, and every minute in [`serve`] ([`runner`]).
    pub automation: bool,
    /// The calendar feed, if the workspace serves one ([`feed`]).
    pub feed: Option<Arc<Feed>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("extra_host", &self.extra_host)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A fresh random token and session, the system clock, loopback only, automation
    /// on, no calendar feed.
    ///
    /// # Errors
    ///
    /// If the operating system has no randomness to give.
    pub fn new() -> Result<Config, getrandom::Error> {
        Ok(Config {
            token: security::random_secret()?,
            session: security::random_secret()?,
            extra_host: None,
            clock: Arc::new(Utc::now),
            automation: true,
            feed: None,
        })
    }
}

/// The state every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    books: Books,
    token: String,
    session: String,
    extra_host: Option<IpAddr>,
    clock: Clock,
    runner: Runner,
    feed: Option<Arc<Feed>>,
    reports: kept::Kept<
        pages::ReportKey,
        (
            solocrm_app::views::Dashboard,
            Vec<solocrm_app::overview::MonthFigures>,
        ),
    >,
    care: kept::Kept<pages::CareKey, solocrm_app::views::CareList>,
    audit: kept::Kept<(), pages::AuditBook>,
    /// The bought-together index the customer page recommends from, rebuilt after a
    /// write only.
    co_purchase: kept::Kept<(), solocrm_app::catalogue::RecommendIndex>,
    /// Every customer's searchable text, folded, that `/customers?q=` searches in
    /// memory (ADR 0053), rebuilt after a write only.
    search: kept::Kept<(), solocrm_core::search::SearchIndex>,
    /// The outbox position the erasure sweep has looked up to ([`AppState::sweep`]);
    /// `None` before its first look.
    swept: std::sync::Mutex<Option<solocrm_core::EventSeq>>,
    /// The outbox position and the business day the kept dashboard of `/` and the
    /// search index were last brought up to date for ([`pages::refresh_kept`]).
    kept_seen: std::sync::Mutex<Option<(solocrm_core::EventSeq, chrono::NaiveDate)>>,
    /// Set while [`AppState::refresh_every`] runs: `/` may then answer with the kept
    /// dashboard of a moment ago, marked, while the refresh brings it up to date
    /// (ADR 0072); without a refresher it computes the current one.
    refreshing: std::sync::atomic::AtomicBool,
}

impl Inner {
    /// Drops the kept views (the dashboard's reports, the care lists, the audit
    /// book, the search index), which may hold an erased customer's name.
    fn forget_kept_views(&self) {
        self.reports.forget();
        self.care.forget();
        self.audit.forget();
        self.co_purchase.forget();
        self.search.forget();
    }

    /// Drops the kept views if the outbox holds an erasure since the last look: one
    /// made by another program (the CLI) while the workspace serves, which nothing
    /// here saw. [`serve`]'s refresh calls it every second ([`REFRESH`]), so no kept
    /// view holds an erased customer's data longer than that, and `/` calls it before
    /// it answers with a kept dashboard of a moment ago. The
    /// first look only notes where the outbox ends (nothing is kept before the server
    /// starts). Blocking: reads the events after the position, 10 000 at a time.
    ///
    /// # Errors
    ///
    /// The backend's; the position is then left where it was, for the next look.
    fn sweep(&self) -> Result<(), solocrm_core::StoreError> {
        let mut swept = self
            .swept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let books = &self.books;
        let Some(mut at) = *swept else {
            *swept = Some(books.read(|r| solocrm_app::overview::newest_event(&r, 0))?);
            return Ok(());
        };
        let mut erased = false;
        loop {
            let events = books.read(|r| r.events(at, 10_000))?;
            let Some(last) = events.last() else {
                break;
            };
            at = last.seq;
            erased |= events
                .iter()
                .any(|e| matches!(e.event, solocrm_core::DomainEvent::CustomerErased { .. }));
        }
        if erased {
            self.forget_kept_views();
        }
        *swept = Some(at);
        Ok(())
    }
}

impl AppState {
    fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    /// Runs the automation after a write made through the workspace, so what the
    /// write triggered is on the next page. Its failure is logged, not shown: the
    /// write itself stands.
    async fn after_write(&self) {
        self.inner.runner.run_now().await;
    }

    /// Drops the kept views ([`Inner::forget_kept_views`]).
    fn forget_kept_views(&self) {
        self.inner.forget_kept_views();
    }

    /// Looks for erasures made elsewhere ([`Inner::sweep`]).
    ///
    /// # Errors
    ///
    /// The backend's.
    fn sweep(&self) -> Result<(), solocrm_core::StoreError> {
        self.inner.sweep()
    }

    /// [`pages::refresh_kept`] now and then every `period`, until `stop`
    /// completes; after a look that computed, the pause is at least as long as that
    /// look took, so a stream of writes (an import, the automation's catch-up) keeps
    /// the refresh on one core at most half of the time. A failed look is logged and
    /// retried by the next. While it runs, `/` may answer with the dashboard of a
    /// moment ago rather than compute the current one (ADR 0072). Each look sweeps for
    /// erasures made elsewhere ([`Inner::sweep`]), the first at once: it notes where the
    /// outbox ends when the server starts.
    async fn refresh_every(self, period: std::time::Duration, stop: impl Future<Output = ()>) {
        use std::sync::atomic::Ordering;
        tokio::pin!(stop);
        self.inner.refreshing.store(true, Ordering::Release);
        let state = self.clone();
        match tokio::task::spawn_blocking(move || state.sweep()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("solocrm serve: the erasure sweep failed (the next one retries): {e}")
            }
            Err(e) => {
                eprintln!("solocrm serve: the erasure sweep stopped (the next one retries): {e}")
            }
        }
        // The first look computes the dashboard before anyone asks, once the
        // automation's first run (perhaps the lifecycle's catch-up) has ended, not
        // beside it (ADR 0072).
        let mut warm = true;
        let stopped = tokio::select! {
            () = &mut stop => true,
            () = self.inner.runner.ran_once() => false,
        };
        if !stopped {
            loop {
                let started = std::time::Instant::now();
                let computed = match pages::refresh_kept(&self, std::mem::take(&mut warm)).await {
                    Ok(computed) => computed,
                    Err(e) => {
                        eprintln!(
                            "solocrm serve: the dashboard's refresh failed (the next one retries): {e}"
                        );
                        false
                    }
                };
                let pause = if computed {
                    period.max(started.elapsed())
                } else {
                    period
                };
                tokio::select! {
                    () = &mut stop => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
        self.inner.refreshing.store(false, Ordering::Release);
    }
}

/// The workspace's routes over `books`, behind the guard ([`security`]).
pub fn app(books: Books, config: Config) -> Router {
    workspace(books, config).0
}

/// The workspace's routes over `books` and its automation [`Runner`] (the one the
/// routes run after each write), for a caller that also runs it on a timer
/// ([`Runner::every`], as [`serve`] does).
pub fn workspace(books: Books, config: Config) -> (Router, Runner) {
    let (router, runner, _) = parts(books, config);
    (router, runner)
}

/// [`workspace`] and the state its routes share, for [`serve`]'s erasure sweep.
fn parts(books: Books, config: Config) -> (Router, Runner, AppState) {
    let runner = Runner::new(books.clone(), config.clock.clone(), config.automation);
    let state = AppState {
        inner: Arc::new(Inner {
            books,
            token: config.token,
            session: config.session,
            extra_host: config.extra_host,
            clock: config.clock,
            runner: runner.clone(),
            feed: config.feed,
            reports: kept::Kept::new(),
            care: kept::Kept::new(),
            audit: kept::Kept::new(),
            co_purchase: kept::Kept::new(),
            search: kept::Kept::new(),
            swept: std::sync::Mutex::new(None),
            kept_seen: std::sync::Mutex::new(None),
            refreshing: std::sync::atomic::AtomicBool::new(false),
        }),
    };
    let router = Router::new()
        .route("/", get(pages::dashboard))
        .route(
            "/customers",
            get(pages::customers).post(pages::add_customer),
        )
        .route("/customers/{id}", get(pages::customer))
        .route("/customers/{id}/edit", post(pages::edit_customer))
        .route("/customers/{id}/interactions", post(pages::log_interaction))
        .route("/customers/{id}/purchases", post(pages::record_purchase))
        .route("/customers/{id}/stage", post(pages::change_stage))
        .route("/customers/{id}/surveys", post(pages::record_survey))
        .route(
            "/customers/{id}/surveys/{survey}/void",
            post(pages::void_survey),
        )
        .route("/customers/{id}/sheets/void", post(pages::void_sheet))
        .route(
            "/customers/{id}/sheet",
            get(pages::sheet_form).post(pages::answer_sheet),
        )
        .route("/customers/{id}/requests", post(pages::open_request))
        .route("/customers/{id}/tasks", post(pages::add_task))
        .route("/customers/{id}/tags", post(pages::change_tags))
        .route("/customers/{id}/points", post(pages::post_points))
        .route("/customers/{id}/consent", post(pages::record_consent))
        .route("/customers/{id}/needs", post(pages::add_need))
        .route(
            "/customers/{id}/participations",
            post(pages::add_participation),
        )
        .route(
            "/customers/{id}/needs/{need}/resolve",
            post(pages::resolve_need),
        )
        .route("/customers/{id}/export.json", get(pages::export_customer))
        .route("/customers/{id}/vcard.vcf", get(pages::vcard))
        .route("/customers/{id}/erase", post(pages::erase_customer))
        .route("/requests/{id}/step", post(pages::step_request))
        .route("/tasks/{id}/done", post(pages::task_done))
        .route("/tasks/{id}/snooze", post(pages::task_snooze))
        .route("/care", get(pages::care))
        .route("/pipeline", get(pages::pipeline))
        .route("/deals/{id}/move", post(pages::move_deal))
        .route("/rfm", get(pages::rfm_page))
        .route("/churn", get(pages::churn_page))
        .route("/cohorts", get(pages::cohorts_page))
        .route("/clv", get(pages::clv_page))
        .route("/segments", get(pages::segments_page))
        .route("/campaigns", get(pages::campaigns_page))
        .route("/segments/members", get(pages::segment_members))
        .route("/rules", get(pages::rules).post(pages::add_rule))
        .route("/rules/{name}", post(pages::switch_rule))
        .route(
            "/rules/{name}/edit",
            get(pages::edit_rule_form).post(pages::edit_rule),
        )
        .route(
            "/rules/{name}/remove",
            get(pages::remove_rule_form).post(pages::remove_rule),
        )
        .route("/rules/{name}/test", get(pages::test_rule))
        .route("/products", get(pages::products).post(pages::add_product))
        .route("/products/{sku}", get(pages::product))
        .route("/products/{sku}/edit", post(pages::edit_product))
        .route("/products/{sku}/remove", post(pages::remove_product))
        .route("/offers", get(pages::offers).post(pages::add_offer))
        .route("/offers/{code}/end", post(pages::end_offer))
        .route("/targets", get(pages::targets).post(pages::set_target))
        .route("/targets/remove", post(pages::remove_target))
        .route("/surveys", get(pages::surveys))
        .route(
            "/import",
            get(pages::import_page)
                .post(pages::import_upload)
                .layer(axum::extract::DefaultBodyLimit::max(pages::UPLOAD_LIMIT)),
        )
        .route("/surveys/templates", post(pages::add_template))
        .route("/surveys/templates/{name}", get(pages::template))
        .route("/surveys/templates/{name}/edit", post(pages::edit_template))
        .route(
            "/surveys/templates/{name}/remove",
            post(pages::remove_template),
        )
        .route(
            "/surveys/templates/{name}/archive",
            post(pages::archive_template),
        )
        .route("/calendar", get(pages::calendar))
        .route("/holidays", get(pages::holidays).post(pages::add_holiday))
        .route("/holidays/presets", post(pages::use_presets))
        .route("/holidays/remove", post(pages::remove_holiday))
        .route("/calendar/regenerate", post(pages::regenerate_feed))
        .route(FEED_ROUTE, get(pages::feed))
        .route("/health", get(|| async { "ok" }))
        .route(
            CSS_PATH,
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state.clone());
    (router, runner, state)
}

/// The calendar feed's route: the token is in the path, as a calendar app sends no
/// cookie.
const FEED_ROUTE: &str = "/feed/{token}/solocrm.ics";
/// Where every feed URL starts (the guard lets it through without a session).
pub(crate) const FEED_PREFIX: &str = "/feed/";

/// Where and how [`serve`] listens.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address to bind: loopback unless the user asked for another.
    pub bind: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// Whether the automation runs inside the server: every minute and after each
    /// write made through it (`false` for `--no-automation`).
    pub automation: bool,
    /// The file the calendar feed's token is kept in (made, mode 0600, if absent);
    /// `None` serves no feed.
    pub feed_token_file: Option<PathBuf>,
}

/// A server that has started: its address and the link to open.
#[derive(Debug, Clone)]
pub struct Started {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/?token=TOKEN` (the bound address instead of 127.0.0.1
    /// when bound to a specific other address).
    pub url: String,
}

/// How often [`serve`] looks whether the kept dashboard and search index are out of date
/// ([`pages::refresh_kept`]): two indexed reads of the outbox when nothing changed.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves the workspace over `books` until Ctrl-C: binds, calls `ready` with the link,
/// serves while the automation runs every minute ([`runner::TICK`]) and, every
/// second, the outbox is swept for erasures made by another program (the kept views
/// are then dropped, so none holds an erased customer's data past the next sweep) and
/// the kept dashboard and search index are brought up to date,
/// then finishes the requests in flight and the run in progress, and shuts the
/// runtime down. The caller's `books` outlive the runtime, so no store handle is
/// dropped on it.
///
/// # Errors
///
/// If the address cannot be bound, the runtime cannot start, no randomness is
/// available for the token, or the feed token file cannot be read or written.
pub fn serve(
    books: &Books,
    options: &ServeOptions,
    ready: impl FnOnce(&Started),
) -> std::io::Result<()> {
    let mut config = Config::new().map_err(std::io::Error::other)?;
    if !options.bind.is_loopback() && !options.bind.is_unspecified() {
        config.extra_host = Some(options.bind);
    }
    config.automation = options.automation;
    if let Some(path) = &options.feed_token_file {
        config.feed = Some(Arc::new(Feed::open(path).map_err(std::io::Error::other)?));
    }
    let token = config.token.clone();
    let (router, runner, state) = parts(books.clone(), config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((options.bind, options.port)).await?;
        let addr = listener.local_addr()?;
        let shown = if options.bind.is_loopback() || options.bind.is_unspecified() {
            format!("127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        ready(&Started {
            addr,
            url: format!("http://{shown}/?token={token}"),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let ticker = tokio::spawn(runner.every(runner::TICK, async {
            let _ = stopped.await;
        }));
        let (stop_refresh, refresh_stopped) = tokio::sync::oneshot::channel::<()>();
        let refresher = tokio::spawn(state.refresh_every(REFRESH, async {
            let _ = refresh_stopped.await;
        }));
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        // The pages are done; a run in progress finishes, then the ticker stops.
        let _ = stop.send(());
        let _ = stop_refresh.send(());
        if let Err(e) = ticker.await {
            eprintln!("solocrm serve: the automation ticker stopped: {e}");
        }
        if let Err(e) = refresher.await {
            eprintln!("solocrm serve: the dashboard's refresh stopped: {e}");
        }
        served
    });
    // Waits for the blocking pool: a write in flight finishes before this returns.
    drop(runtime);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kept::tests::{add, memory_books};

    /// Keeps the search index of the books as they are; the number of views kept.
    fn keep_search(state: &AppState) -> usize {
        state
            .inner
            .books
            .read(|r| {
                let _ = state
                    .inner
                    .search
                    .get(&r, &(), || r.search_index())
                    .expect("index");
                Ok(())
            })
            .expect("read");
        state.inner.search.len()
    }

    #[test]
    fn an_erasure_made_elsewhere_drops_the_kept_views_at_the_next_sweep() {
        let books = memory_books();
        let wang = add(&books, "王芳");
        let (_, _, state) = parts(books.clone(), Config::new().expect("config"));
        state.sweep().expect("first look");
        assert_eq!(keep_search(&state), 1);
        // Another write, not an erasure: the view stays (it is rebuilt when asked).
        add(&books, "李雷");
        state.sweep().expect("sweep");
        assert_eq!(state.inner.search.len(), 1);
        // The CLI erases 王芳 while the workspace serves.
        books
            .write(|w| w.erase_customer(wang, Utc::now()))
            .expect("erased");
        state.sweep().expect("sweep");
        assert_eq!(state.inner.search.len(), 0, "no copy of 王芳 stays kept");
        // The sweep moved on: the next look finds nothing new.
        assert_eq!(keep_search(&state), 1);
        state.sweep().expect("sweep");
        assert_eq!(state.inner.search.len(), 1);
    }
}
