//! JSON with the keys of every object in sorted order, written as a stream.
//!
//! The CLI's `--json` documents have always had their keys sorted at every level,
//! because they went through a [`serde_json::Value`], whose objects are sorted maps.
//! Building that tree first costs several times the size of the text: the dashboard of
//! a 100 k-customer book (its early-warning list has 20 k entries, 12 MB of pretty
//! JSON) held about 60 MB of tree just to sort a few dozen distinct keys (issue 14).
//!
//! [`SortedKeys`] writes the same text with no tree. It wraps any [`Serialize`] value;
//! serialised, it forwards every scalar and sequence element straight to the
//! serializer, and writes an object's members in key order by serialising the object
//! once to learn its keys and once more per member, each time passing on only the
//! member it wants (the values of the others are not visited). An object of `k` keys
//! costs `k + 1` cheap passes over its members, a few dozen at most in these
//! documents; a map of more than [`MAX_MAP_PASSES`] entries (whose passes would grow
//! as its square) is sorted through a `Value` as before.
//!
//! What it guarantees, and tests against `serde_json::to_value` on every shape serde
//! knows: the same document, byte for byte, as `serde_json::to_value(v)` serialised by
//! the same serializer. Keys compare as `String`s (bytes), a key given twice keeps its
//! last value (as `Map::insert` does) in the first key's place in the order, and map
//! keys that are numbers or booleans sort by their text, as `Value` keys are.

use serde::ser::{
    self, Error as _, Serialize, SerializeMap, SerializeSeq, SerializeStruct,
    SerializeStructVariant, SerializeTuple, SerializeTupleStruct, SerializeTupleVariant,
    Serializer,
};

/// The most entries of a map written member by member; a larger map is sorted through
/// a [`serde_json::Value`] (its passes would cost the square of its length).
pub const MAX_MAP_PASSES: usize = 256;

/// A value that serialises with the keys of every object, at every level, in sorted
/// order, without building a [`serde_json::Value`] (see the [module](self) docs).
///
/// ```
/// use serde::Serialize;
/// use solocrm_app::sorted_json::SortedKeys;
///
/// #[derive(Serialize)]
/// struct Point { y: i32, x: i32, label: Option<&'static str> }
///
/// let p = Point { y: 2, x: 1, label: Some("上海") };
/// let text = serde_json::to_string(&SortedKeys(&p)).unwrap();
/// assert_eq!(text, r#"{"label":"上海","x":1,"y":2}"#);
/// assert_eq!(text, serde_json::to_value(&p).unwrap().to_string());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SortedKeys<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for SortedKeys<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Forward {
            whole: self.0,
            out: serializer,
        })
    }
}

/// The order members are written in: for each distinct key, in key order, the index of
/// its last occurrence (whose value a `Value` object keeps).
fn member_order<K: Ord>(keys: &[K]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    // Stable: equal keys stay in the order they came.
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut chosen: Vec<usize> = Vec::with_capacity(order.len());
    for i in order {
        match chosen.last_mut() {
            // A later occurrence of the same key replaces the earlier one's value.
            Some(last) if keys[*last] == keys[i] => *last = i,
            _ => chosen.push(i),
        }
    }
    chosen
}

/// A map key as the text a `serde_json::Value` object would hold for it.
fn key_text<K: Serialize + ?Sized, E: ser::Error>(key: &K) -> Result<String, E> {
    match serde_json::to_value(key).map_err(E::custom)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(E::custom(format!(
            "a JSON object key must be a string, not {other}"
        ))),
    }
}

/// Serialises `whole` (the value being written) as a document: scalars and sequences
/// go straight to `out`; objects are collected by key and written in order at their
/// end.
struct Forward<'a, T: ?Sized, S> {
    whole: &'a T,
    out: S,
}

/// The error of a pass that met a different shape than the first pass did (a value
/// whose serialisation changes between calls).
fn unstable<E: ser::Error>() -> E {
    E::custom("a value serialised differently on a second pass")
}

impl<'a, T: Serialize + ?Sized, S: Serializer> Serializer for Forward<'a, T, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Elements<S::SerializeSeq>;
    type SerializeTuple = Elements<S::SerializeTuple>;
    type SerializeTupleStruct = Elements<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Elements<S::SerializeTupleVariant>;
    type SerializeMap = Members<'a, T, S, String>;
    type SerializeStruct = Members<'a, T, S, &'static str>;
    type SerializeStructVariant = Members<'a, T, S, &'static str>;

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.out.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.out.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.out.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.out.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.out.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.out.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.out.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.out.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.out.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.out.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.out.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        // A `Value` holds an `f32` as the `f64` of the same value, and writes it so.
        self.out.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.out.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.out.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.out.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.out.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.out.serialize_none()
    }
    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<S::Ok, S::Error> {
        self.out.serialize_some(&SortedKeys(value))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.out.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.out.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.out.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &V,
    ) -> Result<S::Ok, S::Error> {
        self.out.serialize_newtype_struct(name, &SortedKeys(value))
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &V,
    ) -> Result<S::Ok, S::Error> {
        self.out
            .serialize_newtype_variant(name, index, variant, &SortedKeys(value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.out.serialize_seq(len).map(Elements)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.out.serialize_tuple(len).map(Elements)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.out.serialize_tuple_struct(name, len).map(Elements)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.out
            .serialize_tuple_variant(name, index, variant, len)
            .map(Elements)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(Members::new(self, Shape::Map))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(Members::new(self, Shape::Struct { name }))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Ok(Members::new(
            self,
            Shape::Variant {
                name,
                index,
                variant,
            },
        ))
    }
}

/// A sequence's elements, each written with its keys sorted.
struct Elements<Q>(Q);

macro_rules! elements {
    ($trait:ident, $method:ident) => {
        impl<Q: $trait> $trait for Elements<Q> {
            type Ok = Q::Ok;
            type Error = Q::Error;
            fn $method<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Q::Error> {
                self.0.$method(&SortedKeys(value))
            }
            fn end(self) -> Result<Q::Ok, Q::Error> {
                self.0.end()
            }
        }
    };
}
elements!(SerializeSeq, serialize_element);
elements!(SerializeTuple, serialize_element);
elements!(SerializeTupleStruct, serialize_field);
elements!(SerializeTupleVariant, serialize_field);

/// What kind of object is being collected.
#[derive(Clone, Copy)]
enum Shape {
    Map,
    Struct {
        name: &'static str,
    },
    Variant {
        name: &'static str,
        index: u32,
        variant: &'static str,
    },
}

/// The first pass over an object: its keys, in the order they come; the members are
/// written, in key order, by [`end`](SerializeStruct::end).
struct Members<'a, T: ?Sized, S, K> {
    whole: &'a T,
    out: S,
    shape: Shape,
    keys: Vec<K>,
}

impl<'a, T: Serialize + ?Sized, S: Serializer, K> Members<'a, T, S, K> {
    fn new(forward: Forward<'a, T, S>, shape: Shape) -> Self {
        Members {
            whole: forward.whole,
            out: forward.out,
            shape,
            keys: Vec::new(),
        }
    }
}

impl<T: Serialize + ?Sized, S: Serializer> Members<'_, T, S, &'static str> {
    /// Writes the struct's members in key order: one more pass over the whole value
    /// per member, picking that member out.
    fn finish(self) -> Result<S::Ok, S::Error> {
        let order = member_order(&self.keys);
        match self.shape {
            Shape::Struct { name } => {
                let mut out = self.out.serialize_struct(name, order.len())?;
                for index in order {
                    self.whole
                        .serialize(Pick::new(index, StructTarget(&mut out)))?;
                }
                out.end()
            }
            Shape::Variant {
                name,
                index,
                variant,
            } => {
                let mut out =
                    self.out
                        .serialize_struct_variant(name, index, variant, order.len())?;
                for index in order {
                    self.whole
                        .serialize(Pick::new(index, VariantTarget(&mut out)))?;
                }
                out.end()
            }
            Shape::Map => Err(unstable()),
        }
    }
}

/// Implements [`SerializeStruct`] and [`SerializeStructVariant`], whose two methods are
/// the same, for a type with inherent methods `take_field(key, value)` and
/// `finish()`. The generics go in brackets: `fields!([T: Trait] Type<T>, Ok, Error)`.
macro_rules! fields {
    ([$($generics:tt)*] $ty:ty, $ok:ty, $error:ty) => {
        fields!(@one SerializeStruct [$($generics)*] $ty, $ok, $error);
        fields!(@one SerializeStructVariant [$($generics)*] $ty, $ok, $error);
    };
    (@one $trait:ident [$($generics:tt)*] $ty:ty, $ok:ty, $error:ty) => {
        impl<$($generics)*> $trait for $ty {
            type Ok = $ok;
            type Error = $error;
            fn serialize_field<V: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &V,
            ) -> Result<(), $error> {
                self.take_field(key, value)
            }
            fn end(self) -> Result<$ok, $error> {
                self.finish()
            }
        }
    };
}

impl<T: Serialize + ?Sized, S: Serializer> Members<'_, T, S, &'static str> {
    /// Notes a struct member's key (its value is written by a later pass).
    fn take_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        _value: &V,
    ) -> Result<(), S::Error> {
        self.keys.push(key);
        Ok(())
    }
}

fields!([T: Serialize + ?Sized, S: Serializer] Members<'_, T, S, &'static str>, S::Ok, S::Error);

impl<T: Serialize + ?Sized, S: Serializer> SerializeMap for Members<'_, T, S, String> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), S::Error> {
        self.keys.push(key_text(key)?);
        Ok(())
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, _value: &V) -> Result<(), S::Error> {
        Ok(())
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        if self.keys.len() > MAX_MAP_PASSES {
            // Sorted through a tree, as every object was before.
            let tree = serde_json::to_value(self.whole).map_err(S::Error::custom)?;
            return tree.serialize(self.out);
        }
        let order = member_order(&self.keys);
        let mut out = self.out.serialize_map(Some(order.len()))?;
        for index in order {
            self.whole
                .serialize(Pick::new(index, MapTarget(&mut out)))?;
        }
        out.end()
    }
}

/// A pass over the whole value that writes one member of its outermost object, the
/// `want`-th to come, into `out`, and nothing else.
struct Pick<O> {
    want: usize,
    out: O,
}

impl<O> Pick<O> {
    fn new(want: usize, out: O) -> Self {
        Pick { want, out }
    }

    fn members(self) -> PickMembers<O> {
        PickMembers {
            want: self.want,
            seen: 0,
            in_entry: false,
            out: self.out,
        }
    }
}

/// The members of the outermost object during a [`Pick`] pass: counts them and writes
/// the wanted one.
struct PickMembers<O> {
    want: usize,
    seen: usize,
    /// The wanted map entry's key was written; its value comes next.
    in_entry: bool,
    out: O,
}

/// The serializer of a [`Pick`] pass: only the outermost object's shape is expected
/// (the first pass met it); anything else means the value changed between passes.
macro_rules! not_an_object {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), Self::Error> {
            Err(unstable())
        })*
    };
}

impl<O: PickTarget> Serializer for Pick<O> {
    type Ok = ();
    type Error = O::Error;
    type SerializeSeq = ser::Impossible<(), O::Error>;
    type SerializeTuple = ser::Impossible<(), O::Error>;
    type SerializeTupleStruct = ser::Impossible<(), O::Error>;
    type SerializeTupleVariant = ser::Impossible<(), O::Error>;
    type SerializeMap = PickMembers<O>;
    type SerializeStruct = PickMembers<O>;
    type SerializeStructVariant = PickMembers<O>;

    not_an_object! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }
    fn serialize_some<V: Serialize + ?Sized>(self, _value: &V) -> Result<(), O::Error> {
        Err(unstable())
    }
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &V,
    ) -> Result<(), O::Error> {
        Err(unstable())
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &V,
    ) -> Result<(), O::Error> {
        Err(unstable())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, O::Error> {
        Err(unstable())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, O::Error> {
        Err(unstable())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, O::Error> {
        Err(unstable())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, O::Error> {
        Err(unstable())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, O::Error> {
        Ok(self.members())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, O::Error> {
        Ok(self.members())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, O::Error> {
        Ok(self.members())
    }
}

impl<O: PickTarget> PickMembers<O> {
    /// Passes on a struct member if it is the one wanted.
    fn take_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), O::Error> {
        let this = self.seen;
        self.seen += 1;
        if this == self.want {
            self.out.field(key, value)?;
        }
        Ok(())
    }

    /// Nothing is left to write: the object is ended by the real serializer's state.
    fn finish(self) -> Result<(), O::Error> {
        Ok(())
    }
}

fields!([O: PickTarget] PickMembers<O>, (), O::Error);

impl<O: PickTarget> SerializeMap for PickMembers<O> {
    type Ok = ();
    type Error = O::Error;
    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), O::Error> {
        let this = self.seen;
        self.seen += 1;
        if this == self.want {
            self.in_entry = true;
            self.out.key(key)?;
        }
        Ok(())
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), O::Error> {
        if std::mem::take(&mut self.in_entry) {
            self.out.value(value)?;
        }
        Ok(())
    }
    fn end(self) -> Result<(), O::Error> {
        Ok(())
    }
}

/// Where a [`Pick`] pass writes its member: the real serializer's state of the object
/// being written.
trait PickTarget {
    /// The real serializer's error.
    type Error: ser::Error;
    /// Writes a struct member.
    fn field<V: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        _value: &V,
    ) -> Result<(), Self::Error> {
        Err(unstable())
    }
    /// Writes a map key.
    fn key<K: Serialize + ?Sized>(&mut self, _key: &K) -> Result<(), Self::Error> {
        Err(unstable())
    }
    /// Writes a map value.
    fn value<V: Serialize + ?Sized>(&mut self, _value: &V) -> Result<(), Self::Error> {
        Err(unstable())
    }
}

/// The target of a struct: its fields.
struct StructTarget<'q, Q>(&'q mut Q);
/// The target of a struct variant: its fields.
struct VariantTarget<'q, Q>(&'q mut Q);
/// The target of a map: its entries.
struct MapTarget<'q, Q>(&'q mut Q);

/// A [`PickTarget`] whose members are fields of a state implementing `$trait`.
macro_rules! field_target {
    ($target:ident, $trait:ident) => {
        impl<Q: $trait> PickTarget for $target<'_, Q> {
            type Error = Q::Error;
            fn field<V: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &V,
            ) -> Result<(), Q::Error> {
                self.0.serialize_field(key, &SortedKeys(value))
            }
        }
    };
}
field_target!(StructTarget, SerializeStruct);
field_target!(VariantTarget, SerializeStructVariant);

impl<Q: SerializeMap> PickTarget for MapTarget<'_, Q> {
    type Error = Q::Error;
    fn key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Q::Error> {
        self.0.serialize_key(key)
    }
    fn value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Q::Error> {
        self.0.serialize_value(&SortedKeys(value))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    /// The document through a `Value` (the old way) and through [`SortedKeys`], compact
    /// and pretty, with the terminal-safe formatter the CLI uses.
    fn assert_same<T: Serialize>(value: &T) {
        let tree = serde_json::to_value(value).unwrap();
        assert_eq!(
            serde_json::to_string(&SortedKeys(value)).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        let pretty = |v: &dyn erased::Pretty| v.pretty();
        assert_eq!(pretty(&SortedKeys(value)), pretty(&tree));
    }

    mod erased {
        use serde::Serialize;

        use crate::escape::TerminalSafe;

        pub trait Pretty {
            fn pretty(&self) -> String;
        }

        impl<T: Serialize> Pretty for T {
            fn pretty(&self) -> String {
                let mut out = Vec::new();
                let mut ser = serde_json::Serializer::with_formatter(
                    &mut out,
                    TerminalSafe(serde_json::ser::PrettyFormatter::new()),
                );
                self.serialize(&mut ser).unwrap();
                String::from_utf8(out).unwrap()
            }
        }
    }

    #[derive(Serialize)]
    enum Kind {
        Plain,
        Wrapped(Inner),
        Pair(i32, Option<Inner>),
        Shaped { zeta: u8, alpha: Vec<Inner> },
    }

    #[derive(Serialize, Clone)]
    struct Inner {
        z: f64,
        a: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        m: Option<i64>,
        nested: Vec<BTreeMap<String, i32>>,
    }

    #[derive(Serialize)]
    struct Newtype(Inner);

    #[derive(Serialize)]
    #[serde(transparent)]
    struct Transparent {
        inner: Inner,
    }

    #[derive(Serialize)]
    struct Flattened {
        zz: &'static str,
        #[serde(flatten)]
        inner: Inner,
        // The same key as one of the flattened fields: the last value wins.
        a: &'static str,
        #[serde(flatten)]
        extra: HashMap<String, u32>,
    }

    #[derive(Serialize)]
    struct Everything {
        very_last: (i8, u16, char, bool),
        kinds: Vec<Kind>,
        b_unit: (),
        empty: Empty,
        empty_list: Vec<Inner>,
        newtype: Newtype,
        transparent: Transparent,
        flattened: Flattened,
        by_number: BTreeMap<i64, &'static str>,
        by_flag: HashMap<bool, u8>,
        hostile: String,
        small: f32,
        nan: f64,
        big: u64,
        negative: i64,
        bytes: &'static [u8],
    }

    #[derive(Serialize)]
    struct Empty {}

    fn inner(seed: i32) -> Inner {
        Inner {
            z: f64::from(seed) / 3.0,
            a: (seed % 2 == 0).then(|| format!("王{seed}")),
            m: (seed % 3 == 0).then_some(i64::from(seed) * -7),
            nested: vec![
                BTreeMap::from([("y".to_owned(), seed), ("b".to_owned(), -seed)]),
                BTreeMap::new(),
            ],
        }
    }

    #[test]
    fn every_shape_serde_knows_is_written_as_through_a_value() {
        let value = Everything {
            very_last: (-3, 65535, '张', true),
            kinds: vec![
                Kind::Plain,
                Kind::Wrapped(inner(1)),
                Kind::Pair(7, Some(inner(2))),
                Kind::Pair(8, None),
                Kind::Shaped {
                    zeta: 9,
                    alpha: vec![inner(3), inner(4)],
                },
            ],
            b_unit: (),
            empty: Empty {},
            empty_list: Vec::new(),
            newtype: Newtype(inner(5)),
            transparent: Transparent { inner: inner(6) },
            flattened: Flattened {
                zz: "last",
                inner: inner(7),
                a: "replaces the flattened a",
                extra: HashMap::from([("q".to_owned(), 1), ("b".to_owned(), 2)]),
            },
            by_number: BTreeMap::from([(10, "ten"), (9, "nine"), (-1, "minus one")]),
            by_flag: HashMap::from([(true, 1), (false, 0)]),
            hostile: "<script>\u{202e}\u{7f}\u{9b}\"\n".to_owned(),
            small: 0.1,
            nan: f64::NAN,
            big: u64::MAX,
            negative: i64::MIN,
            bytes: b"ab",
        };
        assert_same(&value);
        assert_same(&vec![inner(1), inner(2)]);
        assert_same(&Some(inner(3)));
        assert_same(&"just a string");
    }

    #[test]
    fn a_map_longer_than_the_passes_allow_is_sorted_through_a_value() {
        let long: HashMap<String, Inner> = (0..(MAX_MAP_PASSES as i32 + 5))
            .map(|i| (format!("k{i}"), inner(i)))
            .collect();
        assert_same(&long);
        let keys: Vec<String> = serde_json::to_value(SortedKeys(&long))
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys.len(), MAX_MAP_PASSES + 5);
    }

    #[test]
    fn a_key_that_is_not_text_is_an_error_not_a_panic() {
        let by_list: BTreeMap<Vec<u8>, u8> = BTreeMap::from([(vec![1], 1)]);
        let err = serde_json::to_string(&SortedKeys(&by_list)).unwrap_err();
        assert!(err.to_string().contains("key must be a string"), "{err}");
    }

    /// A value that changes between passes is an error, not a wrong document.
    #[test]
    fn a_value_that_serialises_differently_each_time_is_an_error() {
        struct Fickle(std::cell::Cell<u32>);
        impl Serialize for Fickle {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let n = self.0.get();
                self.0.set(n + 1);
                if n == 0 {
                    let mut st = s.serialize_struct("Fickle", 1)?;
                    st.serialize_field("a", &1)?;
                    st.end()
                } else {
                    s.serialize_u32(n)
                }
            }
        }
        let err = serde_json::to_string(&SortedKeys(&Fickle(std::cell::Cell::new(0)))).unwrap_err();
        assert!(err.to_string().contains("second pass"), "{err}");
    }

    /// An object whose entries come in any order, keys repeated or not.
    #[derive(Debug, Clone)]
    enum Node {
        Int(i64),
        Text(String),
        List(Vec<Node>),
        Object(Vec<(String, Node)>),
    }

    impl Serialize for Node {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self {
                Node::Int(n) => s.serialize_i64(*n),
                Node::Text(t) => s.serialize_str(t),
                Node::List(items) => items.serialize(s),
                Node::Object(entries) => {
                    let mut map = s.serialize_map(Some(entries.len()))?;
                    for (k, v) in entries {
                        map.serialize_entry(k, v)?;
                    }
                    map.end()
                }
            }
        }
    }

    fn node() -> impl Strategy<Value = Node> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Node::Int),
            "[a-c王é\\x00-\\x1f]{0,3}".prop_map(Node::Text),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Node::List),
                prop::collection::vec(("[a-d王]{0,2}", inner), 0..8).prop_map(Node::Object),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_nesting_of_objects_is_written_as_through_a_value(value in node()) {
            let tree = serde_json::to_value(&value).unwrap();
            prop_assert_eq!(
                serde_json::to_string_pretty(&SortedKeys(&value)).unwrap(),
                serde_json::to_string_pretty(&tree).unwrap()
            );
        }
    }
}
