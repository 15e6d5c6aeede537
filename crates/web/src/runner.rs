//! The automation runner inside `solocrm serve` (issue 16): the rules run with
//! `as_of` = the clock every minute, and right after each write made through the
//! workspace, so a rule's task is on the page the form redirects to.
//!
//! A run is [`solocrm_app::automation::run`], on the blocking pool (the store is
//! synchronous). Runs never overlap: one lock, held only by runs, orders them; pages
//! never take it, and a run holds the store only for its own short transactions, so
//! pages are served while it works. A failed run is logged on standard error and
//! retried by the next tick: it never stops the server. Each occurrence fires once
//! however often the runner runs (the runner's own guarantee), so a run that finds
//! nothing new is cheap: the events after the cursor, and the time rules once per
//! business day.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use solocrm_app::Books;
use solocrm_app::automation::{RunReport, run};

use crate::Clock;

/// How often the time rules are looked at while serving.
pub const TICK: Duration = Duration::from_secs(60);

/// The automation runner of one workspace. Cheap to clone; all clones share the lock
/// that keeps two runs apart.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<RunnerInner>,
}

struct RunnerInner {
    books: Books,
    clock: Clock,
    on: bool,
    lock: Mutex<()>,
    /// How many runs have ended (well or not), for [`Runner::ran_once`].
    runs: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("on", &self.inner.on)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner over `books` reading the time from `clock`; `on = false` makes every
    /// run a no-op (`solocrm serve --no-automation`, for books whose automation a
    /// cron job runs with `solocrm run`).
    pub fn new(books: Books, clock: Clock, on: bool) -> Runner {
        Runner {
            inner: Arc::new(RunnerInner {
                books,
                clock,
                on,
                lock: Mutex::new(()),
                runs: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    /// Whether this runner runs the rules at all.
    pub fn is_on(&self) -> bool {
        self.inner.on
    }

    /// Completes once a run has ended (at once if one has, or if the automation is
    /// off): [`serve`](crate::serve) computes its dashboard after the first run, which
    /// may be the lifecycle's catch-up, rather than beside it.
    pub async fn ran_once(&self) {
        if !self.inner.on {
            return;
        }
        let mut runs = self.inner.runs.subscribe();
        // The sender lives as long as `self`: the wait ends with a run.
        let _ = runs.wait_for(|n| *n > 0).await;
    }

    /// Runs the rules once, now, on the blocking pool, after any run in progress has
    /// finished. `None` if the runner is off or the run failed (the failure is logged
    /// on standard error).
    pub async fn run_now(&self) -> Option<RunReport> {
        if !self.inner.on {
            return None;
        }
        let inner = self.inner.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            // A run that panicked leaves no half-made firing (each is one
            // transaction), so the lock it poisoned is safe to take again.
            let _one_at_a_time = inner
                .lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let outcome = run(inner.books.crm(), (inner.clock)());
            inner.runs.send_modify(|n| *n += 1);
            outcome
        })
        .await;
        match outcome {
            Ok(Ok(report)) => Some(report),
            Ok(Err(stopped)) => {
                let done = &stopped.done;
                eprintln!(
                    "solocrm serve: automation run failed after {} firings, {} stage moves \
                     and {} points lapses, which stay (the next one retries): {}",
                    done.fired.len(),
                    done.moved.len(),
                    done.lapsed.len(),
                    stopped.error
                );
                None
            }
            Err(e) => {
                eprintln!("solocrm serve: automation run stopped (the next one retries): {e}");
                None
            }
        }
    }

    /// Runs the rules at once and then every `period`, until `stop` completes; a run
    /// in progress when it does is finished first. A run that takes longer than
    /// `period` delays the next one rather than stacking them.
    pub async fn every(self, period: Duration, stop: impl Future<Output = ()>) {
        if !self.inner.on {
            return;
        }
        let runner = &self;
        every(period, stop, move || runner.run_now()).await;
    }
}

/// Awaits `tick()` (its answer dropped) at once and then every `period`, until `stop` completes; a tick in
/// progress when it does is finished first. A tick that takes longer than `period`
/// delays the next one rather than stacking them. The runner's and the erasure sweep's
/// timer.
async fn every<F: Future>(
    period: Duration,
    stop: impl Future<Output = ()>,
    mut tick: impl FnMut() -> F,
) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            _ = interval.tick() => {
                tick().await;
            }
        }
    }
}
