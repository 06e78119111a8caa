//! PostgreSQL over `fermyon:spin/postgres@2.0.0`.
//!
//! The host connects only to addresses the manifest grants in `allowed_outbound_hosts`
//! (`postgres://host:port`); anything else is `Error::ConnectionFailed` and no connection is
//! attempted. Parameters are `$1`, `$2`, …; the shared types, conversions and row access are
//! in [`crate::rdbms`].
//!
//! ```no_run
//! use rotor_sdk::pg::{params, Connection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Connection::open("postgres://app@127.0.0.1:5432/shop")?;
//! let changed = db.execute("UPDATE items SET price = $1 WHERE id = $2", params![9.5, 3])?;
//! let result = db.query("SELECT name FROM items WHERE id = $1", params![3])?;
//! let name: Option<String> = result.rows().next().map(|row| row.get("name")).transpose()?;
//! # let _ = (changed, name); Ok(()) }
//! ```

use crate::bindings::platform::fermyon::spin2_0_0::postgres;

/// A connection to one PostgreSQL database: `open(address)`, `query(statement, params)`
/// (rows) and `execute(statement, params)` (the number of rows changed), straight from the
/// WIT.
#[doc(inline)]
pub use postgres::Connection;

#[doc(inline)]
pub use crate::rdbms::{
    params, Column, DbDataType, DbValue, Decode, Error, ParameterValue, Row, RowError, RowSet,
};
