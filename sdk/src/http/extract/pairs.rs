//! A serde `Deserializer` over name/value pairs: route captures and URL-encoded fields.
//!
//! The pairs make a map (a struct or map type), a sequence in order (a tuple), or one value
//! when there is exactly one; each value is parsed as the type that asks for it.

use std::fmt;

use serde::de::{self, IntoDeserializer, Visitor};

/// Why the pairs do not fit the type.
#[derive(Debug)]
pub(super) struct Unfit(pub(super) String);

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unfit {}

impl de::Error for Unfit {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Unfit(message.to_string())
    }
}

/// All pairs: a map by name, a sequence in order, or one value when there is one.
pub(super) struct Pairs<'a> {
    pairs: &'a [(String, String)],
    /// What a pair is, for messages: "path parameter", "query parameter", "form field".
    what: &'static str,
}

impl<'a> Pairs<'a> {
    pub(super) fn new(pairs: &'a [(String, String)], what: &'static str) -> Self {
        Pairs { pairs, what }
    }

    fn only(&self) -> Result<Capture<'a>, Unfit> {
        match self.pairs {
            [(name, value)] => Ok(Capture {
                name,
                value,
                what: self.what,
            }),
            pairs => Err(Unfit(format!(
                "there are {} {}s, and a single value takes exactly one",
                pairs.len(),
                self.what
            ))),
        }
    }
}

macro_rules! one_capture {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
                self.only()?.$method(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Pairs<'_> {
    type Error = Unfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        visitor.visit_map(CaptureMap {
            captures: self.pairs.iter(),
            value: None,
            what: self.what,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        visitor.visit_seq(CaptureSeq {
            captures: self.pairs.iter(),
            what: self.what,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Unfit> {
        if len != self.pairs.len() {
            return Err(Unfit(format!(
                "there are {} {}s, and the tuple takes {len}",
                self.pairs.len(),
                self.what
            )));
        }
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        self.only()?.deserialize_enum(name, variants, visitor)
    }

    one_capture! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_unit deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        visitor.visit_unit()
    }
}

struct CaptureMap<'a> {
    captures: std::slice::Iter<'a, (String, String)>,
    value: Option<Capture<'a>>,
    what: &'static str,
}

impl<'de> de::MapAccess<'de> for CaptureMap<'_> {
    type Error = Unfit;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unfit> {
        let Some((name, value)) = self.captures.next() else {
            return Ok(None);
        };
        self.value = Some(Capture {
            name,
            value,
            what: self.what,
        });
        seed.deserialize(name.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Unfit> {
        let capture = self
            .value
            .take()
            .ok_or_else(|| Unfit("a value without its name".into()))?;
        seed.deserialize(capture)
    }
}

struct CaptureSeq<'a> {
    captures: std::slice::Iter<'a, (String, String)>,
    what: &'static str,
}

impl<'de> de::SeqAccess<'de> for CaptureSeq<'_> {
    type Error = Unfit;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unfit> {
        match self.captures.next() {
            Some((name, value)) => seed
                .deserialize(Capture {
                    name,
                    value,
                    what: self.what,
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

/// One pair's value, parsed as whatever type asks for it.
#[derive(Clone, Copy)]
struct Capture<'a> {
    name: &'a str,
    value: &'a str,
    what: &'static str,
}

impl Capture<'_> {
    fn unparsable(&self, expected: &str) -> Unfit {
        Unfit(format!(
            "{} `{}` is `{}`, which is not {expected}",
            self.what, self.name, self.value
        ))
    }
}

macro_rules! parse_capture {
    ($($method:ident => $visit:ident: $ty:ty, $expected:literal;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
                let parsed: $ty = self.value.parse().map_err(|_| self.unparsable($expected))?;
                visitor.$visit(parsed)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Capture<'_> {
    type Error = Unfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        visitor.visit_str(self.value)
    }

    parse_capture! {
        deserialize_bool => visit_bool: bool, "true or false";
        deserialize_i8 => visit_i8: i8, "an integer from -128 to 127";
        deserialize_i16 => visit_i16: i16, "a 16-bit integer";
        deserialize_i32 => visit_i32: i32, "a 32-bit integer";
        deserialize_i64 => visit_i64: i64, "a 64-bit integer";
        deserialize_i128 => visit_i128: i128, "an integer";
        deserialize_u8 => visit_u8: u8, "an integer from 0 to 255";
        deserialize_u16 => visit_u16: u16, "an integer from 0 to 65535";
        deserialize_u32 => visit_u32: u32, "a non-negative 32-bit integer";
        deserialize_u64 => visit_u64: u64, "a non-negative 64-bit integer";
        deserialize_u128 => visit_u128: u128, "a non-negative integer";
        deserialize_f32 => visit_f32: f32, "a number";
        deserialize_f64 => visit_f64: f64, "a number";
        deserialize_char => visit_char: char, "a single character";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unfit> {
        let value: de::value::StrDeserializer<'_, Unfit> = self.value.into_deserializer();
        de::Deserializer::deserialize_enum(value, name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}
