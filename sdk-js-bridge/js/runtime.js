// Rotor's JavaScript runtime: the web's Request, Response, Headers, URL, URLSearchParams,
// TextEncoder, TextDecoder and fetch, atob/btoa, crypto (random values, digests, HMAC),
// timers and queueMicrotask, AbortController, ReadableStream bodies, the fetch event, and
// the `Rotor` capabilities. It runs
// before the app, in the same realm. Everything reaches the host through one native
// function, `__rotor_call(op, argumentsJson) -> replyJson`, which this script takes off the
// global object before the app can see it.
(() => {
  "use strict";
  const hostCall = globalThis.__rotor_call;
  delete globalThis.__rotor_call;

  /** The kinds of failure whose WIT variant carries a message; the others carry nothing. */
  const KINDS_WITH_MESSAGE = new Set([
    "other", "io", "connection-failed", "bad-parameter", "query-failed", "value-conversion-failed",
    "invalid-name", "undefined", "provider",
  ]);

  /** A failure reported by the host: `kind` names it (`access-denied`, `denied`, ...). */
  class RotorError extends Error {
    constructor(kind, message) {
      super(message);
      this.name = "RotorError";
      this.kind = kind;
    }

    /**
     * The error as the interface's variant, `{tag}` or `{tag, val}`: what apps written for
     * spin-js-sdk read as `e.payload`.
     */
    get payload() {
      return KINDS_WITH_MESSAGE.has(this.kind) ? { tag: this.kind, val: this.message } : { tag: this.kind };
    }
  }

  function invoke(op, args) {
    const reply = JSON.parse(hostCall(op, JSON.stringify(args === undefined ? {} : args)));
    if (reply.error) throw new RotorError(reply.error.kind, reply.error.message);
    return reply.ok;
  }

  // ---- bytes ---------------------------------------------------------------------------

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

  function toBase64(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < bytes.length ? B64[n & 63] : "=";
    }
    return out;
  }

  function fromBase64(text) {
    const clean = text.replace(/=+$/, "");
    const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
    let bits = 0, value = 0, at = 0;
    for (const c of clean) {
      value = (value << 6) | B64_INDEX.get(c);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes[at++] = (value >> bits) & 255;
      }
    }
    return bytes;
  }

  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(text = "") {
      const out = [];
      for (const ch of String(text)) {
        const c = ch.codePointAt(0);
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
  }

  class TextDecoder {
    get encoding() { return "utf-8"; }
    decode(input) {
      if (input === undefined) return "";
      const bytes = input instanceof Uint8Array ? input : new Uint8Array(input.buffer ?? input);
      let out = "";
      for (let i = 0; i < bytes.length; ) {
        const b = bytes[i];
        let c, n;
        if (b < 0x80) { c = b; n = 1; }
        else if (b >= 0xf0) { c = b & 7; n = 4; }
        else if (b >= 0xe0) { c = b & 15; n = 3; }
        else if (b >= 0xc0) { c = b & 31; n = 2; }
        else { c = 0xfffd; n = 1; }
        for (let k = 1; k < n; k++) {
          const next = bytes[i + k];
          if (next === undefined || (next & 0xc0) !== 0x80) { c = 0xfffd; n = k; break; }
          c = (c << 6) | (next & 63);
        }
        out += String.fromCodePoint(c > 0x10ffff ? 0xfffd : c);
        i += n;
      }
      return out;
    }
  }

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  /** Bytes from what JavaScript code may pass as a body or value. */
  function toBytes(value) {
    if (value === undefined || value === null) return null;
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof URLSearchParams) return encoder.encode(value.toString());
    return encoder.encode(String(value));
  }

  // ---- URL -----------------------------------------------------------------------------

  // Regular expressions are compiled where their literal is evaluated: these are evaluated
  // once, not on each call.
  const PLUS = /\+/g;
  const ENCODED_SPACE = /%20/g;
  const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
  const LAST_SEGMENT = /[^/]*$/;

  function decodeForm(text) {
    return decodeURIComponent(text.replace(PLUS, " "));
  }

  function encodeForm(text) {
    return encodeURIComponent(text).replace(ENCODED_SPACE, "+");
  }

  class URLSearchParams {
    #pairs = [];
    #owner = null;
    constructor(init = "") {
      if (typeof init === "string") {
        const query = init.startsWith("?") ? init.slice(1) : init;
        for (const part of query.split("&")) {
          if (part === "") continue;
          const at = part.indexOf("=");
          this.#pairs.push(at < 0 ? [decodeForm(part), ""] : [decodeForm(part.slice(0, at)), decodeForm(part.slice(at + 1))]);
        }
      } else if (init instanceof URLSearchParams) {
        this.#pairs = [...init];
      } else if (Array.isArray(init)) {
        this.#pairs = init.map(([k, v]) => [String(k), String(v)]);
      } else if (init && typeof init === "object") {
        this.#pairs = Object.entries(init).map(([k, v]) => [k, String(v)]);
      }
    }
    static _attach(params, url) { params.#owner = url; return params; }
    #changed() { if (this.#owner) this.#owner._setSearch(this.toString()); }
    get size() { return this.#pairs.length; }
    get(name) { const pair = this.#pairs.find(([k]) => k === name); return pair ? pair[1] : null; }
    getAll(name) { return this.#pairs.filter(([k]) => k === name).map(([, v]) => v); }
    has(name) { return this.#pairs.some(([k]) => k === name); }
    append(name, value) { this.#pairs.push([String(name), String(value)]); this.#changed(); }
    set(name, value) {
      const at = this.#pairs.findIndex(([k]) => k === name);
      this.#pairs = this.#pairs.filter(([k], i) => k !== name || i === at);
      if (at < 0) this.#pairs.push([String(name), String(value)]);
      else this.#pairs[this.#pairs.findIndex(([k]) => k === name)][1] = String(value);
      this.#changed();
    }
    delete(name) { this.#pairs = this.#pairs.filter(([k]) => k !== name); this.#changed(); }
    forEach(callback, thisArg) { for (const [k, v] of this.#pairs) callback.call(thisArg, v, k, this); }
    entries() { return this.#pairs.map((p) => [...p])[Symbol.iterator](); }
    keys() { return this.#pairs.map(([k]) => k)[Symbol.iterator](); }
    values() { return this.#pairs.map(([, v]) => v)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this.#pairs.map(([k, v]) => `${encodeForm(k)}=${encodeForm(v)}`).join("&"); }
  }

  const URL_PATTERN = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?([^?#]*)(\?[^#]*)?(#.*)?$/;
  const DEFAULT_PORTS = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443" };

  class URL {
    #protocol; #username; #password; #hostname; #port; #pathname; #search; #hash; #params;
    constructor(input, base) {
      let text = String(input).trim();
      // Most URLs are http or https: those skip a run of the regular expression engine.
      if (!text.startsWith("http://") && !text.startsWith("https://") && !SCHEME.test(text)) {
        if (base === undefined) throw new TypeError(`Invalid URL: ${text}`);
        const root = new URL(base);
        if (text.startsWith("//")) text = root.protocol + text;
        else if (text.startsWith("/")) text = root.origin + text;
        else if (text.startsWith("?")) text = root.origin + root.pathname + text;
        else if (text.startsWith("#")) text = root.origin + root.pathname + root.search + text;
        else text = root.origin + root.pathname.replace(LAST_SEGMENT, "") + text;
      }
      const m = URL_PATTERN.exec(text);
      if (!m) throw new TypeError(`Invalid URL: ${text}`);
      this.#protocol = m[1].toLowerCase() + ":";
      const [user = "", pass = ""] = (m[2] ?? "").split(":");
      this.#username = user;
      this.#password = pass;
      this.#hostname = m[3].toLowerCase();
      this.#port = m[4] && m[4] !== DEFAULT_PORTS[this.#protocol] ? m[4] : "";
      this.#pathname = URL.#normalizePath(m[5] || "/");
      this.#search = m[6] && m[6] !== "?" ? m[6] : "";
      this.#hash = m[7] && m[7] !== "#" ? m[7] : "";
      this.#params = URLSearchParams._attach(new URLSearchParams(this.#search), this);
    }
    static #normalizePath(path) {
      const out = [];
      for (const segment of path.split("/").slice(1)) {
        if (segment === "..") out.pop();
        else if (segment !== ".") out.push(segment);
      }
      return "/" + out.join("/");
    }
    _setSearch(query) { this.#search = query ? "?" + query : ""; }
    get protocol() { return this.#protocol; }
    get username() { return this.#username; }
    get password() { return this.#password; }
    get hostname() { return this.#hostname; }
    get port() { return this.#port; }
    get host() { return this.#port ? `${this.#hostname}:${this.#port}` : this.#hostname; }
    get origin() { return `${this.#protocol}//${this.host}`; }
    get pathname() { return this.#pathname; }
    set pathname(value) { this.#pathname = URL.#normalizePath(String(value).startsWith("/") ? String(value) : "/" + value); }
    get search() { return this.#search; }
    set search(value) {
      const text = String(value);
      this.#search = text === "" || text === "?" ? "" : text.startsWith("?") ? text : "?" + text;
      this.#params = URLSearchParams._attach(new URLSearchParams(this.#search), this);
    }
    get searchParams() { return this.#params; }
    get hash() { return this.#hash; }
    get href() {
      const credentials = this.#username ? `${this.#username}${this.#password ? ":" + this.#password : ""}@` : "";
      return `${this.#protocol}//${credentials}${this.host}${this.#pathname}${this.#search}${this.#hash}`;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }

  // ---- Headers, bodies, Request, Response ------------------------------------------------

  class Headers {
    #map = new Map();
    constructor(init) {
      if (init instanceof Headers) init.forEach((value, name) => this.append(name, value));
      else if (Array.isArray(init)) for (const [name, value] of init) this.append(name, value);
      else if (init && typeof init === "object") for (const name of Object.keys(init)) this.append(name, init[name]);
    }
    append(name, value) {
      const key = String(name).toLowerCase();
      const values = this.#map.get(key) ?? [];
      values.push(String(value).trim());
      this.#map.set(key, values);
    }
    set(name, value) { this.#map.set(String(name).toLowerCase(), [String(value).trim()]); }
    get(name) {
      const values = this.#map.get(String(name).toLowerCase());
      return values ? values.join(", ") : null;
    }
    getSetCookie() { return [...(this.#map.get("set-cookie") ?? [])]; }
    has(name) { return this.#map.has(String(name).toLowerCase()); }
    delete(name) { this.#map.delete(String(name).toLowerCase()); }
    forEach(callback, thisArg) { for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this); }
    entries() { return [...this.#map.keys()].sort().map((name) => [name, this.get(name)])[Symbol.iterator](); }
    keys() { return [...this.#map.keys()].sort()[Symbol.iterator](); }
    values() { return [...this.entries()].map(([, value]) => value)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    /** Every value of every header, each on its own, for the host. */
    _pairs() { const out = []; for (const [name, values] of this.#map) for (const value of values) out.push([name, value]); return out; }
  }

  class Body {
    #bytes = null;
    // A string body stays a string until its bytes are asked for: most responses are sent
    // as they were made, and the host takes the text as it is.
    #text = null;
    #stream = null;
    #used = false;
    constructor(body) {
      if (body instanceof ReadableStream) this.#stream = body;
      else if (typeof body === "string") this.#text = body;
      else this.#bytes = toBytes(body);
    }
    get body() { return this.#stream ?? this._peekBytes(); }
    get bodyUsed() { return this.#used; }
    async #take() {
      if (this.#used) throw new TypeError("the body has already been read");
      this.#used = true;
      if (this.#stream) return collect(this.#stream);
      return this._peekBytes() ?? new Uint8Array(0);
    }
    async bytes() { return this.#take(); }
    async arrayBuffer() { return arrayBufferOf(await this.#take()); }
    async text() {
      if (this.#text !== null && !this.#used) { this.#used = true; return this.#text; }
      return decoder.decode(await this.#take());
    }
    async json() { return JSON.parse(await this.text()); }
    async formData() { return new URLSearchParams(await this.text()); }
    _peekBytes() {
      if (this.#text !== null && this.#bytes === null) this.#bytes = encoder.encode(this.#text);
      return this.#bytes;
    }
    /** The body as the string it was made from, when it was made from one. */
    _peekText() { return this.#bytes === null ? this.#text : null; }
    /** The body's stream, for the host to send as it is produced; it counts as read. */
    _takeStream() {
      if (!this.#stream) return null;
      this.#used = true;
      return this.#stream;
    }
  }

  /** The content type a body implies, as the Rust SDK's responses say it. */
  function impliedType(body) {
    if (typeof body === "string") return "text/plain; charset=utf-8";
    if (body instanceof URLSearchParams) return "application/x-www-form-urlencoded";
    return null;
  }

  /** Marks the request the host handed in, whose parts need no checking. */
  const INCOMING = Symbol("incoming request");

  class Request extends Body {
    #url; #method; #headers; #headerPairs;
    constructor(input, init = {}) {
      if (input === INCOMING) {
        // The host's URL is absolute and its method and header names are canonical; the
        // headers are made into a `Headers` only if the app looks at them.
        super(init.body);
        this.#url = init.url;
        this.#method = init.method;
        this.#headerPairs = init.headers;
        return;
      }
      const from = input instanceof Request ? input : null;
      super(init.body !== undefined ? init.body : from ? from._peekBytes() : null);
      this.#url = new URL(from ? from.url : String(input)).href;
      this.#method = String(init.method ?? from?.method ?? "GET").toUpperCase();
      this.#headers = new Headers(init.headers ?? from?.headers);
      const type = impliedType(init.body);
      if (type && !this.#headers.has("content-type")) this.#headers.set("content-type", type);
    }
    get url() { return this.#url; }
    get method() { return this.#method; }
    get headers() { return (this.#headers ??= new Headers(this.#headerPairs)); }
    clone() { return new Request(this); }
  }

  const STATUS_TEXT = { 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 415: "Unsupported Media Type", 422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };

  class Response extends Body {
    #status; #statusText; #headers = null; #headersInit; #impliedType;
    constructor(body = null, init = {}) {
      super(body);
      this.#status = init.status ?? 200;
      if (!Number.isInteger(this.#status) || this.#status < 200 || this.#status > 599) {
        throw new RangeError(`status ${init.status} is not an HTTP status from 200 to 599`);
      }
      this.#statusText = init.statusText ?? STATUS_TEXT[this.#status] ?? "";
      // The `Headers` are made when the app looks at them; a response sent as it was made
      // goes without.
      this.#headersInit = init.headers;
      this.#impliedType = impliedType(body);
    }
    static json(data, init = {}) {
      const response = new Response(JSON.stringify(data), init);
      // As for any body, the type applies unless the app's headers name one.
      response.#impliedType = "application/json";
      return response;
    }
    /** Every value of every header, each on its own, for the host. */
    _headerPairs() {
      if (this.#headers === null && this.#headersInit === undefined) {
        return this.#impliedType ? [["content-type", this.#impliedType]] : [];
      }
      return this.headers._pairs();
    }
    static redirect(url, status = 302) {
      return new Response(null, { status, headers: { location: new URL(url).href } });
    }
    static error() { return new Response(null, { status: 500 }); }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status < 300; }
    get headers() {
      if (this.#headers === null) {
        this.#headers = new Headers(this.#headersInit);
        const type = this.#impliedType;
        if (type && !this.#headers.has("content-type")) this.#headers.set("content-type", type);
      }
      return this.#headers;
    }
    get redirected() { return false; }
    clone() { return new Response(this._peekBytes(), { status: this.#status, statusText: this.#statusText, headers: this.headers }); }
  }

  // ---- outbound fetch --------------------------------------------------------------------

  /** Sends a request through the host; only hosts in `allowed_outbound_hosts` are reached. */
  async function fetch(input, init) {
    const request = new Request(input, init);
    const signal = init?.signal ?? null;
    signal?.throwIfAborted();
    // No JavaScript runs while the host sends, so an `AbortSignal.timeout` is the one abort
    // that can happen meanwhile: its time left goes to the host as the request's limit.
    const deadline = signal?.[DEADLINE];
    const timeoutMs = deadline === undefined ? undefined : Math.max(0, deadline - now());
    const body = request.body instanceof ReadableStream ? await request.bytes() : request._peekBytes();
    let reply;
    try {
      reply = invoke("http.send", {
        method: request.method,
        url: request.url,
        headers: request.headers._pairs(),
        body: body ? toBase64(body) : null,
        timeoutMs,
      });
    } catch (error) {
      if (deadline !== undefined && error instanceof RotorError && error.kind === "timeout") {
        signal[ABORT](new DOMException("The operation timed out.", "TimeoutError"));
        throw signal.reason;
      }
      throw error;
    }
    return new Response(reply.status === 204 || reply.status === 304 ? null : fromBase64(reply.body), {
      status: reply.status,
      headers: reply.headers,
    });
  }

  // ---- capabilities ----------------------------------------------------------------------

  function valueBytes(value) {
    if (value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value) || typeof value === "string") return toBytes(value);
    return encoder.encode(JSON.stringify(value));
  }

  class Store {
    #handle;
    constructor(handle) { this.#handle = handle; }
    get(key) { const value = invoke("kv.get", { store: this.#handle, key }); return value === null ? null : fromBase64(value); }
    getText(key) { const value = this.get(key); return value === null ? null : decoder.decode(value); }
    getJson(key) { const value = this.getText(key); return value === null ? null : JSON.parse(value); }
    set(key, value) { invoke("kv.set", { store: this.#handle, key, value: toBase64(valueBytes(value)) }); }
    setJson(key, value) { this.set(key, encoder.encode(JSON.stringify(value))); }
    delete(key) { invoke("kv.delete", { store: this.#handle, key }); }
    exists(key) { return invoke("kv.exists", { store: this.#handle, key }); }
    keys() { return invoke("kv.keys", { store: this.#handle }); }
  }

  /**
   * SQL parameters: numbers, strings, booleans, null, bytes, and the interfaces' own tagged
   * values (`{tag: "int64", val: 5n}`), whose tag gives way to the value's JavaScript type.
   */
  function sqlParams(params = []) {
    return params.map(sqlParam);
  }

  function sqlParam(value) {
    if (value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return { bytes: toBase64(toBytes(value)) };
    if (typeof value === "bigint") return { int: value.toString() };
    if (value instanceof Date) return value.toISOString();
    if (value !== null && typeof value === "object" && typeof value.tag === "string") return sqlParam(value.val ?? null);
    return value === undefined ? null : value;
  }

  /** The tags whose values are 64-bit integers (BigInts) or bytes (Uint8Arrays). */
  const BIGINT_TAGS = new Set(["integer", "int64", "uint64", "timestamp"]);
  const BYTES_TAGS = new Set(["blob", "binary"]);

  /** `[tag]` or `[tag, val]` from the host as the interface's variant, `{tag}` or `{tag, val}`. */
  function fromTagged([tag, val]) {
    if (val === undefined) return { tag };
    if (BIGINT_TAGS.has(tag)) return { tag, val: BigInt(val) };
    if (BYTES_TAGS.has(tag)) return { tag, val: fromBase64(val) };
    return { tag, val };
  }

  function toTagged({ tag, val }) {
    if (tag === "int64") return [tag, BigInt(val).toString()];
    if (tag === "binary") return [tag, toBase64(valueBytes(val))];
    throw new TypeError(`a Redis parameter is {tag: "int64", val} or {tag: "binary", val}, not {tag: ${JSON.stringify(tag)}}`);
  }

  class Database {
    #kind; #handle;
    constructor(kind, handle) { this.#kind = kind; this.#handle = handle; }
    /** Runs a statement that returns rows: an array of objects keyed by column name. */
    query(statement, params) { return invoke(`${this.#kind}.query`, { db: this.#handle, statement, params: sqlParams(params) }); }
    /** Runs a statement and returns the number of rows it changed (where the database says). */
    execute(statement, params) { return invoke(`${this.#kind}.execute`, { db: this.#handle, statement, params: sqlParams(params) }); }
    /**
     * Runs a statement and returns its result as the interface defines it: `columns` (names
     * for SQLite; `{name, dataType}` for PostgreSQL and MySQL) and `rows`, each an array of
     * tagged values, `{tag: "int64", val: 5n}`, with 64-bit integers as BigInts and bytes as
     * Uint8Arrays.
     */
    queryTagged(statement, params) {
      const { columns, rows } = invoke(`${this.#kind}.tagged`, { db: this.#handle, statement, params: sqlParams(params) });
      return { columns, rows: rows.map((row) => row.map(fromTagged)) };
    }
  }

  class RedisConnection {
    #handle;
    constructor(handle) { this.#handle = handle; }
    #call(command, args) { return invoke("redis.command", { conn: this.#handle, command, args }); }
    publish(channel, payload) { this.#call("publish", [channel, toBase64(valueBytes(payload))]); }
    get(key) { const value = this.#call("get", [key]); return value === null ? null : fromBase64(value); }
    getText(key) { const value = this.get(key); return value === null ? null : decoder.decode(value); }
    set(key, value) { this.#call("set", [key, toBase64(valueBytes(value))]); }
    incr(key) { return this.#call("incr", [key]); }
    del(...keys) { return this.#call("del", keys); }
    sadd(key, ...members) { return this.#call("sadd", [key, ...members]); }
    smembers(key) { return this.#call("smembers", [key]); }
    srem(key, ...members) { return this.#call("srem", [key, ...members]); }
    execute(name, ...args) { return this.#call("execute", [name, ...args.map((a) => (typeof a === "number" ? a : String(a)))]); }
    /**
     * Runs any command with the interface's own values: parameters `{tag: "int64", val}` or
     * `{tag: "binary", val}`, results `{tag: "nil" | "status" | "int64" | "binary", val}`.
     */
    executeTagged(name, params = []) { return this.#call("execute-tagged", [name, ...params.map(toTagged)]).map(fromTagged); }
  }

  class MqttConnection {
    #handle;
    constructor(handle) { this.#handle = handle; }
    publish(topic, payload, qos = 1) { invoke("mqtt.publish", { conn: this.#handle, topic, payload: toBase64(valueBytes(payload)), qos }); }
  }

  const Rotor = Object.freeze({
    RotorError,
    kv: Object.freeze({
      open: (label = "default") => new Store(invoke("kv.open", { label })),
      openDefault: () => new Store(invoke("kv.open", { label: "default" })),
    }),
    sqlite: Object.freeze({
      open: (name = "default") => new Database("sqlite", invoke("sqlite.open", { name })),
      openDefault: () => new Database("sqlite", invoke("sqlite.open", { name: "default" })),
    }),
    pg: Object.freeze({ open: (address) => new Database("pg", invoke("pg.open", { address })) }),
    mysql: Object.freeze({ open: (address) => new Database("mysql", invoke("mysql.open", { address })) }),
    redis: Object.freeze({ open: (address) => new RedisConnection(invoke("redis.open", { address })) }),
    mqtt: Object.freeze({
      open: (address, username = "", password = "", keepAliveSecs = 30) =>
        new MqttConnection(invoke("mqtt.open", { address, username, password, keepAliveSecs })),
    }),
    variables: Object.freeze({ get: (name) => invoke("variables.get", { name }) }),
  });

  // ---- console ---------------------------------------------------------------------------

  function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }

  /** Lines go to the component's stderr, which `rotor up` logs with its name. */
  const console = Object.freeze(Object.fromEntries(
    ["log", "info", "warn", "error", "debug"].map((level) => [
      level,
      (...values) => { invoke(`console.${level}`, { message: values.map(show).join(" ") }); },
    ]),
  ));

  // ---- web platform: DOMException, atob/btoa, crypto, timers, AbortController, streams ----

  const DOMException = globalThis.DOMException ?? class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(message);
      Object.defineProperty(this, "name", { value: name, configurable: true, writable: true });
    }
  };

  /** An uncaught error in a timer or microtask: logged, as a browser reports it. */
  function reportError(error) {
    invoke("console.error", { message: `uncaught ${error?.stack ?? show(error)}` });
  }

  function btoa(data) {
    const text = String(data);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 255) throw new DOMException("btoa: the string has characters outside Latin-1", "InvalidCharacterError");
      bytes[i] = code;
    }
    return toBase64(bytes);
  }

  function atob(data) {
    let text = String(data).replace(/[\t\n\f\r ]/g, "");
    if (text.length % 4 === 0) text = text.replace(/==?$/, "");
    if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
      throw new DOMException("atob: the string is not valid base64", "InvalidCharacterError");
    }
    let out = "";
    for (const byte of fromBase64(text)) out += String.fromCharCode(byte);
    return out;
  }

  function arrayBufferOf(bytes) {
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  /** The bytes of a BufferSource (an ArrayBuffer or a view of one), as Web Crypto takes them. */
  function bufferSource(data, what) {
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new TypeError(`${what} must be an ArrayBuffer or a typed array`);
  }

  /** A host crypto operation; its refusals become the DOMExceptions Web Crypto throws. */
  function cryptoCall(op, args) {
    try {
      return invoke(op, args);
    } catch (error) {
      if (error instanceof RotorError && error.kind === "not-supported") throw new DOMException(error.message, "NotSupportedError");
      if (error instanceof RotorError && error.kind === "quota-exceeded") throw new DOMException(error.message, "QuotaExceededError");
      throw error;
    }
  }

  function algorithmName(algorithm) {
    return String(typeof algorithm === "string" ? algorithm : algorithm?.name ?? "").toUpperCase();
  }

  const KEY_SECRET = Symbol("secret");

  /** A secret key made by `crypto.subtle.importKey`. */
  class CryptoKey {
    constructor(secret, algorithm, extractable, usages) {
      Object.defineProperty(this, KEY_SECRET, { value: secret });
      this.type = "secret";
      this.algorithm = algorithm;
      this.extractable = extractable;
      this.usages = usages;
      Object.freeze(this);
    }
  }

  function hmacKey(algorithm, key, usage) {
    if (algorithmName(algorithm) !== "HMAC") throw new DOMException(`${usage} supports HMAC only`, "NotSupportedError");
    if (!(key instanceof CryptoKey) || key.algorithm.name !== "HMAC") throw new DOMException("the key is not an HMAC key", "InvalidAccessError");
    if (!key.usages.includes(usage)) throw new DOMException(`the key's usages do not include "${usage}"`, "InvalidAccessError");
    return { hash: key.algorithm.hash.name, key: toBase64(key[KEY_SECRET]) };
  }

  const subtle = Object.freeze({
    async digest(algorithm, data) {
      const digest = cryptoCall("crypto.digest", { algorithm: algorithmName(algorithm), data: toBase64(bufferSource(data, "data")) });
      return arrayBufferOf(fromBase64(digest));
    },
    async importKey(format, keyData, algorithm, extractable, usages) {
      if (format !== "raw") throw new DOMException(`importKey supports the "raw" format, not "${format}"`, "NotSupportedError");
      if (algorithmName(algorithm) !== "HMAC") throw new DOMException("importKey supports HMAC keys only", "NotSupportedError");
      const hash = algorithmName(algorithm.hash);
      if (!["SHA-1", "SHA-256", "SHA-384", "SHA-512"].includes(hash)) throw new DOMException(`HMAC with ${hash || "no hash"} is not supported`, "NotSupportedError");
      const secret = bufferSource(keyData, "keyData").slice();
      if (secret.length === 0) throw new DOMException("an HMAC key may not be empty", "DataError");
      return new CryptoKey(secret, { name: "HMAC", hash: { name: hash }, length: secret.length * 8 }, Boolean(extractable), [...usages]);
    },
    async exportKey(format, key) {
      if (format !== "raw") throw new DOMException(`exportKey supports the "raw" format, not "${format}"`, "NotSupportedError");
      if (!(key instanceof CryptoKey) || !key.extractable) throw new DOMException("the key is not extractable", "InvalidAccessError");
      return arrayBufferOf(key[KEY_SECRET]);
    },
    async sign(algorithm, key, data) {
      const mac = cryptoCall("crypto.hmac", { ...hmacKey(algorithm, key, "sign"), data: toBase64(bufferSource(data, "data")) });
      return arrayBufferOf(fromBase64(mac));
    },
    async verify(algorithm, key, signature, data) {
      return cryptoCall("crypto.hmacVerify", {
        ...hmacKey(algorithm, key, "verify"),
        signature: toBase64(bufferSource(signature, "signature")),
        data: toBase64(bufferSource(data, "data")),
      });
    },
  });

  const crypto = Object.freeze({
    subtle,
    getRandomValues(array) {
      if (!ArrayBuffer.isView(array) || array instanceof DataView || array instanceof Float32Array || array instanceof Float64Array) {
        throw new DOMException("getRandomValues fills an integer typed array", "TypeMismatchError");
      }
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      bytes.set(fromBase64(cryptoCall("crypto.random", { length: bytes.length })));
      return array;
    },
    randomUUID() {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
      bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC 4122 variant
      const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  });

  // Timers run when the app has nothing else to do: the engine calls `fireTimer` once no
  // job is left and the handler has not settled, which sleeps until the first timer is due.
  const timers = new Map();
  let lastTimerId = 0;

  function now() { return invoke("timers.now"); }

  function addTimer(callback, delay, args, repeat) {
    if (typeof callback !== "function") throw new TypeError("timers take a function");
    const wait = Math.max(0, Number(delay) || 0);
    const id = ++lastTimerId;
    timers.set(id, { due: now() + wait, callback, args, every: repeat ? wait : null });
    return id;
  }

  function setTimeout(callback, delay = 0, ...args) { return addTimer(callback, delay, args, false); }
  function setInterval(callback, delay = 0, ...args) { return addTimer(callback, delay, args, true); }
  function clearTimeout(id) { timers.delete(id); }

  /** Fires the timer due first, once it is due; `false` when no timer is set. */
  function fireTimer() {
    let first = null;
    for (const entry of timers) if (first === null || entry[1].due < first[1].due) first = entry;
    if (first === null) return false;
    const [id, timer] = first;
    const wait = timer.due - now();
    if (wait > 0) invoke("timers.sleep", { ms: wait });
    if (timer.every === null) timers.delete(id);
    else timer.due = now() + timer.every;
    try {
      timer.callback(...timer.args);
    } catch (error) {
      reportError(error);
    }
    return true;
  }

  function queueMicrotask(callback) {
    if (typeof callback !== "function") throw new TypeError("queueMicrotask takes a function");
    Promise.resolve().then(() => {
      try {
        callback();
      } catch (error) {
        reportError(error);
      }
    });
  }

  const ABORT = Symbol("abort");
  const DEADLINE = Symbol("deadline");
  const NEW_SIGNAL = Symbol("new signal");

  class AbortSignal {
    #aborted = false;
    #reason = undefined;
    #listeners = [];
    onabort = null;
    constructor(token) {
      if (token !== NEW_SIGNAL) throw new TypeError("AbortSignal comes from an AbortController, AbortSignal.abort() or AbortSignal.timeout()");
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    addEventListener(type, listener) { if (type === "abort" && listener) this.#listeners.push(listener); }
    removeEventListener(type, listener) { this.#listeners = this.#listeners.filter((l) => l !== listener); }
    [ABORT](reason) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      const event = { type: "abort", target: this };
      for (const listener of [this.onabort, ...this.#listeners]) {
        try {
          if (typeof listener === "function") listener.call(this, event);
          else listener?.handleEvent?.(event);
        } catch (error) {
          reportError(error);
        }
      }
    }
    static abort(reason) {
      const signal = new AbortSignal(NEW_SIGNAL);
      signal[ABORT](reason);
      return signal;
    }
    static timeout(ms) {
      const signal = new AbortSignal(NEW_SIGNAL);
      signal[DEADLINE] = now() + Math.max(0, Number(ms) || 0);
      setTimeout(() => signal[ABORT](new DOMException("The operation timed out.", "TimeoutError")), ms);
      return signal;
    }
  }

  class AbortController {
    #signal;
    // Set here rather than by a field initializer, which boa evaluates where the runtime's
    // bindings are not yet in scope.
    constructor() { this.#signal = new AbortSignal(NEW_SIGNAL); }
    get signal() { return this.#signal; }
    abort(reason) { this.#signal[ABORT](reason); }
  }

  /** A stream of chunks (`Uint8Array`s, or strings) from `start`, `pull` and `cancel`. */
  class ReadableStream {
    #source;
    #queue = [];
    #closed = false;
    #failed = false;
    #error = undefined;
    #wake = null;
    #started;
    #controller;
    #locked = false;
    constructor(source = {}) {
      this.#source = source;
      const stream = this;
      this.#controller = Object.freeze({
        enqueue(chunk) {
          if (stream.#closed) throw new TypeError("the stream is closed");
          stream.#queue.push(chunk);
          stream.#notify();
        },
        close() { stream.#closed = true; stream.#notify(); },
        error(error) { stream.#failed = true; stream.#error = error; stream.#notify(); },
        get desiredSize() { return stream.#queue.length === 0 ? 1 : 0; },
      });
      this.#started = Promise.resolve().then(() => source.start?.(this.#controller));
    }
    get locked() { return this.#locked; }
    #notify() { const wake = this.#wake; this.#wake = null; wake?.(); }
    async #read() {
      await this.#started;
      for (;;) {
        if (this.#queue.length > 0) return { value: this.#queue.shift(), done: false };
        if (this.#failed) throw this.#error;
        if (this.#closed) return { value: undefined, done: true };
        const waiting = new Promise((resolve) => { this.#wake = resolve; });
        if (this.#source.pull) {
          await this.#source.pull(this.#controller);
          if (this.#queue.length > 0 || this.#closed || this.#failed) continue;
        }
        await waiting;
      }
    }
    async #cancel(reason) {
      this.#closed = true;
      this.#queue = [];
      await this.#source.cancel?.(reason);
    }
    getReader() {
      if (this.#locked) throw new TypeError("the stream is locked to a reader");
      this.#locked = true;
      const stream = this;
      return Object.freeze({
        read: () => stream.#read(),
        cancel: (reason) => stream.#cancel(reason),
        releaseLock() { stream.#locked = false; },
      });
    }
    cancel(reason) { return this.#cancel(reason); }
    [Symbol.asyncIterator]() {
      const reader = this.getReader();
      return {
        next: () => reader.read(),
        return: async (value) => { reader.releaseLock(); return { value, done: true }; },
        [Symbol.asyncIterator]() { return this; },
      };
    }
  }

  /** Reads `stream` to its end. */
  async function collect(stream) {
    const chunks = [];
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(chunkBytes(value));
    }
    const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
    let at = 0;
    for (const chunk of chunks) { out.set(chunk, at); at += chunk.length; }
    return out;
  }

  function chunkBytes(value) {
    if (typeof value === "string" || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return toBytes(value);
    throw new TypeError("a body stream's chunks must be Uint8Arrays");
  }

  // ---- events and dispatch ---------------------------------------------------------------

  const listeners = { fetch: [], message: [] };

  function addEventListener(type, listener) {
    if (!(type in listeners)) throw new TypeError(`Rotor apps listen for "fetch" and "message" events, not "${type}"`);
    listeners[type].push(listener);
  }

  function responseFrom(value) {
    if (value instanceof Response) return value;
    if (value === undefined || value === null) throw new TypeError("the handler returned no Response");
    if (typeof value === "string" || value instanceof Uint8Array) return new Response(value);
    return Response.json(value);
  }

  const isThenable = (value) => value !== null && (typeof value === "object" || typeof value === "function") && typeof value.then === "function";

  /**
   * Runs the app's fetch handler. A handler that answers at once is answered at once: no
   * promise is made, and no job runs, unless the handler makes one.
   */
  function handleFetch(exports, requestJson) {
    try {
      const result = callFetchHandler(exports?.default, JSON.parse(requestJson));
      return isThenable(result) ? Promise.resolve(result).then(replyTo) : replyTo(result);
    } catch (error) {
      // The engine reports a rejection with where the error was made.
      return Promise.reject(error);
    }
  }

  function callFetchHandler(app, incoming) {
    const request = new Request(INCOMING, {
      url: incoming.url,
      method: incoming.method,
      headers: incoming.headers,
      body: incoming.body === null ? null : fromBase64(incoming.body),
    });
    if (app && typeof app.fetch === "function") return app.fetch(request);
    if (listeners.fetch.length === 0) {
      throw new TypeError("the app has no fetch handler: export default { fetch(request) } or addEventListener('fetch', ...)");
    }
    let responded = false;
    let response;
    const event = {
      type: "fetch",
      request,
      respondWith(value) { responded = true; response = value; },
      waitUntil() {},
    };
    for (const listener of listeners.fetch) {
      listener(event);
      if (responded) return response;
    }
    throw new TypeError("no fetch listener called respondWith");
  }

  /** The reply to the host for what the handler answered: `{status, headers, body | text}`. */
  function replyTo(result) {
    const response = responseFrom(result);
    const stream = response._takeStream();
    if (stream) {
      // The host sends the status and headers now, then asks for the body chunk by chunk.
      streaming = stream.getReader();
      return JSON.stringify({ status: response.status, headers: response._headerPairs(), body: null, streaming: true });
    }
    const text = response._peekText();
    if (text !== null) return JSON.stringify({ status: response.status, headers: response._headerPairs(), text });
    const body = response._peekBytes();
    return JSON.stringify({
      status: response.status,
      headers: response._headerPairs(),
      body: body ? toBase64(body) : null,
    });
  }

  /** The reader of the response body being streamed, when there is one. */
  let streaming = null;

  /** The next chunk of the streamed response body: `{"chunk": base64}`, or `{"done": true}`. */
  async function pullBody() {
    const { value, done } = await streaming.read();
    return JSON.stringify(done ? { done: true } : { chunk: toBase64(chunkBytes(value)) });
  }

  async function handleMessage(exports, payloadBase64) {
    const payload = fromBase64(payloadBase64);
    const app = exports?.default;
    // spin-js-sdk's Redis apps export an object with `handleMessage` as `inboundRedis`.
    const inbound = exports?.inboundRedis;
    if (app && typeof app.message === "function") {
      await app.message(payload);
    } else if (inbound && typeof inbound.handleMessage === "function") {
      await inbound.handleMessage(payload);
    } else if (listeners.message.length > 0) {
      for (const listener of listeners.message) await listener({ type: "message", payload });
    } else {
      throw new TypeError("the app has no message handler: export default { message(payload) }, addEventListener('message', ...) or export const inboundRedis = { handleMessage(payload) }");
    }
    return "";
  }

  Object.assign(globalThis, {
    Rotor, console, fetch, Request, Response, Headers, URL, URLSearchParams, TextEncoder, TextDecoder,
    addEventListener,
    DOMException, atob, btoa, crypto, CryptoKey, setTimeout, clearTimeout, setInterval,
    clearInterval: clearTimeout, queueMicrotask, AbortController, AbortSignal, ReadableStream,
    __rotor_dispatch: Object.freeze({ handleFetch, handleMessage, pullBody, fireTimer }),
  });
})();
