// `@spinframework/spin-trigger-redis`: spin-js-sdk's Redis trigger. An app extends
// `RedisHandler` and exports an instance as `inboundRedis`; each message on the manifest's
// channel calls its `handleMessage(payload)` with the payload's bytes.

export class RedisHandler {
  /** Handles one message; a throw or a rejection skips it. */
  async handleMessage(_payload) {
    throw new TypeError("RedisHandler.handleMessage is abstract: override it in your handler class");
  }
}
