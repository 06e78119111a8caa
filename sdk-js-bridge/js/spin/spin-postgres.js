// `@spinframework/spin-postgres`: spin-js-sdk's PostgreSQL module, with its names and shapes,
// over Rotor's PostgreSQL connections. Built into `rotor js build`: an app imports it without
// npm.

/** The column types spin-js-sdk names, as `PostgresV3DataType`. */
export const PostgresV3DataType = Object.freeze({
  PostgresV3Boolean: "boolean",
  PostgresV3Int8: "int8",
  PostgresV3Int16: "int16",
  PostgresV3Int32: "int32",
  PostgresV3Int64: "int64",
  PostgresV3Floating32: "floating32",
  PostgresV3Floating64: "floating64",
  PostgresV3Str: "str",
  PostgresV3Binary: "binary",
  PostgresV3Date: "date",
  PostgresV3Time: "time",
  PostgresV3DateTime: "datetime",
  PostgresV3TimeStamp: "timestamp",
  PostgresV3Other: "other",
});

/** A column value as spin-js-sdk gives it: dates and times as UTC `Date`s, NULL as `null`. */
function rowValue({ tag, val }) {
  switch (tag) {
    case "date": {
      const [year, month, day] = val;
      return new Date(Date.UTC(year, month - 1, day));
    }
    case "time": {
      const [hour, minute, second, nanosecond] = val;
      return new Date(Date.UTC(1970, 0, 1, hour, minute, second, nanosecond / 1_000_000));
    }
    case "datetime": {
      const [year, month, day, hour, minute, second, nanosecond] = val;
      return new Date(Date.UTC(year, month - 1, day, hour, minute, second, nanosecond / 1_000_000));
    }
    case "timestamp":
      return new Date(Number(val) * 1000);
    case "db-null":
    case "unsupported":
      return null;
    default:
      return val;
  }
}

/**
 * Opens a connection to the database at `address` (`postgres://user@host:port/database`),
 * which the manifest's `allowed_outbound_hosts` must grant.
 */
export function open(address) {
  const database = Rotor.pg.open(address);
  return {
    /**
     * Runs a query with `$1`, `$2`, ... bound to `params` (numbers, BigInts, booleans,
     * strings, `null`, Uint8Arrays or tagged values) and returns `{columns, rows}`: columns
     * are `{name, dataType}`, each row an object keyed by column name.
     */
    query: (statement, params = []) => {
      const { columns, rows } = database.queryTagged(statement, params);
      return {
        columns,
        rows: rows.map((values) => Object.fromEntries(values.map((value, at) => [columns[at].name, rowValue(value)]))),
      };
    },
    /** Runs a statement; how many rows it changed, as a BigInt. */
    execute: (statement, params = []) => BigInt(database.execute(statement, params)),
  };
}
