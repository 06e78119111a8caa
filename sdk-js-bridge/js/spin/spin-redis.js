// `@spinframework/spin-redis`: spin-js-sdk's Redis module, with its names and shapes, over
// Rotor's Redis connections. Built into `rotor js build`: an app imports it without npm.

/**
 * Opens a connection to the Redis server at `address` (`redis://host:port`), which the
 * manifest's `allowed_outbound_hosts` must grant.
 */
export function open(address) {
  const redis = Rotor.redis.open(address);
  return {
    publish: (channel, payload) => redis.publish(channel, payload),
    /** The value under `key` as bytes, or `undefined`. */
    get: (key) => redis.get(key) ?? undefined,
    set: (key, value) => redis.set(key, value),
    /** Increments the integer under `key`; its new value, as a BigInt. */
    incr: (key) => BigInt(redis.incr(key)),
    /** Deletes `keys`; how many there were. */
    del: (keys) => redis.del(...keys),
    sadd: (key, values) => redis.sadd(key, ...values),
    smembers: (key) => redis.smembers(key),
    srem: (key, values) => redis.srem(key, ...values),
    /**
     * Runs any command: `args` are `{tag: "int64", val: bigint}` or `{tag: "binary", val:
     * Uint8Array}`, the results `{tag: "nil" | "status" | "int64" | "binary", val}`.
     */
    execute: (command, args = []) => redis.executeTagged(command, args),
  };
}
