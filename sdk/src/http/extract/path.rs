//! `Params` and `Path<T>`: what a route pattern captured from the request path.

use std::fmt;

use http::request::Parts;
use http::StatusCode;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::{FromRequestParts, Rejection};

/// The values a route pattern captured from the request path, by name.
///
/// An extractor: a [`Router`](crate::http::Router) route may take it as an argument. Outside a
/// router it is empty. [`Path<T>`] gives the same values typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub(crate) named: Vec<(String, String)>,
    pub(crate) wildcard: Option<String>,
}

impl Params {
    /// The segment captured by `:name`, or by `*name` for the trailing wildcard.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The rest of the path captured by a trailing `*name`, without its leading `/`.
    pub fn wildcard(&self) -> Option<&str> {
        self.wildcard.as_deref()
    }

    /// Every named capture, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.named.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl FromRequestParts for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Params>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The route's captures, typed: one value (`Path<u32>`), a tuple in pattern order
/// (`Path<(String, u32)>`), or a struct whose fields are named like the captures.
///
/// A capture that does not parse as its type is rejected with 400; a `Path` outside a
/// [`Router`](crate::http::Router) route (no captures at all) with 500, since that is a
/// mistake in the component, not in the request.
///
/// ```no_run
/// use rotor_sdk::http::{IntoResponse, Path, Request, Router};
///
/// #[derive(serde::Deserialize)]
/// struct PostId { user: String, post: u64 }
///
/// #[rotor_sdk::http_component]
/// async fn handle(request: Request<rotor_sdk::http::IncomingBody>) -> impl IntoResponse {
///     Router::new()
///         .get("/items/:id", |Path(id): Path<u32>| format!("item {id}"))
///         .get("/users/:user/posts/:post", |Path(p): Path<PostId>| format!("{}#{}", p.user, p.post))
///         .get("/pairs/:a/:b", |Path((a, b)): Path<(String, i64)>| format!("{a}={b}"))
///         .handle(request)
///         .await
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts for Path<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts) -> Result<Self, Rejection> {
        let Some(params) = parts.extensions.get::<Params>() else {
            return Err(Rejection::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Path<T> is only for Router routes with captures such as /items/:id",
            ));
        };
        T::deserialize(Captures(&params.named))
            .map(Path)
            .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, e.0))
    }
}

/// Why the captures do not fit the type.
#[derive(Debug)]
struct Unfit(String);

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unfit {}

impl de::Error for Unfit {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Unfit(format!("invalid path parameters: {message}"))
    }
}

/// All captures: a map by name, a sequence in order, or one value when there is one.
struct Captures<'a>(&'a [(String, String)]);

impl Captures<'_> {
    fn only(&self) -> Result<Capture<'_>, Unfit> {
        match self.0 {
            [(name, value)] => Ok(Capture { name, value }),
            captures => Err(Unfit(format!(
                "the route captures {} values, and a single value takes exactly one",
                captures.len()
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

impl<'de> de::Deserializer<'de> for Captures<'_> {
    type Error = Unfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unfit> {
        visitor.visit_map(CaptureMap {
            captures: self.0.iter(),
            value: None,
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
        visitor.visit_seq(CaptureSeq(self.0.iter()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Unfit> {
        if len != self.0.len() {
            return Err(Unfit(format!(
                "the route captures {} values, and the tuple takes {len}",
                self.0.len()
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
        self.value = Some(Capture { name, value });
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

struct CaptureSeq<'a>(std::slice::Iter<'a, (String, String)>);

impl<'de> de::SeqAccess<'de> for CaptureSeq<'_> {
    type Error = Unfit;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unfit> {
        match self.0.next() {
            Some((name, value)) => seed.deserialize(Capture { name, value }).map(Some),
            None => Ok(None),
        }
    }
}

/// One capture, parsed as whatever type asks for it.
#[derive(Clone, Copy)]
struct Capture<'a> {
    name: &'a str,
    value: &'a str,
}

impl Capture<'_> {
    fn unparsable(&self, expected: &str) -> Unfit {
        Unfit(format!(
            "path parameter `{}` is {:?}, which is not {expected}",
            self.name, self.value
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::block_on;

    fn path<T: DeserializeOwned>(captures: &[(&str, &str)]) -> Result<T, Rejection> {
        let mut parts = http::Request::new(()).into_parts().0;
        parts.extensions.insert(Params {
            named: captures
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            wildcard: None,
        });
        block_on(Path::<T>::from_request_parts(&mut parts)).map(|Path(value)| value)
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Post {
        user: String,
        post: u64,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Shelf {
        Top,
        Bottom,
    }

    #[test]
    fn one_value_a_tuple_or_a_struct() {
        assert_eq!(path::<u32>(&[("id", "42")]).unwrap(), 42);
        assert_eq!(path::<String>(&[("id", "a b")]).unwrap(), "a b");
        assert_eq!(
            path::<(String, i64)>(&[("a", "x"), ("b", "-7")]).unwrap(),
            ("x".to_owned(), -7)
        );
        assert_eq!(
            path::<Post>(&[("user", "ada"), ("post", "7")]).unwrap(),
            Post {
                user: "ada".into(),
                post: 7
            }
        );
        assert_eq!(path::<Shelf>(&[("shelf", "top")]).unwrap(), Shelf::Top);
        assert_eq!(
            path::<std::collections::HashMap<String, String>>(&[("k", "v")]).unwrap()["k"],
            "v"
        );
    }

    #[test]
    fn a_capture_of_the_wrong_type_is_a_bad_request() {
        let rejection = path::<u32>(&[("id", "forty-two")]).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(rejection.message().contains("`id`"), "{rejection}");
        assert!(rejection.message().contains("forty-two"), "{rejection}");
        let rejection = path::<Post>(&[("user", "ada"), ("post", "x")]).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(path::<Shelf>(&[("shelf", "middle")]).is_err());
        assert!(path::<(u8, u8)>(&[("a", "1")]).is_err());
        assert!(path::<u8>(&[("a", "1"), ("b", "2")]).is_err());
    }

    #[test]
    fn outside_a_router_path_is_a_server_error() {
        let mut parts = http::Request::new(()).into_parts().0;
        let rejection = block_on(Path::<u32>::from_request_parts(&mut parts)).unwrap_err();
        assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
