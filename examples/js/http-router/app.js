// A JSON REST resource, `/books`, with path parameters.
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

export default {
  async fetch(request) {
    const segments = new URL(request.url).pathname.split("/").filter((s) => s !== "");
    const matching = routes.map((route) => [route, match(route.pattern, segments)]).filter(([, p]) => p);
    if (matching.length === 0) return new Response("Not Found", { status: 404 });
    const found = matching.find(([route]) => route.method === request.method);
    if (!found) {
      const allow = [...new Set(matching.map(([route]) => route.method))].sort().join(", ");
      return new Response("Method Not Allowed", { status: 405, headers: { allow } });
    }
    const [route, params] = found;
    return route.handle(request, params);
  },
};
