// `@spinframework/spin-kv`: spin-js-sdk's key-value module, with its names and shapes, over
// Rotor's key-value stores. Built into `rotor js build`: an app imports it without npm.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function storeOf(store) {
  return {
    /** The value under `key` as bytes, or `null`. */
    get: (key) => store.get(key),
    /** Keeps `value` under `key`: bytes as they are, a string as UTF-8, anything else as JSON. */
    set: (key, value) => {
      if (!(value instanceof Uint8Array)) {
        value = typeof value === "string" ? encoder.encode(value) : encoder.encode(JSON.stringify(value));
      }
      store.set(key, value);
    },
    delete: (key) => store.delete(key),
    exists: (key) => store.exists(key),
    getKeys: () => store.keys(),
    /** The value under `key` parsed as JSON; as in spin-js-sdk, a missing key throws a `SyntaxError`. */
    getJson: (key) => JSON.parse(decoder.decode(store.get(key) ?? new Uint8Array())),
    setJson: (key, value) => store.set(key, encoder.encode(JSON.stringify(value))),
  };
}

/** Opens the store `label` grants in the manifest's `key_value_stores`. */
export function open(label) {
  return storeOf(Rotor.kv.open(label));
}

/** Opens the store named `default`. */
export function openDefault() {
  return storeOf(Rotor.kv.open("default"));
}
