// `@spinframework/spin-mysql`: spin-js-sdk's MySQL module, with its names and shapes, over
// Rotor's MySQL connections. Built into `rotor js build`: an app imports it without npm.

/**
 * Opens a connection to the database at `address` (`mysql://user@host:port/database`),
 * which the manifest's `allowed_outbound_hosts` must grant.
 */
export function open(address) {
  const database = Rotor.mysql.open(address);
  return {
    /**
     * Runs a query with `?` bound to `params` (numbers, BigInts, booleans, strings, `null`,
     * Uint8Arrays or tagged values) and returns `{columns, rows}`: columns are `{name,
     * dataType}`, each row an object keyed by column name, with 64-bit integers as BigInts
     * and NULL as `null`.
     */
    query: (statement, params = []) => {
      const { columns, rows } = database.queryTagged(statement, params);
      const value = ({ tag, val }) => (tag === "db-null" || tag === "unsupported" ? null : val);
      return {
        columns,
        rows: rows.map((values) => Object.fromEntries(values.map((v, at) => [columns[at].name, value(v)]))),
      };
    },
    /** Runs a statement; MySQL's interface returns nothing. */
    execute: (statement, params = []) => {
      database.execute(statement, params);
    },
  };
}
