// `@spinframework/spin-mqtt`: spin-js-sdk's MQTT module, with its names and shapes, over
// Rotor's MQTT connections. Built into `rotor js build`: an app imports it without npm.

/** The delivery guarantees a message is published with. */
export const QoS = Object.freeze({
  AtMostOnce: "at-most-once",
  AtLeastOnce: "at-least-once",
  ExactlyOnce: "exactly-once",
});

const LEVELS = { "at-most-once": 0, "at-least-once": 1, "exactly-once": 2 };

/**
 * Opens a connection to the broker at `address` (`mqtt://host:port`), which the manifest's
 * `allowed_outbound_hosts` must grant.
 */
export function open(address, username, password, keepAliveIntervalInSecs) {
  const connection = Rotor.mqtt.open(address, username, password, Number(keepAliveIntervalInSecs));
  return {
    /** Publishes `payload` (bytes) to `topic` with `qos`, a `QoS` value. */
    publish: (topic, payload, qos) => {
      if (!(qos in LEVELS)) throw new TypeError(`qos is one of ${Object.keys(LEVELS).join(", ")}, not ${qos}`);
      connection.publish(topic, payload, LEVELS[qos]);
    },
  };
}
