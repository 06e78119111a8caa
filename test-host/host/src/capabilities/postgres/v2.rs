//! `fermyon:spin/postgres@2.0.0`, answered by the 4.0.0 code: parameters are widened to the
//! newer interface's values, and results narrowed back. What Spin 2's types cannot carry
//! (dates, UUIDs, ...) reads as `unsupported`, as it always has.

use super::bindings::fermyon::spin2_0_0::postgres;
use super::bindings::fermyon::spin2_0_0::rdbms_types::{
    Column, DbDataType, DbValue, Error, ParameterValue, RowSet,
};
use super::bindings::spin::postgres4_0_0::postgres as pg4;

fn widen(value: ParameterValue) -> pg4::ParameterValue {
    use pg4::ParameterValue as New;
    match value {
        ParameterValue::Boolean(b) => New::Boolean(b),
        ParameterValue::Int8(i) => New::Int8(i),
        ParameterValue::Int16(i) => New::Int16(i),
        ParameterValue::Int32(i) => New::Int32(i),
        ParameterValue::Int64(i) => New::Int64(i),
        ParameterValue::Uint8(u) => New::Int16(u.into()),
        ParameterValue::Uint16(u) => New::Int32(u.into()),
        ParameterValue::Uint32(u) => New::Int64(u.into()),
        ParameterValue::Uint64(u) => match i64::try_from(u) {
            Ok(i) => New::Int64(i),
            Err(_) => New::Decimal(u.to_string()),
        },
        ParameterValue::Floating32(f) => New::Floating32(f),
        ParameterValue::Floating64(f) => New::Floating64(f),
        ParameterValue::Str(s) => New::Str(s),
        ParameterValue::Binary(b) => New::Binary(b),
        ParameterValue::DbNull => New::DbNull,
    }
}

fn narrow_type(ty: &pg4::DbDataType) -> DbDataType {
    use pg4::DbDataType as New;
    match ty {
        New::Boolean => DbDataType::Boolean,
        New::Int8 => DbDataType::Int8,
        New::Int16 => DbDataType::Int16,
        New::Int32 => DbDataType::Int32,
        New::Int64 => DbDataType::Int64,
        New::Floating32 => DbDataType::Floating32,
        New::Floating64 => DbDataType::Floating64,
        New::Str => DbDataType::Str,
        New::Binary => DbDataType::Binary,
        _ => DbDataType::Other,
    }
}

fn narrow_value(value: pg4::DbValue) -> DbValue {
    use pg4::DbValue as New;
    match value {
        New::Boolean(b) => DbValue::Boolean(b),
        New::Int8(i) => DbValue::Int8(i),
        New::Int16(i) => DbValue::Int16(i),
        New::Int32(i) => DbValue::Int32(i),
        New::Int64(i) => DbValue::Int64(i),
        New::Floating32(f) => DbValue::Floating32(f),
        New::Floating64(f) => DbValue::Floating64(f),
        New::Str(s) => DbValue::Str(s),
        New::Binary(b) => DbValue::Binary(b),
        New::DbNull => DbValue::DbNull,
        _ => DbValue::Unsupported,
    }
}

super::older_interface!(postgres, Error, ParameterValue, RowSet, Column);
