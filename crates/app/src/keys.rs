//! Customer keys: how a person, a command line or a file names a customer.

use std::borrow::Cow;

use solocrm_core::{Customer, CustomerId, CustomerKeys, Email, ExternalRef};

/// What a customer key names, in the one order every command and every import uses
/// (`docs/cli.md`, "Customer keys"): `#N` is the customer with id N; `#N@BOOK` the
/// customer with id N of the database whose book id is BOOK; a key with `@` that is an
/// email address is an email; anything else is an external reference. Bare digits
/// are a reference, never an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerKey {
    /// `#N`.
    Id(CustomerId),
    /// `#N@BOOK`.
    BookId(CustomerId, String),
    /// An email address.
    Email(Email),
    /// An external reference.
    Reference(ExternalRef),
}

impl CustomerKey {
    /// Reads a key (trimmed); `None` if it is none of the four shapes (an empty or
    /// too long reference).
    pub fn parse(input: &str) -> Option<CustomerKey> {
        let s = input.trim();
        if let Some(rest) = s.strip_prefix('#') {
            let (digits, book) = match rest.split_once('@') {
                Some((d, b)) => (d, Some(b)),
                None => (rest, None),
            };
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && let Ok(n) = digits.parse::<u64>()
            {
                let id = CustomerId::new(n);
                match book {
                    None => return Some(CustomerKey::Id(id)),
                    Some(b) if !b.is_empty() => {
                        return Some(CustomerKey::BookId(id, b.to_owned()));
                    }
                    Some(_) => {}
                }
            }
        }
        if s.contains('@')
            && let Ok(email) = Email::parse(s)
        {
            return Some(CustomerKey::Email(email));
        }
        ExternalRef::parse(s).ok().map(CustomerKey::Reference)
    }

    /// Why no customer has this key (a key of another database is refused before
    /// it is looked up: [`CustomerKey::foreign`]).
    pub fn not_found(&self) -> String {
        match self {
            CustomerKey::Id(id) | CustomerKey::BookId(id, _) => {
                format!("no customer with id {id}")
            }
            CustomerKey::Email(e) => format!("no customer with email '{e}'"),
            CustomerKey::Reference(r) => {
                let r = r.as_str();
                if r.bytes().all(|b| b.is_ascii_digit()) {
                    format!(
                        "no customer with reference '{r}'; for the customer with id {r} write #{r}"
                    )
                } else {
                    format!("no customer with reference '{r}'")
                }
            }
        }
    }

    /// The refusal of text that is no key at all (empty, or not a valid reference).
    pub fn invalid(input: &str) -> String {
        format!(
            "'{}' is not a customer key; give #ID, an email address or a reference",
            input.trim()
        )
    }

    /// The refusal of `#N@BOOK` when BOOK is not this database's book id.
    pub fn foreign(id: CustomerId, book: &str) -> String {
        format!(
            "customer #{id} of another database (book {book}): export its customers with an \
             email or reference, or give it one"
        )
    }

    /// The key that names `c`: the reference, else the email, else `#N@BOOK` with
    /// `book` the database's book id (an export's key, valid in that database only),
    /// or `#N` without one (a key to show). A reference that would read as another
    /// shape of key (`#12`, `x@example.com`) is passed over.
    pub fn of(c: &Customer, book: Option<&str>) -> String {
        Self::of_parts(c.id(), c.external_ref(), c.email(), book)
    }

    /// [`CustomerKey::of`] from the key columns alone ([`CustomerKeys`], which a store
    /// reads without decoding whole customers): the same text for the same customer.
    pub fn of_keys(k: &CustomerKeys, book: Option<&str>) -> String {
        Self::of_parts(k.id, k.external_ref.as_ref(), k.email.as_ref(), book)
    }

    /// True if `r`, read back as a key, is the reference `r` (not an id, an email or
    /// another reference). A stored ASCII reference without a leading `#` or an `@`
    /// is, unless blanks surround it (ASCII is its own NFC, so the reference check
    /// keeps it as it is): answered without parsing it again, as most references of
    /// a book are (issue 14); any other is parsed.
    fn names_itself(r: &ExternalRef) -> bool {
        let s = r.as_str();
        if s.is_ascii() && !s.starts_with('#') && !s.contains('@') {
            return s.trim() == s;
        }
        CustomerKey::parse(s).as_ref() == Some(&CustomerKey::Reference(r.clone()))
    }

    fn of_parts(
        id: CustomerId,
        reference: Option<&ExternalRef>,
        email: Option<&Email>,
        book: Option<&str>,
    ) -> String {
        Self::shown_parts(id, reference, email, book).into_owned()
    }

    /// [`CustomerKey::of_keys`] borrowed from the keys when it is their reference or
    /// email (nearly always): a table of every customer's key needs no `String` per
    /// customer (issue 14).
    pub fn shown<'k>(k: &'k CustomerKeys, book: Option<&str>) -> Cow<'k, str> {
        Self::shown_parts(k.id, k.external_ref.as_ref(), k.email.as_ref(), book)
    }

    fn shown_parts<'k>(
        id: CustomerId,
        reference: Option<&'k ExternalRef>,
        email: Option<&'k Email>,
        book: Option<&str>,
    ) -> Cow<'k, str> {
        if let Some(r) = reference
            && Self::names_itself(r)
        {
            return Cow::Borrowed(r.as_str());
        }
        match (email, book) {
            (Some(e), _) => Cow::Borrowed(e.as_str()),
            (None, Some(book)) => Cow::Owned(format!("#{id}@{book}")),
            (None, None) => Cow::Owned(format!("#{id}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_itself_exactly_when_it_reads_back_as_itself() {
        for text in [
            "C-0000123",
            "INV 7",
            "#12",
            "#12@shop",
            "#x",
            "a@b.co",
            "a@b",
            "42",
            "1e5",
            "张伟-1",
            "#",
            "x#",
            "tab\tin",
            "Ω",
            "caf\u{e9}",
            "cafe\u{301}",
        ] {
            let Ok(r) = ExternalRef::parse(text) else {
                continue;
            };
            let full =
                CustomerKey::parse(r.as_str()).as_ref() == Some(&CustomerKey::Reference(r.clone()));
            assert_eq!(CustomerKey::names_itself(&r), full, "{text:?}");
        }
        // A reference is stored trimmed, so the blanks case is never met by a stored one;
        // the answer is still the full parse's.
        assert!(CustomerKey::names_itself(
            &ExternalRef::parse("C-1").expect("a reference")
        ));
    }

    proptest::proptest! {
        /// The shortcut of `names_itself` answers as the full parse, on references
        /// near its edges: `#`, `@`, digits, blanks, non-ASCII letters, NFD marks.
        #[test]
        fn names_itself_is_the_full_parse(text in "[ #@a-zA-Z0-9.\\-_é\u{301}张]{1,12}") {
            if let Ok(r) = ExternalRef::parse(&text) {
                let full = CustomerKey::parse(r.as_str()).as_ref()
                    == Some(&CustomerKey::Reference(r.clone()));
                proptest::prop_assert_eq!(CustomerKey::names_itself(&r), full, "{:?}", text);
            }
        }

        /// The key shown borrowed is the key made, whichever of the reference, the
        /// email and the book there is, and it borrows exactly when there is a
        /// reference that names itself or an email.
        #[test]
        fn the_shown_key_is_the_key_made(
            reference in proptest::option::of("[ #@a-z0-9张]{1,8}"),
            email in proptest::option::of("[a-z.]{1,6}@[a-z]{1,5}\\.(cn|com)"),
            book in proptest::option::of("[a-z0-9]{1,6}"),
            id in 1u64..1_000_000,
        ) {
            let keys = CustomerKeys {
                id: CustomerId::new(id),
                external_ref: reference.and_then(|r| ExternalRef::parse(&r).ok()),
                email: email.and_then(|e| Email::parse(&e).ok()),
                erased: false,
            };
            let shown = CustomerKey::shown(&keys, book.as_deref());
            let borrows = keys.email.is_some()
                || keys.external_ref.as_ref().is_some_and(CustomerKey::names_itself);
            proptest::prop_assert_eq!(matches!(shown, Cow::Borrowed(_)), borrows);
            // The order of `docs/cli.md`, spelt out: a reference that reads back as
            // itself, else the email, else the id (with the book when given).
            let expected = match (&keys.external_ref, &keys.email, &book) {
                (Some(r), _, _) if CustomerKey::parse(r.as_str())
                    == Some(CustomerKey::Reference(r.clone())) => r.as_str().to_owned(),
                (_, Some(e), _) => e.as_str().to_owned(),
                (_, None, Some(b)) => format!("#{id}@{b}"),
                (_, None, None) => format!("#{id}"),
            };
            proptest::prop_assert_eq!(shown.into_owned(), expected);
        }
    }

    #[test]
    fn customer_keys_are_read_in_one_order() {
        let id = |n| CustomerKey::Id(CustomerId::new(n));
        let reference = |r| CustomerKey::Reference(ExternalRef::parse(r).expect("a reference"));
        assert_eq!(CustomerKey::parse(" #12 "), Some(id(12)));
        assert_eq!(CustomerKey::parse("12"), Some(reference("12")));
        assert_eq!(
            CustomerKey::parse("#12@b00k"),
            Some(CustomerKey::BookId(CustomerId::new(12), "b00k".into()))
        );
        assert_eq!(
            CustomerKey::parse("Ada@Example.com"),
            Some(CustomerKey::Email(
                Email::parse("Ada@Example.com").expect("an email")
            ))
        );
        assert_eq!(CustomerKey::parse("@ref"), Some(reference("@ref")));
        assert_eq!(CustomerKey::parse("#x1"), Some(reference("#x1")));
        assert_eq!(CustomerKey::parse(""), None);
        assert!(
            reference("2")
                .not_found()
                .contains("for the customer with id 2 write #2")
        );
        assert!(!reference("C-2").not_found().contains("write #"));
    }
}
