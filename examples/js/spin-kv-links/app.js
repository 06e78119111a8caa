// A link shortener written against spin-js-sdk's documented API only: the `fetch` event and
// `@spinframework/spin-kv`. `rotor js build` builds it as it is, with its own module of that
// name; it is meant for spin-js-sdk's tools too (not tried in this repository).
//
// Each link is JSON under `link:{code}`; its visit count is text under `visits:{code}`.

import { openDefault } from "@spinframework/spin-kv";

const decoder = new TextDecoder();
const CODE = /^[A-Za-z0-9_-]{1,32}$/;

const json = (value, init = {}) =>
  new Response(JSON.stringify(value), {
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
  });
const problem = (status, message) => json({ error: message }, { status });

function visits(store, code) {
  const stored = store.get(`visits:${code}`);
  return stored === null ? 0 : Number(decoder.decode(stored));
}

function list(store) {
  return store
    .getKeys()
    .filter((key) => key.startsWith("link:"))
    .sort()
    .map((key) => {
      const link = store.getJson(key);
      return { ...link, visits: visits(store, link.code) };
    });
}

async function create(store, request) {
  let input;
  try {
    input = await request.json();
  } catch {
    return problem(400, "the body is not JSON");
  }
  const { code, url } = input ?? {};
  if (typeof code !== "string" || !CODE.test(code)) {
    return problem(422, "code: 1 to 32 letters, digits, '-' or '_'");
  }
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
    return problem(422, "url: an http or https address");
  }
  if (store.exists(`link:${code}`)) return problem(409, `the code ${code} is taken`);
  store.setJson(`link:${code}`, { code, url });
  return json({ code, url }, { status: 201, headers: { location: `/links/${code}` } });
}

function follow(store, code) {
  if (!store.exists(`link:${code}`)) return problem(404, `no link ${code}`);
  const { url } = store.getJson(`link:${code}`);
  store.set(`visits:${code}`, String(visits(store, code) + 1));
  return new Response(null, { status: 302, headers: { location: url } });
}

async function handle(request) {
  const store = openDefault();
  const [first, code, ...rest] = new URL(request.url).pathname.split("/").filter(Boolean);
  if (rest.length > 0) return problem(404, "no such route");
  if (first === "links" && code === undefined) {
    if (request.method === "GET") return json(list(store));
    if (request.method === "POST") return create(store, request);
    return problem(405, "GET or POST");
  }
  if (first === "links") {
    if (request.method === "GET") {
      if (!store.exists(`link:${code}`)) return problem(404, `no link ${code}`);
      return json({ ...store.getJson(`link:${code}`), visits: visits(store, code) });
    }
    if (request.method === "DELETE") {
      if (!store.exists(`link:${code}`)) return problem(404, `no link ${code}`);
      store.delete(`link:${code}`);
      store.delete(`visits:${code}`);
      return new Response(null, { status: 204 });
    }
    return problem(405, "GET or DELETE");
  }
  if (first === "go" && code !== undefined) return follow(store, code);
  return problem(404, "no such route");
}

addEventListener("fetch", (event) => {
  event.respondWith(handle(event.request));
});
