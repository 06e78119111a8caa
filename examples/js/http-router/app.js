// A JSON REST resource, `/books`, with path parameters, open to one browser origin (CORS).
//
// The data lives in memory and every request gets a fresh instance, so the catalogue starts
// from the same seed on each request; a write answers as if it was stored. Swap the array
// for `Rotor.kv` or `Rotor.sqlite` to keep what clients write.

const seed = () => [
  { id: 1, title: "The Left Hand of Darkness", author: "Ursula K. Le Guin" },
  { id: 2, title: "Kindred", author: "Octavia E. Butler" },
];

/** A JSON error body, so that clients can always parse what they get. */
const error = (status, message) => Response.json({ error: message }, { status });

const badId = () => error(400, "book ids are positive integers");

/** The `:id` segment as a number, or null. */
const bookId = (params) => (/^\d+$/.test(params.id) ? Number(params.id) : null);

async function createBook(request) {
  let fields;
  try {
    fields = await request.json();
  } catch (e) {
    return error(400, `invalid JSON body: ${e.message}`);
  }
  if (typeof fields?.title !== "string" || typeof fields?.author !== "string") {
    return error(422, "a book has a title and an author, both text");
  }
  if (fields.title.trim() === "") return error(422, "a book needs a title");
  const books = seed();
  const id = Math.max(0, ...books.map((b) => b.id)) + 1;
  return Response.json(
    { id, title: fields.title, author: fields.author },
    { status: 201, headers: { location: `/books/${id}` } },
  );
}

const routes = [
  { method: "GET", pattern: ["books"], handle: () => Response.json(seed()) },
  { method: "POST", pattern: ["books"], handle: (request) => createBook(request) },
  {
    method: "GET",
    pattern: ["books", ":id"],
    handle: (_, params) => {
      const id = bookId(params);
      if (id === null) return badId();
      const book = seed().find((b) => b.id === id);
      return book ? Response.json(book) : error(404, "no such book");
    },
  },
  {
    method: "DELETE",
    pattern: ["books", ":id"],
    handle: (_, params) => {
      const id = bookId(params);
      if (id === null) return badId();
      return seed().some((b) => b.id === id) ? new Response(null, { status: 204 }) : error(404, "no such book");
    },
  },
];

/** The parameters when `segments` fit `pattern`, else null. */
function match(pattern, segments) {
  if (pattern.length !== segments.length) return null;
  const params = {};
  for (const [i, part] of pattern.entries()) {
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(segments[i]);
    else if (part !== segments[i]) return null;
  }
  return params;
}

/** Lets pages from the bookshop's site call the API from a browser (CORS). */
const cors = {
  origin: "https://books.example",
  methods: "GET, POST, DELETE",
  headers: "content-type",
  maxAge: "600",
};

/** The preflight's answer when `request` is one from the allowed origin, else null. */
function preflight(request) {
  if (request.method !== "OPTIONS" || request.headers.get("origin") !== cors.origin) return null;
  if (!request.headers.has("access-control-request-method")) return null;
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": cors.origin,
      vary: "origin",
      "access-control-allow-methods": cors.methods,
      "access-control-allow-headers": cors.headers,
      "access-control-max-age": cors.maxAge,
    },
  });
}

/** Dispatches by method and path, answering HEAD from GET and OPTIONS itself. */
async function route(request) {
  const segments = new URL(request.url).pathname.split("/").filter((s) => s !== "");
  const matching = routes.map((route) => [route, match(route.pattern, segments)]).filter(([, p]) => p);
  if (matching.length === 0) return new Response("Not Found", { status: 404 });
  const found = matching.find(([route]) => route.method === request.method);
  if (found) return found[0].handle(request, found[1]);
  const get = matching.find(([route]) => route.method === "GET");
  if (request.method === "HEAD" && get) {
    const response = await get[0].handle(request, get[1]);
    return new Response(null, { status: response.status, headers: response.headers });
  }
  const methods = new Set(matching.map(([route]) => route.method));
  if (methods.has("GET")) methods.add("HEAD");
  methods.add("OPTIONS");
  const allow = [...methods].sort().join(", ");
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: { allow } });
  return new Response("Method Not Allowed", { status: 405, headers: { allow } });
}

export default {
  async fetch(request) {
    const answer = preflight(request);
    if (answer) return answer;
    const response = await route(request);
    if (request.headers.get("origin") !== cors.origin) return response;
    const headers = new Headers(response.headers);
    headers.set("access-control-allow-origin", cors.origin);
    headers.append("vary", "origin");
    return new Response(response.body, { status: response.status, headers });
  },
};
