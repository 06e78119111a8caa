//! PostgreSQL's binary encodings for the types tokio-postgres leaves to its users: numeric
//! (any precision, carried as decimal text), ranges, intervals, UUIDs and JSON.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A `numeric` as decimal text, such as `-12.3400`, `NaN` or `Infinity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numeric(pub String);

const NUMERIC_POSITIVE: u16 = 0x0000;
const NUMERIC_NEGATIVE: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_INFINITY: u16 = 0xD000;
const NUMERIC_NEGATIVE_INFINITY: u16 = 0xF000;

fn take<'a>(raw: &mut &'a [u8], n: usize) -> Result<&'a [u8], BoxError> {
    if raw.len() < n {
        return Err("truncated value".into());
    }
    let (head, tail) = raw.split_at(n);
    *raw = tail;
    Ok(head)
}

fn read_i16(raw: &mut &[u8]) -> Result<i16, BoxError> {
    Ok(i16::from_be_bytes(take(raw, 2)?.try_into()?))
}

fn read_i32(raw: &mut &[u8]) -> Result<i32, BoxError> {
    Ok(i32::from_be_bytes(take(raw, 4)?.try_into()?))
}

fn read_i64(raw: &mut &[u8]) -> Result<i64, BoxError> {
    Ok(i64::from_be_bytes(take(raw, 8)?.try_into()?))
}

impl Numeric {
    /// Decodes the binary form: digit count, weight, sign, display scale, then base-10000
    /// digits, the first of which is worth 10000^weight.
    fn decode(mut raw: &[u8]) -> Result<Numeric, BoxError> {
        let count = read_i16(&mut raw)?;
        let weight = read_i16(&mut raw)? as i32;
        let sign = read_i16(&mut raw)? as u16;
        let scale = read_i16(&mut raw)?.max(0) as usize;
        let digits = (0..count)
            .map(|_| read_i16(&mut raw))
            .collect::<Result<Vec<_>, _>>()?;
        let negative = match sign {
            NUMERIC_POSITIVE => false,
            NUMERIC_NEGATIVE => true,
            NUMERIC_NAN => return Ok(Numeric("NaN".into())),
            NUMERIC_INFINITY => return Ok(Numeric("Infinity".into())),
            NUMERIC_NEGATIVE_INFINITY => return Ok(Numeric("-Infinity".into())),
            other => return Err(format!("unknown numeric sign {other:#x}").into()),
        };
        // The digit worth 10000^power sits at index weight - power.
        let digit = |power: i32| -> i16 {
            usize::try_from(weight - power)
                .ok()
                .and_then(|i| digits.get(i))
                .copied()
                .unwrap_or(0)
        };
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        if weight < 0 {
            text.push('0');
        } else {
            text.push_str(&digit(weight).to_string());
            for power in (0..weight).rev() {
                text.push_str(&format!("{:04}", digit(power)));
            }
        }
        if scale > 0 {
            let mut fraction = String::new();
            let mut power = -1;
            while fraction.len() < scale {
                fraction.push_str(&format!("{:04}", digit(power)));
                power -= 1;
            }
            fraction.truncate(scale);
            text.push('.');
            text.push_str(&fraction);
        }
        Ok(Numeric(text))
    }

    /// Encodes decimal text (an optional sign, digits, an optional fraction).
    fn encode(&self, out: &mut BytesMut) -> Result<(), BoxError> {
        let text = self.0.trim();
        let special = match text.to_ascii_lowercase().as_str() {
            "nan" => Some(NUMERIC_NAN),
            "infinity" | "+infinity" | "inf" => Some(NUMERIC_INFINITY),
            "-infinity" | "-inf" => Some(NUMERIC_NEGATIVE_INFINITY),
            _ => None,
        };
        if let Some(sign) = special {
            out.put_i16(0);
            out.put_i16(0);
            out.put_u16(sign);
            out.put_i16(0);
            return Ok(());
        }
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(format!("{:?} is not a decimal number", self.0).into());
        }
        let scale = i16::try_from(fraction.len()).map_err(|_| "too many decimal places")?;
        let whole = whole.trim_start_matches('0');
        // Pad both parts to whole base-10000 digits around the decimal point.
        let mut padded = "0".repeat((4 - whole.len() % 4) % 4);
        padded.push_str(whole);
        let whole_groups = padded.len() / 4;
        padded.push_str(fraction);
        padded.push_str(&"0".repeat((4 - fraction.len() % 4) % 4));
        let mut groups: Vec<i16> = padded
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
            .collect();
        let mut weight = whole_groups as i32 - 1;
        let leading = groups.iter().take_while(|g| **g == 0).count();
        groups.drain(..leading);
        weight -= leading as i32;
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        out.put_i16(i16::try_from(groups.len()).map_err(|_| "the number is too long")?);
        out.put_i16(i16::try_from(weight).map_err(|_| "the number is too large")?);
        out.put_u16(if negative && !groups.is_empty() {
            NUMERIC_NEGATIVE
        } else {
            NUMERIC_POSITIVE
        });
        out.put_i16(scale);
        for group in groups {
            out.put_i16(group);
        }
        Ok(())
    }
}

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Numeric::decode(raw)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl ToSql for Numeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.encode(out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

/// One end of a range: its value and whether the value is inside the range; `None` is
/// unbounded.
pub type Bound<T> = Option<(T, bool)>;

/// A range of `T` (`int4range`, `int8range`, `numrange`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Range<T> {
    /// The lower end.
    pub lower: Bound<T>,
    /// The upper end.
    pub upper: Bound<T>,
    /// The empty range (then both ends are `None`).
    pub empty: bool,
}

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LOWER_INCLUSIVE: u8 = 0x02;
const RANGE_UPPER_INCLUSIVE: u8 = 0x04;
const RANGE_LOWER_INFINITE: u8 = 0x08;
const RANGE_UPPER_INFINITE: u8 = 0x10;

fn range_element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, mut raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let flags = take(&mut raw, 1)?[0];
        if flags & RANGE_EMPTY != 0 {
            return Ok(Range {
                lower: None,
                upper: None,
                empty: true,
            });
        }
        let mut bound = |infinite: u8, inclusive: u8| -> Result<Bound<T>, BoxError> {
            if flags & infinite != 0 {
                return Ok(None);
            }
            let length = usize::try_from(read_i32(&mut raw)?).map_err(|_| "a NULL bound")?;
            let value = T::from_sql(element, take(&mut raw, length)?)?;
            Ok(Some((value, flags & inclusive != 0)))
        };
        let lower = bound(RANGE_LOWER_INFINITE, RANGE_LOWER_INCLUSIVE)?;
        let upper = bound(RANGE_UPPER_INFINITE, RANGE_UPPER_INCLUSIVE)?;
        Ok(Range {
            lower,
            upper,
            empty: false,
        })
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(T::accepts)
    }
}

impl<T: ToSql> ToSql for Range<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        if self.empty {
            out.put_u8(RANGE_EMPTY);
            return Ok(IsNull::No);
        }
        let mut flags = 0;
        for (bound, infinite, inclusive) in [
            (&self.lower, RANGE_LOWER_INFINITE, RANGE_LOWER_INCLUSIVE),
            (&self.upper, RANGE_UPPER_INFINITE, RANGE_UPPER_INCLUSIVE),
        ] {
            match bound {
                None => flags |= infinite,
                Some((_, true)) => flags |= inclusive,
                Some((_, false)) => {}
            }
        }
        out.put_u8(flags);
        for (value, _) in [&self.lower, &self.upper].into_iter().flatten() {
            let start = out.len();
            out.put_i32(0);
            if let IsNull::Yes = value.to_sql(element, out)? {
                return Err("a range bound cannot be NULL".into());
            }
            let length = i32::try_from(out.len() - start - 4)?;
            out[start..start + 4].copy_from_slice(&length.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

/// An `interval`, its parts kept apart as the server keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Microseconds.
    pub micros: i64,
    /// Days.
    pub days: i32,
    /// Months.
    pub months: i32,
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, mut raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Interval {
            micros: read_i64(&mut raw)?,
            days: read_i32(&mut raw)?,
            months: read_i32(&mut raw)?,
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.micros);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

/// A `uuid` in its usual hyphenated text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uuid(pub String);

impl<'a> FromSql<'a> for Uuid {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        if raw.len() != 16 {
            return Err("a uuid is 16 bytes".into());
        }
        let mut text = String::with_capacity(36);
        for (index, byte) in raw.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                text.push('-');
            }
            text.push_str(&format!("{byte:02x}"));
        }
        Ok(Uuid(text))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }
}

impl ToSql for Uuid {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let hex: String = self
            .0
            .trim_start_matches('{')
            .trim_end_matches('}')
            .chars()
            .filter(|c| *c != '-')
            .collect();
        let bad = || format!("{:?} is not a UUID", self.0);
        if hex.len() != 32 {
            return Err(bad().into());
        }
        for pair in hex.as_bytes().chunks(2) {
            let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
            out.put_u8(u8::from_str_radix(pair, 16).map_err(|_| bad())?);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    to_sql_checked!();
}

/// `json` or `jsonb` as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json(pub Vec<u8>);

/// The version byte in front of `jsonb`'s text.
const JSONB_VERSION: u8 = 1;

impl<'a> FromSql<'a> for Json {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        if *ty == Type::JSONB {
            match raw.split_first() {
                Some((&JSONB_VERSION, text)) => Ok(Json(text.to_vec())),
                _ => Err("unknown jsonb version".into()),
            }
        } else {
            Ok(Json(raw.to_vec()))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

impl ToSql for Json {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if serde_json::from_slice::<serde::de::IgnoredAny>(&self.0).is_err() {
            return Err("the value is not valid JSON".into());
        }
        if *ty == Type::JSONB {
            out.put_u8(JSONB_VERSION);
        }
        out.put_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut out = BytesMut::new();
        Numeric(text.into()).encode(&mut out).unwrap();
        Numeric::decode(&out).unwrap().0
    }

    #[test]
    fn numerics_keep_every_digit_and_the_scale() {
        for (given, read) in [
            ("0", "0"),
            ("0.00", "0.00"),
            ("1", "1"),
            ("-1", "-1"),
            ("10000", "10000"),
            ("123456789.123456789", "123456789.123456789"),
            ("0.123456789", "0.123456789"),
            ("-0.0001", "-0.0001"),
            ("00042.50", "42.50"),
            (
                "99999999999999999999999999999999.5",
                "99999999999999999999999999999999.5",
            ),
            ("1.", "1"),
            (".5", "0.5"),
            ("NaN", "NaN"),
            ("-Infinity", "-Infinity"),
        ] {
            assert_eq!(round_trip(given), read, "{given}");
        }
    }

    #[test]
    fn numerics_match_the_servers_encoding() {
        // 1234.5678 as the server sends it: 2 digits, weight 0, positive, scale 4.
        let mut out = BytesMut::new();
        Numeric("1234.5678".into()).encode(&mut out).unwrap();
        assert_eq!(&out[..], &[0, 2, 0, 0, 0, 0, 0, 4, 0x04, 0xD2, 0x16, 0x2E]);
        // 0.0001: one digit of weight -1.
        let mut out = BytesMut::new();
        Numeric("0.0001".into()).encode(&mut out).unwrap();
        assert_eq!(&out[..], &[0, 1, 0xFF, 0xFF, 0, 0, 0, 4, 0, 1]);
    }

    #[test]
    fn malformed_numerics_are_refused() {
        for bad in ["", "-", "1.2.3", "12a", "1e5", "."] {
            let mut out = BytesMut::new();
            assert!(Numeric(bad.into()).encode(&mut out).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uuids_round_trip_and_bad_ones_are_refused() {
        let text = "12345678-1234-1234-1234-123456789abc";
        let mut out = BytesMut::new();
        Uuid(text.into()).to_sql(&Type::UUID, &mut out).unwrap();
        assert_eq!(out.len(), 16);
        assert_eq!(Uuid::from_sql(&Type::UUID, &out).unwrap().0, text);
        let mut out = BytesMut::new();
        assert!(Uuid("not-a-uuid".into())
            .to_sql(&Type::UUID, &mut out)
            .is_err());
    }

    #[test]
    fn ranges_round_trip_with_their_bounds() {
        let range = Range {
            lower: Some((30i32, false)),
            upper: None,
            empty: false,
        };
        let mut out = BytesMut::new();
        range.to_sql(&Type::INT4_RANGE, &mut out).unwrap();
        assert_eq!(out[0], RANGE_UPPER_INFINITE);
        assert_eq!(
            Range::<i32>::from_sql(&Type::INT4_RANGE, &out).unwrap(),
            range
        );
    }
}
