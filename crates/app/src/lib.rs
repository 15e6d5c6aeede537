//! # solocrm-app
//!
//! What the command line, the web workspace and the automation runner share, above
//! the operations layer ([`Crm`]) and below their parsing and rendering.
//!
//! Today: **opening the books by location** — [`Location`] reads where the books are
//! (`memory:`, `sqlite:PATH` or a plain path, or `postgres://…?tenant=N` for books in a
//! PostgreSQL database), and [`Books`] is an open book: a [`Crm`] (through `Deref`)
//! plus what only its backend has (the book id; the SQLite file's checks and
//! checkpoints). [`views`] holds the typed view models a frontend shows, each read
//! in one snapshot: the [`Dashboard`](views::Dashboard), the
//! [`CustomerPage`](views::CustomerPage), the [`CareList`](views::CareList) and the
//! [`PipelineBoard`](views::PipelineBoard). [`exchange`] holds the import and export
//! pipelines ([`Importer`](exchange::Importer), [`Exporter`](exchange::Exporter)) and
//! the CSV contract they implement; [`CustomerKey`] is how a person or a file names a
//! customer; [`settings`] shows a book's settings (currency, business time zone) and
//! changes its zone; [`values`] reads dates and amounts as every frontend reads them; and
//! [`escape`] makes text from the books safe to show on a terminal; [`overview`] holds
//! what the web workspace shows beyond the command line's views (the dashboard's chart
//! series, the rows of a customer list); [`groups`] narrows every analytic view to one saved
//! segment or lifecycle stage ([`CustomerGroup`](groups::CustomerGroup)); and [`trends`]
//! gives report metrics as a series over calendar months or quarters; [`holidays`] reads
//! the holiday calendar as a person types it and lays out a year of it; [`rfm`] reads
//! the RFM table from what the store keeps per customer.
//!
//! ```
//! use solocrm_app::{Books, Location, OpenOptions};
//! use solocrm_core::{Currency, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("shop.db");
//! let location = Location::parse(&format!("sqlite:{}", path.display()))?;
//! let books = Books::create(&location, Currency::CNY, &OpenOptions::default())?;
//! assert_eq!(books.count_customers()?, 0);
//! assert!(books.sqlite().is_some());
//! drop(books);
//! let again = Books::open(&Location::Path(path), &OpenOptions::default())?;
//! assert_eq!(again.currency(), Currency::CNY);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod automation;
mod books;
pub mod catalogue;
pub mod escape;
pub mod exchange;
pub mod groups;
pub mod history;
pub mod holidays;
mod keys;
pub mod lines;
mod location;
pub mod offers;
pub mod overview;
pub mod questionnaire;
pub mod rfm;
pub mod settings;
pub mod sorted_json;
pub mod targets;
pub mod trends;
pub mod values;
pub mod views;

pub use books::{Books, OpenError, OpenOptions};
pub use keys::CustomerKey;
pub use location::{Location, LocationError};
pub use solocrm_core::Crm;
