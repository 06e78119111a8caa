// `@spinframework/spin-sqlite`: spin-js-sdk's SQLite module, with its names and shapes, over
// Rotor's SQLite databases. Built into `rotor js build`: an app imports it without npm.

function connectionOf(database) {
  return {
    /**
     * Runs `statement` with `parameters` (numbers, BigInts, strings, `null`, Uint8Arrays or
     * tagged values such as `{tag: "integer", val: 1n}`) and returns `{columns, rows}`, each
     * row an object keyed by column name. As in spin-js-sdk, integers are BigInts, reals
     * numbers, text strings, blobs Uint8Arrays, and NULL `undefined`.
     */
    execute: (statement, parameters = []) => {
      const { columns, rows } = database.queryTagged(statement, parameters);
      return {
        columns,
        rows: rows.map((values) => Object.fromEntries(values.map((value, at) => [columns[at], value.val]))),
      };
    },
  };
}

/** Opens the database `label` grants in the manifest's `sqlite_databases`. */
export function open(label) {
  return connectionOf(Rotor.sqlite.open(label));
}

/** Opens the database named `default`. */
export function openDefault() {
  return connectionOf(Rotor.sqlite.open("default"));
}
