//! The product catalogue and purchase lines: the checks, then the writes.

use super::{Reader, Writer};
use crate::error::Conflict;
use crate::ids::{CustomerId, PurchaseId};
use crate::product::{Product, ProductEdit, PurchaseLine, Sku, check_lines};
use crate::purchase::{NewPurchase, Purchase};
use crate::store::{Entity, StoreError, StoreResult};

pub use crate::product::ProductRemoval;

impl Reader<'_> {
    /// The catalogue, archived products included, by SKU.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn products(&self) -> StoreResult<Vec<Product>> {
        self.tx.products()
    }

    /// The product with this SKU.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none.
    pub fn product(&self, sku: &Sku) -> StoreResult<Product> {
        self.tx
            .product(sku)?
            .ok_or_else(|| StoreError::not_found(Entity::Product, sku))
    }

    /// The lines of a purchase, in their order (none if it was recorded without).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchase_lines(&self, purchase: PurchaseId) -> StoreResult<Vec<PurchaseLine>> {
        self.tx.purchase_lines(purchase)
    }

    /// The purchase lines of the book as a [`LineLog`](crate::metrics::products::LineLog)
    /// for the product analytics: lines of void purchases left out.
    ///
    /// # Errors
    ///
    /// The backend's; [`StoreError::Backend`] if a stored line's total does not fit.
    pub fn line_log(&self) -> StoreResult<crate::metrics::products::LineLog> {
        let products = self.tx.products()?;
        let lines = self.tx.all_purchase_lines()?;
        // Only the buyer of each purchase that has lines, streamed (none read when no
        // purchase has lines): the web's customer page builds its recommendations from
        // this log, and whole purchases (a million of them, two hundred bytes each)
        // were the peak of the server's memory (issue 15).
        let mut with_lines: Vec<PurchaseId> = lines.iter().map(|(p, _)| *p).collect();
        with_lines.sort_unstable();
        with_lines.dedup();
        let mut buyers: Vec<(PurchaseId, CustomerId)> = Vec::new();
        if !with_lines.is_empty() {
            self.tx
                .for_each_purchase(&crate::store::ActivityQuery::ALL, &mut |p| {
                    if !p.is_void() && with_lines.binary_search(&p.id()).is_ok() {
                        buyers.push((p.id(), p.customer()));
                    }
                    Ok(())
                })?;
        }
        drop(with_lines);
        buyers.sort_unstable();
        crate::metrics::products::LineLog::from_buyers(
            self.tx.base_currency(),
            &products,
            &buyers,
            &lines,
        )
        .map_err(StoreError::backend)
    }

    /// Every purchase line, by purchase id and then in order, voided purchases' lines
    /// included.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn all_purchase_lines(&self) -> StoreResult<Vec<(PurchaseId, PurchaseLine)>> {
        self.tx.all_purchase_lines()
    }
}

impl Writer<'_> {
    /// Adds a product to the catalogue.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a negative price or cost, or money in a foreign
    /// currency; [`Conflict::DuplicateSku`].
    pub fn add_product(&mut self, product: Product) -> StoreResult<Product> {
        let product = product.for_storage(self.currency())?;
        self.atomic(|w| {
            if w.tx.product(&product.sku)?.is_some() {
                return Err(Conflict::DuplicateSku {
                    sku: product.sku.to_string(),
                }
                .into());
            }
            w.tx.put_product(&product)?;
            Ok(product)
        })
    }

    /// Changes a product's name, category, price, cost or archived flag.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Validation`] as for
    /// [`add_product`](Self::add_product).
    pub fn edit_product(&mut self, sku: &Sku, edit: &ProductEdit) -> StoreResult<Product> {
        let currency = self.currency();
        self.atomic(|w| {
            let p = w.reader().product(sku)?;
            let p = edit.apply(p).for_storage(currency)?;
            w.tx.put_product(&p)?;
            Ok(p)
        })
    }

    /// Removes a product: deleted if no purchase line names it, archived otherwise
    /// (the lines keep their product, and no new line may name it).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn remove_product(&mut self, sku: &Sku) -> StoreResult<ProductRemoval> {
        self.atomic(|w| {
            let mut p = w.reader().product(sku)?;
            if w.tx.product_has_lines(sku)? {
                p.archived = true;
                w.tx.put_product(&p)?;
                return Ok(ProductRemoval::Archived(p));
            }
            w.tx.delete_product(sku)?;
            Ok(ProductRemoval::Deleted)
        })
    }

    /// Checks purchase lines against the catalogue and the purchase amount: each line
    /// valid ([`PurchaseLine::for_storage`]), naming a product that exists and is not
    /// archived, and the amount exactly their sum ([`check_lines`]). Returns them in
    /// stored form.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`]; [`StoreError::NotFound`] for an unknown SKU;
    /// [`Conflict::ProductArchived`].
    pub fn check_purchase_lines(
        &self,
        amount: crate::money::Money,
        lines: Vec<PurchaseLine>,
    ) -> StoreResult<Vec<PurchaseLine>> {
        let currency = self.currency();
        let mut out = Vec::with_capacity(lines.len());
        for line in lines {
            let line = line.for_storage(currency)?;
            let p = self.reader().product(&line.sku)?;
            if p.archived {
                return Err(Conflict::ProductArchived {
                    sku: line.sku.to_string(),
                }
                .into());
            }
            out.push(line);
        }
        check_lines(amount, &out)?;
        Ok(out)
    }

    /// Records a purchase with its lines: the amount must be exactly the sum of the
    /// lines. No lines: the same as [`record_purchase`](Self::record_purchase).
    ///
    /// # Errors
    ///
    /// The errors of [`check_purchase_lines`](Self::check_purchase_lines) and of
    /// [`record_purchase`](Self::record_purchase).
    pub fn record_purchase_with_lines(
        &mut self,
        new: NewPurchase,
        lines: Vec<PurchaseLine>,
    ) -> StoreResult<(Purchase, Vec<PurchaseLine>)> {
        self.atomic(|w| {
            let lines = w.check_purchase_lines(new.amount, lines)?;
            let p = w.record_purchase(new)?;
            if !lines.is_empty() {
                w.tx.insert_purchase_lines(p.id(), &lines)?;
            }
            Ok((p, lines))
        })
    }

    /// Gives lines to a stored purchase that has none (an import's second pass, or a
    /// restore): the purchase amount must be exactly their sum.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for the purchase; [`StoreError::Validation`] if it has
    /// lines already or they do not add up; the errors of
    /// [`check_purchase_lines`](Self::check_purchase_lines).
    pub fn attach_purchase_lines(
        &mut self,
        purchase: PurchaseId,
        lines: Vec<PurchaseLine>,
    ) -> StoreResult<Vec<PurchaseLine>> {
        self.atomic(|w| {
            let p = w.reader().purchase(purchase)?;
            if !w.tx.purchase_lines(purchase)?.is_empty() {
                return Err(StoreError::Validation(
                    crate::ValidationError::Inconsistent {
                        record: format!("purchase {purchase}"),
                        detail: "it has lines already".to_owned(),
                    },
                ));
            }
            let lines = w.check_purchase_lines(p.amount(), lines)?;
            w.tx.insert_purchase_lines(purchase, &lines)?;
            Ok(lines)
        })
    }
}
