// `@spinframework/spin-variables`: spin-js-sdk's variables module, over Rotor's variables.
// Built into `rotor js build`: an app imports it without npm.

/** The component variable `key`, or `null` when it is undefined or cannot be read. */
export function get(key) {
  try {
    return Rotor.variables.get(key);
  } catch {
    return null;
  }
}
