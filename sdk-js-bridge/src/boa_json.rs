//! A `JSON.parse` for boa that reads JSON with serde_json and builds the values directly.
//! boa's own `JSON.parse` runs its JavaScript parser over the text, which took a seventh of
//! a hello's request (the runtime parses the request and every host reply as JSON). Text
//! serde_json cannot take exactly as JavaScript does, and calls with a reviver, go to boa's
//! own, so what an app sees does not change: its `SyntaxError`s come from there.

use boa_engine::object::builtins::JsArray;
use boa_engine::property::PropertyKey;
use boa_engine::{js_string, Context, JsObject, JsResult, JsString, JsValue, NativeFunction};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Replaces `JSON.parse` with the fast one, keeping boa's for what it leaves aside.
pub(crate) fn install(context: &mut Context) -> JsResult<()> {
    let json = context
        .global_object()
        .get(js_string!("JSON"), context)?
        .as_object()
        .expect("JSON is an object");
    let original = json
        .get(js_string!("parse"), context)?
        .as_object()
        .expect("JSON.parse is a function");
    let parse = NativeFunction::from_copy_closure_with_captures(
        |_, args, original, context| {
            let text = args.first().cloned().unwrap_or_default();
            let has_reviver = args.get(1).is_some_and(JsValue::is_callable);
            if !has_reviver {
                if let Some(value) = parse_fast(&text, context)? {
                    return Ok(value);
                }
            }
            original.call(&JsValue::undefined(), args, context)
        },
        original,
    )
    .to_js_function(context.realm());
    json.set(js_string!("parse"), parse, true, context)?;
    Ok(())
}

/// The value `text` holds, or `None` for boa's own parser to decide (invalid JSON, lone
/// surrogates, `-0`, numbers beyond a double).
fn parse_fast(text: &JsValue, context: &mut Context) -> JsResult<Option<JsValue>> {
    let Ok(text) = text.to_string(context)?.to_std_string() else {
        return Ok(None);
    };
    if has_negative_zero(&text) {
        return Ok(None);
    }
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let mut failure = None;
    let value = Seed {
        context,
        failure: &mut failure,
    }
    .deserialize(&mut deserializer);
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(match (value, deserializer.end()) {
        (Ok(value), Ok(())) => Some(value),
        _ => None,
    })
}

/// Whether `text` has a `-0` that is a whole number, which serde_json reads as `0` and
/// JavaScript as negative zero.
fn has_negative_zero(text: &str) -> bool {
    text.match_indices("-0").any(|(at, _)| {
        !matches!(
            text.as_bytes().get(at + 2),
            Some(b'0'..=b'9' | b'.' | b'e' | b'E')
        )
    })
}

/// Builds one JSON value in `context`. A failure of the engine itself (out of memory, say)
/// is kept in `failure`, since serde's errors cannot carry it.
struct Seed<'a, 'c> {
    context: &'c mut Context,
    failure: &'a mut Option<boa_engine::JsError>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = JsValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<JsValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = JsValue;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<JsValue, E> {
        Ok(JsValue::null())
    }

    fn visit_bool<E>(self, value: bool) -> Result<JsValue, E> {
        Ok(JsValue::from(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<JsValue, E> {
        Ok(match i32::try_from(value) {
            Ok(small) => JsValue::from(small),
            Err(_) => JsValue::from(value as f64),
        })
    }

    fn visit_u64<E>(self, value: u64) -> Result<JsValue, E> {
        Ok(match i32::try_from(value) {
            Ok(small) => JsValue::from(small),
            Err(_) => JsValue::from(value as f64),
        })
    }

    fn visit_f64<E>(self, value: f64) -> Result<JsValue, E> {
        Ok(JsValue::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<JsValue, E> {
        Ok(JsValue::from(JsString::from(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<JsValue, A::Error> {
        let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0));
        while let Some(value) = items.next_element_seed(Seed {
            context: &mut *self.context,
            failure: &mut *self.failure,
        })? {
            values.push(value);
        }
        Ok(JsArray::from_iter(values, self.context).into())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<JsValue, A::Error> {
        let object = JsObject::with_object_proto(self.context.intrinsics());
        while let Some(key) = entries.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = entries.next_value_seed(Seed {
                context: &mut *self.context,
                failure: &mut *self.failure,
            })?;
            let key = PropertyKey::from(JsString::from(key.as_ref()));
            if let Err(error) = object.create_data_property_or_throw(key, value, self.context) {
                *self.failure = Some(error);
                return Err(serde::de::Error::custom("the engine failed"));
            }
        }
        Ok(object.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boa_engine::Source;

    /// Evaluates `script` in a context with the fast `JSON.parse`, and boa's kept as
    /// `originalParse`, and returns its result as text.
    fn run(script: &str) -> String {
        let mut context = Context::default();
        context
            .eval(Source::from_bytes("globalThis.originalParse = JSON.parse;"))
            .unwrap();
        install(&mut context).unwrap();
        context
            .eval(Source::from_bytes(script))
            .unwrap_or_else(|e| panic!("{script}: {e}"))
            .to_string(&mut context)
            .unwrap()
            .to_std_string_escaped()
    }

    #[test]
    fn values_are_what_boas_own_parser_makes() {
        let texts = [
            r#"{"b": 1, "a": [true, false, null, 1.5, -2, "x\u00e9\n"], "2": {}, "1": []}"#,
            r#"[1e3, 12345678901234567890, -9007199254740993, 0.1, 1.7976931348623157e308]"#,
            r#"{"__proto__": 1, "dup": 1, "dup": 2}"#,
            r#"  "a string"  "#,
            "-0",
            "[-0, -0.0, -0e1, 10]",
        ];
        for text in texts {
            let script = format!(
                "const text = {text:?};\
                 const show = (v) => JSON.stringify(v, (k, x) => Object.is(x, -0) ? '-0' : x) \
                   + ' ' + (v && typeof v === 'object' ? Object.keys(v).join(',') : typeof v);\
                 show(JSON.parse(text)) === show(originalParse(text)) ? 'same' : \
                   show(JSON.parse(text)) + ' vs ' + show(originalParse(text))"
            );
            assert_eq!(run(&script), "same", "{text}");
        }
    }

    #[test]
    fn invalid_text_and_revivers_go_to_boas_parser() {
        let invalid = run(
            "try { JSON.parse('{\"a\": 1,}'); 'parsed' } catch (e) { e instanceof SyntaxError }",
        );
        assert_eq!(invalid, "true");
        let revived = run("JSON.parse('{\"a\": 1}', (k, v) => k === 'a' ? v + 1 : v).a");
        assert_eq!(revived, "2");
        let own_property =
            run("Object.getPrototypeOf(JSON.parse('{\"__proto__\": 1}')) === Object.prototype");
        assert_eq!(own_property, "true");
    }

    #[test]
    fn negative_zero_is_found_only_where_it_is_a_whole_number() {
        assert!(has_negative_zero("-0"));
        assert!(has_negative_zero("[1, -0]"));
        assert!(!has_negative_zero("-0.5"));
        assert!(!has_negative_zero("-01"));
        assert!(!has_negative_zero("-0e1"));
    }
}
