//! Exact money: a [`Decimal`] amount with an ISO 4217 [`Currency`].
//!
//! Money is never a float. Arithmetic is checked and fails on a currency mismatch or an
//! overflow instead of giving a wrong number. Rounding happens only when asked for, and
//! the default rounding is banker's rounding (half to even), the rule of IEEE 754 and of
//! most accounting systems, because it does not drift upwards over many roundings.
//!
//! A store keeps its books in one base currency; money in another currency is rejected
//! with [`ValidationError::CurrencyMismatch`]. Converting between currencies is out of
//! scope for now.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::ValidationError;
use crate::money_value::CODES;
pub use crate::money_value::{Currency, MAX_STORED_MAJOR, Money, MoneyError};

/// Three-letter inputs that are not ISO 4217 codes but are often meant as one.
const ALIASES: [(&[u8; 3], &str); 5] = [
    (b"RMB", "RMB is the renminbi's name, not its code: use CNY"),
    (
        b"NTD",
        "NTD is a common abbreviation of the New Taiwan dollar: use TWD",
    ),
    (b"UKP", "UKP is not the pound sterling's code: use GBP"),
    (b"STG", "STG is not the pound sterling's code: use GBP"),
    (b"YEN", "use JPY for the Japanese yen"),
];

/// ISO 4217 codes that are refused, with the reason.
const REFUSED: [(&[u8; 3], &str); 14] = [
    (b"XXX", "XXX means 'no currency'"),
    (b"XTS", "XTS is reserved for testing"),
    (b"XAU", "XAU is gold, not a currency to keep books in"),
    (b"XAG", "XAG is silver, not a currency to keep books in"),
    (b"XPT", "XPT is platinum, not a currency to keep books in"),
    (b"XPD", "XPD is palladium, not a currency to keep books in"),
    (
        b"XDR",
        "XDR is the IMF's unit of account, which customers do not pay in",
    ),
    (
        b"XUA",
        "XUA is a development bank's unit of account, which customers do not pay in",
    ),
    (
        b"XSU",
        "XSU is a clearing unit, which customers do not pay in",
    ),
    (
        b"XAD",
        "XAD is a unit of account, which customers do not pay in",
    ),
    (
        b"XBA",
        "XBA is a bond-market unit, which customers do not pay in",
    ),
    (
        b"XBB",
        "XBB is a bond-market unit, which customers do not pay in",
    ),
    (
        b"XBC",
        "XBC is a bond-market unit, which customers do not pay in",
    ),
    (
        b"XBD",
        "XBD is a bond-market unit, which customers do not pay in",
    ),
];

impl Currency {
    /// Parses an ISO 4217 code (see [`Currency`] for which), case-insensitively,
    /// ignoring surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidCurrency`] unless the input is three ASCII letters;
    /// [`ValidationError::UnsupportedCurrency`] for three letters that are not an
    /// accepted code, with the reason or the code to use instead.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let code = Currency::letters(input)?;
        if CODES.binary_search(&code.0).is_ok() {
            return Ok(code);
        }
        let reason = ALIASES
            .iter()
            .chain(REFUSED.iter())
            .find(|(c, _)| **c == code.0)
            .map_or("it is not in ISO 4217's list of currencies", |(_, r)| *r);
        Err(ValidationError::UnsupportedCurrency {
            input: input.trim().to_owned(),
            reason,
        })
    }

    /// Reads a code that was stored by an earlier version, which accepted any three
    /// ASCII letters: the same as [`Currency::parse`] for accepted codes, but it also
    /// takes other three-letter codes so that existing books stay readable. For
    /// deserialising and for stores opening their files; never for new input.
    ///
    /// ```
    /// use solocrm_core::Currency;
    /// assert!(Currency::parse("BTC").is_err());
    /// assert_eq!(Currency::from_stored("BTC")?.as_str(), "BTC");
    /// assert!(Currency::from_stored("BITCOIN").is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidCurrency`] unless the input is three ASCII letters.
    pub fn from_stored(input: &str) -> Result<Self, ValidationError> {
        Currency::letters(input)
    }

    fn letters(input: &str) -> Result<Self, ValidationError> {
        let trimmed = input.trim();
        let bytes = trimmed.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_alphabetic) {
            Ok(Currency([
                bytes[0].to_ascii_uppercase(),
                bytes[1].to_ascii_uppercase(),
                bytes[2].to_ascii_uppercase(),
            ]))
        } else {
            Err(ValidationError::InvalidCurrency {
                input: input.to_owned(),
            })
        }
    }
}

impl FromStr for Currency {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

/// Deserialising reads stored data, so it is as lenient as [`Currency::from_stored`];
/// input is checked with [`Currency::parse`].
impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::from_stored(&s)
    }
}

impl Money {
    /// Parses a plain decimal such as `"1234.50"` or `"-3"`: an optional minus sign,
    /// digits, and an optional `.` with more digits. No exponent, no `+`, no thousands
    /// separators, no currency symbol: a file that holds `1,234.50` is rejected rather
    /// than guessed at.
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidAmount`] for anything else.
    pub fn parse(input: &str, currency: Currency) -> Result<Self, ValidationError> {
        parse_plain_decimal(input).map(|amount| Money::new(amount, currency))
    }

    /// Checks money that is to be stored: it must be in `base` currency, a whole
    /// number of minor units, and less than [`MAX_STORED_MAJOR`] (10^12) major units in
    /// absolute value. Returns it rescaled to exactly the currency's minor-unit digits
    /// (`12.5` becomes `12.50` EUR), so every store holds the same representation.
    ///
    /// ```
    /// use solocrm_core::{Currency, Money, ValidationError};
    /// let largest = Money::parse("999999999999.99", Currency::EUR)?;
    /// assert!(largest.for_storage("purchase amount", Currency::EUR).is_ok());
    /// let too_large = Money::parse("1000000000000", Currency::EUR)?;
    /// let err = too_large.for_storage("purchase amount", Currency::EUR).unwrap_err();
    /// assert!(matches!(err, ValidationError::AmountOutOfRange { .. }));
    /// assert!(err.to_string().contains("at most 12 digits before the decimal point"));
    /// # Ok::<(), ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::CurrencyMismatch`], [`ValidationError::TooManyDecimals`] or
    /// [`ValidationError::AmountOutOfRange`], naming `field`.
    pub fn for_storage(
        self,
        field: &'static str,
        base: Currency,
    ) -> Result<Money, ValidationError> {
        if self.currency() != base {
            return Err(ValidationError::CurrencyMismatch {
                field,
                expected: base,
                found: self.currency(),
            });
        }
        let digits = self.currency().minor_unit_digits();
        // Normalizing (dropping trailing zeros) is only needed for a longer scale.
        if self.amount().scale() > digits && self.amount().normalize().scale() > digits {
            return Err(ValidationError::TooManyDecimals {
                field,
                amount: self.amount(),
                currency: self.currency(),
                max_scale: digits,
            });
        }
        let out_of_range = || ValidationError::AmountOutOfRange {
            field,
            amount: self.amount(),
            currency: self.currency(),
        };
        let minor = self.to_minor_units().map_err(|_| out_of_range())?;
        if minor.unsigned_abs() >= self.currency().max_stored_minor().unsigned_abs() {
            return Err(out_of_range());
        }
        Ok(Money::from_minor(minor, self.currency()))
    }
}

/// Parses a plain decimal (see [`Money::parse`]).
///
/// # Errors
///
/// [`ValidationError::InvalidAmount`] for anything but `-?digits(.digits)?`.
pub fn parse_plain_decimal(input: &str) -> Result<Decimal, ValidationError> {
    let invalid = || ValidationError::InvalidAmount {
        input: input.to_owned(),
    };
    let s = input.trim();
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits_ok = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int) || frac.is_some_and(|f| !digits_ok(f)) {
        return Err(invalid());
    }
    Decimal::from_str_exact(s).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR)
    }

    #[test]
    fn plain_decimals_parse_and_everything_else_is_rejected() {
        for ok in ["0", "12", "12.5", "12.50", "-3.25", "  7.00 "] {
            assert!(parse_plain_decimal(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-", ".5", "5.", "1,000.00", "1e3", "+1", "1_000", "€5", "NaN", "1.2.3",
        ] {
            assert!(
                matches!(
                    parse_plain_decimal(bad),
                    Err(ValidationError::InvalidAmount { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn bankers_rounding_rounds_half_to_even() {
        let r = |s: &str| {
            Money::parse(s, Currency::EUR)
                .map(|m| m.round_to_minor_units().to_string())
                .unwrap_or_default()
        };
        assert_eq!(r("0.125"), "0.12 EUR");
        assert_eq!(r("0.135"), "0.14 EUR");
        assert_eq!(r("-0.125"), "-0.12 EUR");
        assert_eq!(r("2.5"), "2.50 EUR");
    }

    #[test]
    fn storage_form_rejects_sub_cent_amounts_and_foreign_currency() {
        let m = Money::parse("1.005", Currency::EUR).expect("parses");
        assert!(matches!(
            m.for_storage("amount", Currency::EUR),
            Err(ValidationError::TooManyDecimals { max_scale: 2, .. })
        ));
        let usd = Money::from_minor(5, Currency::USD);
        assert!(matches!(
            usd.for_storage("amount", Currency::EUR),
            Err(ValidationError::CurrencyMismatch { .. })
        ));
        let trailing = Money::parse("1.500", Currency::EUR).expect("parses");
        let stored = trailing
            .for_storage("amount", Currency::EUR)
            .expect("valid");
        assert_eq!(stored.amount().scale(), 2);
        assert_eq!(stored.to_minor_units(), Ok(150));
    }

    /// Two accepted purchases of 92 233 720 368 547 758.07 EUR broke `report` and `rfm`
    /// for good: amounts are now bounded at 12 integer digits when stored.
    #[test]
    fn amounts_beyond_twelve_integer_digits_are_refused_with_the_bound() {
        let check = |s: &str, c: Currency| {
            Money::parse(s, c).and_then(|m| m.for_storage("purchase amount", c))
        };
        for bad in ["92233720368547758.07", "1000000000000", "-1000000000000.00"] {
            let err = check(bad, Currency::EUR).expect_err(bad);
            assert!(
                matches!(err, ValidationError::AmountOutOfRange { .. }),
                "{bad}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("at most 12 digits before the decimal point"),
                "{msg}"
            );
        }
        assert!(check("999999999999.99", Currency::EUR).is_ok());
        assert!(check("-999999999999.99", Currency::EUR).is_ok());
        assert!(check("999999999999", Currency::JPY).is_ok());
        assert!(check("1000000000000", Currency::JPY).is_err());
        let clf = Currency::parse("CLF").expect("a code");
        assert!(check("999999999999.9999", clf).is_ok());
    }

    #[test]
    fn only_iso_4217_currencies_are_accepted() {
        // Sorted and unique, so binary search is right; upper-case letters only.
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(CODES.iter().flatten().all(u8::is_ascii_uppercase));
        for ok in [
            "EUR", "usd", " cny ", "HKD", "TWD", "SGD", "MOP", "CLF", "CHW", "XCG",
        ] {
            assert!(Currency::parse(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("XYZ", "not in ISO 4217"),
            ("BTC", "not in ISO 4217"),
            ("XXX", "no currency"),
            ("XTS", "testing"),
            ("XAU", "gold"),
            ("XDR", "unit of account"),
            ("RMB", "use CNY"),
            ("ntd", "use TWD"),
        ] {
            let err = Currency::parse(bad).expect_err(bad);
            assert!(
                matches!(err, ValidationError::UnsupportedCurrency { .. }),
                "{bad}"
            );
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
        assert!(matches!(
            Currency::parse("EU1"),
            Err(ValidationError::InvalidCurrency { .. })
        ));
        // Every constant is an accepted code.
        for c in [
            Currency::EUR,
            Currency::USD,
            Currency::GBP,
            Currency::CHF,
            Currency::JPY,
            Currency::CNY,
            Currency::HKD,
            Currency::TWD,
            Currency::MOP,
            Currency::SGD,
            Currency::MYR,
            Currency::KRW,
            Currency::AUD,
            Currency::CAD,
        ] {
            assert!(c.is_iso(), "{c}");
            assert_eq!(Currency::parse(c.as_str()), Ok(c));
        }
    }

    #[test]
    fn the_minor_unit_table_names_only_accepted_codes() {
        let not_two: Vec<Currency> = CODES
            .iter()
            .map(|c| Currency(*c))
            .filter(|c| c.minor_unit_digits() != 2)
            .collect();
        let listed = [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF", "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
            "CLF", "UYW",
        ];
        assert_eq!(not_two.len(), listed.len());
        for code in listed {
            assert!(Currency::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn stored_codes_of_earlier_versions_stay_readable() {
        // An earlier version accepted any three letters; their books must still open.
        let stored: Money =
            serde_json::from_str(r#"{"amount":"1.00","currency":"BTC"}"#).expect("reads");
        assert_eq!(stored.currency().as_str(), "BTC");
        assert!(!stored.currency().is_iso());
        assert_eq!(stored.currency().minor_unit_digits(), 2);
    }

    #[test]
    fn yen_has_no_minor_unit() {
        let yen = Money::from_minor(1500, Currency::JPY);
        assert_eq!(yen.to_string(), "1500 JPY");
        assert!(
            Money::parse("10.5", Currency::JPY)
                .expect("parses")
                .for_storage("amount", Currency::JPY)
                .is_err()
        );
    }

    #[test]
    fn money_serializes_amount_as_a_string() {
        let json = serde_json::to_string(&eur(1250)).expect("serializes");
        assert_eq!(json, r#"{"amount":"12.50","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, eur(1250));
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"EURO"}"#).is_err());
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(Currency::EUR),
            Just(Currency::USD),
            Just(Currency::JPY)
        ]
    }

    /// Minor units the slow, general way: scale by 10^digits, which must leave no
    /// fraction.
    fn minor_by_scaling(m: &Money) -> Option<i64> {
        let scaled = m
            .amount()
            .checked_mul(Decimal::from(10_i64.pow(m.currency().minor_unit_digits())))?;
        if scaled.fract() != Decimal::ZERO {
            return None;
        }
        i64::try_from(scaled.trunc()).ok()
    }

    proptest! {
        /// The shortcut for amounts with at most the currency's decimal places agrees
        /// with scaling, for every mantissa, scale and currency.
        #[test]
        fn minor_units_agree_with_scaling(
            mantissa in any::<i64>(),
            wide in any::<bool>(),
            scale in 0u32..8,
            code in proptest::sample::select(vec!["EUR", "JPY", "KWD", "CLF"]),
        ) {
            let currency = Currency::parse(code).expect("a code");
            let mantissa = if wide { i128::from(mantissa) << 30 } else { i128::from(mantissa) };
            let amount = Decimal::from_i128_with_scale(mantissa, scale);
            let m = Money::new(amount, currency);
            prop_assert_eq!(m.to_minor_units().ok(), minor_by_scaling(&m));
        }

        #[test]
        fn addition_is_commutative_and_associative(a in any::<i32>(), b in any::<i32>(), c in any::<i32>()) {
            let (a, b, c) = (eur(a.into()), eur(b.into()), eur(c.into()));
            prop_assert_eq!(a.checked_add(b), b.checked_add(a));
            let left = a.checked_add(b).and_then(|ab| ab.checked_add(c));
            let right = b.checked_add(c).and_then(|bc| a.checked_add(bc));
            prop_assert_eq!(left, right);
        }

        #[test]
        fn zero_is_the_identity_and_subtraction_undoes_addition(a in any::<i64>(), b in any::<i32>()) {
            let (a, b) = (eur(a), eur(b.into()));
            prop_assert_eq!(a.checked_add(Money::zero(Currency::EUR)), Ok(a));
            prop_assert_eq!(a.checked_add(b).and_then(|s| s.checked_sub(b)), Ok(a));
        }

        #[test]
        fn different_currencies_never_combine(x in any::<i64>(), y in any::<i64>(), c1 in any_currency(), c2 in any_currency()) {
            prop_assume!(c1 != c2);
            let (a, b) = (Money::from_minor(x, c1), Money::from_minor(y, c2));
            let is_mismatch = |r: Result<Money, MoneyError>| matches!(r, Err(MoneyError::CurrencyMismatch { .. }));
            prop_assert!(is_mismatch(a.checked_add(b)));
            prop_assert!(is_mismatch(a.checked_sub(b)));
        }

        #[test]
        fn minor_units_round_trip(minor in any::<i64>(), c in any_currency()) {
            let m = Money::from_minor(minor, c);
            prop_assert_eq!(m.to_minor_units(), Ok(minor));
            let stored = m.for_storage("amount", c).map(|s| s.to_minor_units());
            if minor.unsigned_abs() < c.max_stored_minor().unsigned_abs() {
                prop_assert_eq!(stored, Ok(Ok(minor)));
            } else {
                let refused = matches!(stored, Err(ValidationError::AmountOutOfRange { .. }));
                prop_assert!(refused);
            }
        }

        /// Whatever `for_storage` accepts, a billion of it sums exactly in an `i128` of
        /// minor units and in a `Decimal`.
        #[test]
        fn a_billion_stored_amounts_sum_exactly(minor in any::<i64>(), c in any_currency()) {
            if let Ok(m) = Money::from_minor(minor, c).for_storage("amount", c) {
                let one = i128::from(m.to_minor_units().unwrap_or(i64::MAX));
                let billion = one.checked_mul(1_000_000_000);
                prop_assert!(billion.is_some());
                let exact = billion.and_then(|b| Decimal::try_from_i128_with_scale(b, c.minor_unit_digits()).ok());
                prop_assert!(exact.is_some());
            }
        }

        #[test]
        fn rounding_moves_at_most_half_a_minor_unit(minor in any::<i32>(), extra in 0u32..1000) {
            // An amount with three extra digits, rounded back to cents.
            let fine = Money::new(Decimal::new(i64::from(minor) * 1000 + i64::from(extra), 5), Currency::EUR);
            let rounded = fine.round_to_minor_units();
            let diff = rounded.checked_sub(fine).map(|d| d.amount().abs());
            prop_assert!(diff.is_ok_and(|d| d <= Decimal::new(5, 3)));
        }

        #[test]
        fn parse_accepts_what_display_prints(minor in any::<i64>()) {
            let m = eur(minor);
            let shown = m.amount().to_string();
            prop_assert_eq!(Money::parse(&shown, Currency::EUR), Ok(m));
        }
    }
}
