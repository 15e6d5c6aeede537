//! The operations layer: every business operation written once, over a transaction of
//! the storage port ([`crate::port`]).
//!
//! [`Crm`] is the one entry point an embedder needs. It holds a [`Storage`] and runs
//! operations in transactions:
//!
//! - [`Crm::read`] gives a [`Reader`] over one consistent snapshot, so a report made
//!   of many reads is never torn by a writer next to it;
//! - [`Crm::write`] gives a [`Writer`] whose operations all commit together or not at
//!   all, so "record a purchase and create a follow-up task" is atomic;
//! - [`Crm::read_as_of`] (or [`Reader::as_of`]) gives a [`Reader`] over the books as
//!   they stood before an instant ([`history`]), for the `--as-of` views;
//! - every operation also exists as a method of `Crm` (through the [`Store`](crate::Store) trait it
//!   implements), running alone in its own transaction.
//!
//! The checks each operation makes, their order and the errors they report are the
//! contract documented on [`Store`](crate::Store); the conformance suite in `solocrm-store-tests`
//! holds every backend to it through this layer. Every write appends its
//! [domain events](crate::event) to the outbox in the same transaction; a write that
//! fails appends none.
//!
//! **The lifecycle can move by itself.** Given a [`LifecyclePolicy`]
//! ([`Crm::with_lifecycle`]; the application crate's books, which every frontend
//! opens, have the default one), recording a purchase or a survey answer moves the
//! customer in the same transaction when the policy's behaviour rules say so (a
//! prospect who buys becomes `new`, a churned customer who buys `won_back`, a repeat
//! buyer `active`, a satisfied regular `loyal`), each step recorded with its own rule.
//! Moves that silence causes (`at_risk`, `churned`) are time-driven:
//! [`Reader::reassess_all`] and [`Writer::apply_suggestion`] catch up to an instant,
//! dating each step when its condition arose. Without a policy (what [`Crm::new`]
//! gives) only the caller moves customers: a program replaying a history it already
//! has, stage changes included, wants exactly that.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use solocrm_core::ops::Crm;
//! use solocrm_core::{
//!     Currency, CustomerData, Label, Money, NewCustomer, NewPurchase, NewTask, PersonName,
//!     TaskKind,
//! };
//!
//! /// A first purchase and its thank-you call, recorded together or not at all.
//! fn first_sale(crm: &Crm) -> Result<(), solocrm_core::StoreError> {
//!     let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
//!     let name = PersonName::parse("王芳")?;
//!     let title = Label::parse("致谢回访")?;
//!     let amount = Money::parse("88.00", Currency::CNY)?;
//!     let customer = crm.write(|w| {
//!         let c = w.create_customer(NewCustomer::new(CustomerData::new(name.clone()), at))?;
//!         w.record_purchase(NewPurchase::new(c.id(), at, amount))?;
//!         w.create_task(NewTask {
//!             customer: Some(c.id()),
//!             kind: TaskKind::FollowUp,
//!             title: title.clone(),
//!             due: at.date_naive(),
//!             recurrence: None,
//!             created_at: at,
//!         })?;
//!         Ok(c)
//!     })?;
//!     assert_eq!(crm.read(|r| r.purchases_of(customer.id()))?.len(), 1);
//!     Ok(())
//! }
//! ```

mod as_of;
mod automation;
mod campaigns;
mod compat;
pub mod history;
mod needs;
mod offers;
mod products;
mod questionnaire;
mod read;
mod rules;
mod write;

pub use products::ProductRemoval;
pub use rules::{Applied, CareRecords, MOVES_PER_WRITE, ReportError};

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::event::{DomainEvent, Event};
use crate::money::Currency;
use crate::policy::LifecyclePolicy;
use crate::port::{IdKind, ReadTx, Storage, WriteKind, WriteTx};
use crate::store::{StoreError, StoreResult};

/// The one entry point: a store and the business operations over it.
///
/// Cheap to clone (an [`Arc`] inside); `Send + Sync`.
#[derive(Clone)]
pub struct Crm {
    storage: Arc<dyn Storage>,
    lifecycle: Option<Arc<LifecyclePolicy>>,
}

impl std::fmt::Debug for Crm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crm")
            .field("base_currency", &self.storage.base_currency())
            .finish_non_exhaustive()
    }
}

impl Crm {
    /// Operations over `storage`.
    pub fn new(storage: impl Storage + 'static) -> Self {
        Crm::from_shared(Arc::new(storage))
    }

    /// Operations over a storage shared with others.
    pub fn from_shared(storage: Arc<dyn Storage>) -> Self {
        Crm {
            storage,
            lifecycle: None,
        }
    }

    /// The same books with `policy` for the stage moves that purchases and survey
    /// answers make by themselves, or (`None`, the default) with none: then only the
    /// caller moves customers.
    #[must_use]
    pub fn with_lifecycle(mut self, policy: Option<LifecyclePolicy>) -> Self {
        self.lifecycle = policy.map(Arc::new);
        self
    }

    /// The lifecycle policy writes follow, if any.
    pub fn lifecycle(&self) -> Option<&LifecyclePolicy> {
        self.lifecycle.as_deref()
    }

    /// The storage underneath.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The currency the books are kept in.
    pub fn currency(&self) -> Currency {
        self.storage.base_currency()
    }

    /// Runs `f` over one consistent snapshot of the books.
    ///
    /// # Errors
    ///
    /// What `f` returns, or the backend's error opening the snapshot.
    pub fn read<T>(&self, f: impl FnOnce(Reader<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut f = Some(f);
        let mut out = None;
        self.storage.read(&mut |tx| {
            let f = f.take().ok_or_else(|| {
                StoreError::backend(Misuse("the backend ran a read transaction twice"))
            })?;
            out = Some(f(Reader::new(tx))?);
            Ok(())
        })?;
        out.ok_or_else(|| StoreError::backend(Misuse("the backend did not run the read")))
    }

    /// Runs `here` on this thread and `there` on a second one, both over one
    /// consistent snapshot of the books (see [`Storage::read_beside`]): two halves of a
    /// big read at the same time, on a backend that can; one after the other in one
    /// snapshot on any other.
    ///
    /// # Errors
    ///
    /// What either closure returns (`here`'s first), or the backend's error opening the
    /// snapshot.
    pub fn read_beside<A, B>(
        &self,
        here: impl FnOnce(Reader<'_>) -> StoreResult<A>,
        there: impl FnOnce(Reader<'_>) -> StoreResult<B> + Send,
    ) -> StoreResult<(A, B)>
    where
        B: Send,
    {
        let twice = || StoreError::backend(Misuse("the backend ran a read transaction twice"));
        let (mut here, mut there) = (Some(here), Some(there));
        let (mut a, mut b) = (None, None);
        self.storage.read_beside(
            &mut |tx| {
                let f = here.take().ok_or_else(twice)?;
                a = Some(f(Reader::new(tx))?);
                Ok(())
            },
            &mut |tx| {
                let f = there.take().ok_or_else(twice)?;
                b = Some(f(Reader::new(tx))?);
                Ok(())
            },
        )?;
        match (a, b) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(StoreError::backend(Misuse(
                "the backend did not run the read",
            ))),
        }
    }

    /// Runs `f` in one transaction: everything it does commits together, or nothing
    /// does if it returns an error.
    ///
    /// The backend may run `f` again after a retryable failure (see
    /// [`StoreError::is_retryable`]), so `f` should not have effects outside the
    /// transaction.
    ///
    /// # Errors
    ///
    /// What `f` returns, or the backend's error opening or committing the transaction.
    pub fn write<T>(&self, f: impl FnMut(&mut Writer<'_>) -> StoreResult<T>) -> StoreResult<T> {
        self.write_as(WriteKind::Ordinary, f)
    }

    /// [`write`](Self::write) for a bulk load (an import): the backend may skip its
    /// own per-row reference checks, which the operations layer makes anyway (see
    /// [`WriteKind::Bulk`]).
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn write_bulk<T>(
        &self,
        f: impl FnMut(&mut Writer<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.write_as(WriteKind::Bulk, f)
    }

    fn write_as<T>(
        &self,
        kind: WriteKind,
        mut f: impl FnMut(&mut Writer<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut out = None;
        let lifecycle = self.lifecycle.as_deref();
        self.storage.write_as(kind, &mut |tx| {
            let mut w = Writer::new(tx).with_lifecycle(lifecycle);
            let value = f(&mut w)?;
            if w.spoiled {
                return Err(StoreError::backend(Misuse(
                    "an operation failed without its savepoint: the transaction is rolled back",
                )));
            }
            out = Some(value);
            Ok(())
        })?;
        out.ok_or_else(|| StoreError::backend(Misuse("the backend did not run the write")))
    }
}

/// A backend broke the port's contract (ran a closure twice, or not at all).
#[derive(Debug)]
pub(super) struct Misuse(&'static str);

impl std::fmt::Display for Misuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Misuse {}

/// The read operations, over one snapshot. See [`Crm::read`]; a [`Writer`] has the
/// same through [`Writer::reader`].
#[derive(Clone, Copy)]
pub struct Reader<'t> {
    tx: &'t dyn ReadTx,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl<'t> Reader<'t> {
    /// Read operations over `tx`.
    pub fn new(tx: &'t dyn ReadTx) -> Self {
        Reader { tx }
    }

    /// The transaction's raw primitives.
    pub fn tx(&self) -> &'t dyn ReadTx {
        self.tx
    }

    /// The currency the books are kept in.
    pub fn currency(&self) -> Currency {
        self.tx.base_currency()
    }
}

/// The write operations, in one transaction. See [`Crm::write`].
pub struct Writer<'t> {
    tx: &'t mut dyn WriteTx,
    lifecycle: Option<&'t LifecyclePolicy>,
    /// Whether each operation runs in its own savepoint (see
    /// [`all_or_nothing`](Writer::all_or_nothing)).
    savepoints: bool,
    /// An operation failed without a savepoint to take its writes back: the
    /// transaction must not commit.
    spoiled: bool,
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl<'t> Writer<'t> {
    /// Write operations over `tx`, moving no customer by itself (see
    /// [`with_lifecycle`](Self::with_lifecycle)).
    pub fn new(tx: &'t mut dyn WriteTx) -> Self {
        Writer {
            tx,
            lifecycle: None,
            savepoints: true,
            spoiled: false,
        }
    }

    /// Makes the whole transaction one unit: from now on an operation opens no
    /// savepoint of its own, so one that fails may leave part of its writes behind.
    /// For a load whose every error ends the transaction anyway (a bulk build): it
    /// saves a savepoint and its journal per operation. The checks and the records
    /// are the same; only a failure differs — after one, the transaction can only be
    /// rolled back, and [`Crm::write`] (or [`Crm::write_bulk`]) returns an error
    /// rather than commit it, even if `f` goes on and returns `Ok`.
    pub fn all_or_nothing(&mut self) {
        self.savepoints = false;
    }

    /// True if an operation failed after [`all_or_nothing`](Self::all_or_nothing):
    /// the transaction will not commit.
    pub fn is_spoiled(&self) -> bool {
        self.spoiled
    }

    /// The writer with `policy` for the stage moves that purchases and survey answers
    /// make by themselves (see the [module docs](self)).
    #[must_use]
    pub fn with_lifecycle(mut self, policy: Option<&'t LifecyclePolicy>) -> Self {
        self.lifecycle = policy;
        self
    }

    /// The read operations, seeing this transaction's writes.
    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&*self.tx)
    }

    /// The currency the books are kept in.
    pub fn currency(&self) -> Currency {
        self.tx.base_currency()
    }

    /// Appends an event to the outbox.
    fn emit(&mut self, at: Option<DateTime<Utc>>, event: DomainEvent) -> StoreResult<()> {
        let seq = self.tx.next_id(IdKind::Event)?;
        self.tx.append_event(&Event { seq, at, event })
    }
}
