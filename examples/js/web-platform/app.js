// The web platform pieces of Rotor's JavaScript runtime, one route each: base64, UTF-8, Web Crypto,
// timers, AbortController and streamed response bodies.

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = new TextEncoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The name of what `run` throws, or "nothing thrown". */
async function thrown(run) {
  try {
    await run();
    return "nothing thrown";
  } catch (error) {
    return error.name;
  }
}

const routes = {
  async "/web/base64"() {
    return {
      btoa: btoa("Hello, world"),
      atob: atob("SGVsbG8sIHdvcmxk"),
      unpadded: atob("SGk"),
      notBase64: await thrown(() => atob("*")),
      notLatin1: await thrown(() => btoa("✓")),
    };
  },

  async "/web/text"() {
    const bytes = utf8.encode("héllo ✓ 𝄞");
    return {
      length: bytes.length,
      e: [...bytes.slice(1, 3)],
      back: new TextDecoder().decode(bytes),
      invalid: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])),
    };
  },

  async "/web/digest"() {
    const abc = utf8.encode("abc");
    const digests = {};
    for (const algorithm of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
      digests[algorithm] = hex(await crypto.subtle.digest(algorithm, abc));
    }
    digests.unsupported = await thrown(() => crypto.subtle.digest("MD5", abc));
    return digests;
  },

  async "/web/hmac"() {
    const key = await crypto.subtle.importKey("raw", utf8.encode("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    const data = utf8.encode("what do ya want for nothing?");
    const signature = await crypto.subtle.sign("HMAC", key, data);
    const tampered = new Uint8Array(signature).slice();
    tampered[0] ^= 1;
    const sha1 = await crypto.subtle.importKey("raw", utf8.encode("Jefe"), { name: "HMAC", hash: { name: "SHA-1" } }, true, ["sign"]);
    return {
      "HMAC-SHA-256": hex(signature),
      verified: await crypto.subtle.verify("HMAC", key, signature, data),
      tamperedVerified: await crypto.subtle.verify("HMAC", key, tampered, data),
      "HMAC-SHA-1": hex(await crypto.subtle.sign("HMAC", sha1, data)),
      exported: new TextDecoder().decode(await crypto.subtle.exportKey("raw", sha1)),
      verifyWithSignOnlyKey: await thrown(() => crypto.subtle.verify("HMAC", sha1, signature, data)),
    };
  },

  async "/web/random"() {
    const filled = crypto.getRandomValues(new Uint8Array(32));
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    return {
      // 32 random bytes are all zero once in 2^256 tries.
      filled: filled.some((byte) => byte !== 0),
      words: crypto.getRandomValues(new Uint32Array(4)).length,
      uuids: uuid.test(first) && uuid.test(second),
      distinct: first !== second,
      tooMany: await thrown(() => crypto.getRandomValues(new Uint8Array(65537))),
      floats: await thrown(() => crypto.getRandomValues(new Float64Array(2))),
    };
  },

  async "/web/timers"() {
    const order = [];
    setTimeout(() => order.push("timeout 20"), 20);
    const cleared = setTimeout(() => order.push("cleared timeout"), 5);
    clearTimeout(cleared);
    setTimeout((what) => order.push(what), 0, "timeout 0");
    queueMicrotask(() => order.push("microtask"));
    Promise.resolve().then(() => order.push("promise"));
    let ticks = 0;
    const interval = setInterval(() => {
      ticks += 1;
      if (ticks === 3) clearInterval(interval);
    }, 1);
    await sleep(40);
    order.push(`interval ticked ${ticks} times`);
    return order;
  },

  async "/web/abort"() {
    const controller = new AbortController();
    let heard = null;
    controller.signal.addEventListener("abort", () => { heard = "abort event"; });
    controller.abort();
    const timeout = AbortSignal.timeout(10);
    await sleep(30);
    return {
      fetchAborted: await thrown(() => fetch("https://example.invalid/", { signal: controller.signal })),
      reason: controller.signal.reason.name,
      heard,
      givenReason: AbortSignal.abort("changed my mind").reason,
      timedOut: timeout.aborted ? timeout.reason.name : "not aborted",
      constructed: await thrown(() => new AbortSignal()),
      // A limit beyond any deadline reaches the host clamped; the host then refuses the
      // request, since the app may reach no host at all.
      hugeTimeout: await thrown(() => fetch("https://example.invalid/", { signal: AbortSignal.timeout(1e300) })),
    };
  },

  async "/web/stream"() {
    const words = ["one ", "two ", "three"];
    const body = new ReadableStream({
      async pull(controller) {
        // The chunks come apart in time, as a real producer's would.
        await sleep(5);
        const word = words.shift();
        if (word === undefined) controller.close();
        else controller.enqueue(utf8.encode(word));
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },

  async "/web/stream-read"() {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(utf8.encode("read "));
        controller.enqueue("back");
        controller.close();
      },
    });
    return { text: await new Response(stream).text() };
  },
};

export default {
  async fetch(request) {
    const route = routes[new URL(request.url).pathname];
    if (!route) return new Response("Not Found", { status: 404 });
    const result = await route();
    return result instanceof Response ? result : Response.json(result);
  },
};
