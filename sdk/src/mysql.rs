//! MySQL and MariaDB over `fermyon:spin/mysql@2.0.0`.
//!
//! The host connects only to addresses the manifest grants in `allowed_outbound_hosts`
//! (`mysql://host:port`); anything else is `Error::ConnectionFailed` and no connection is
//! attempted. Parameters are `?`; the shared types, conversions and row access are in
//! [`crate::rdbms`].
//!
//! ```no_run
//! use rotor_sdk::mysql::{params, Connection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Connection::open("mysql://root@127.0.0.1:3306/inventory")?;
//! db.execute("INSERT INTO stock (sku, quantity) VALUES (?, ?)", params!["A-1", 5u32])?;
//! let result = db.query("SELECT quantity FROM stock WHERE sku = ?", params!["A-1"])?;
//! for row in result.rows() {
//!     let quantity: u32 = row.get("quantity")?;
//!     println!("{quantity}");
//! }
//! # Ok(()) }
//! ```

use crate::bindings::platform::fermyon::spin2_0_0::mysql;

/// A connection to one MySQL database: `open(address)`, `query(statement, params)` (rows)
/// and `execute(statement, params)` (no rows), straight from the WIT.
#[doc(inline)]
pub use mysql::Connection;

#[doc(inline)]
pub use crate::rdbms::{
    params, Column, DbDataType, DbValue, Decode, Error, ParameterValue, Row, RowError, RowSet,
};
