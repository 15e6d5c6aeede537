//! Closed sets of names (channels, stages, kinds) with one spelling everywhere.
//!
//! Every such enum has a canonical `snake_case` name used by serde, `Display` and the
//! CLI. Parsing is forgiving about case and accepts `-` or a space for `_`, so
//! `at-risk`, `At Risk` and `at_risk` all name [`LifecycleStage::AtRisk`](crate::LifecycleStage::AtRisk).

pub use crate::validation::NameList;

/// Canonical form of a user-typed name: trimmed, lower-case, `-` and spaces as `_`.
pub(crate) fn canonical(input: &str) -> String {
    input
        .trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// `n` and the noun that agrees with it, for text a person reads: `1 day`, `2 days`.
pub(crate) fn count<N>(n: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

/// Declares a fieldless enum with canonical names, `ALL`, `as_str`, `Display`, `FromStr`
/// and serde support.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident as $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $name:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $ty {
            $( $(#[$vmeta])* #[serde(rename = $name)] $variant ),+
        }

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            /// The canonical names, in declaration order.
            pub const NAMES: $crate::names::NameList = $crate::names::NameList(&[$($name),+]);

            /// The canonical `snake_case` name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $ty::$variant => $name ),+
                }
            }

            /// Parses a name: case-insensitive, with `-` or a space accepted for `_`.
            ///
            /// # Errors
            ///
            /// [`ValidationError::UnknownName`](crate::ValidationError::UnknownName) listing
            /// the accepted names.
            pub fn parse(input: &str) -> Result<Self, $crate::ValidationError> {
                let wanted = $crate::names::canonical(input);
                match wanted.as_str() {
                    $( $name => Ok($ty::$variant), )+
                    _ => Err($crate::ValidationError::UnknownName {
                        field: $field,
                        input: input.to_owned(),
                        expected: Self::NAMES,
                    }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }
    };
}
pub(crate) use named_enum;
