// A todo API kept in a key-value store: each todo is a JSON value under `todo:{id}`, and the
// next id is a counter under `next-id`.

const PREFIX = "todo:";
const key = (id) => `${PREFIX}${id}`;

const error = (status, message) => Response.json({ error: message }, { status });

/** The `:id` segment as a number, or null. */
const todoId = (text) => (/^\d+$/.test(text) ? Number(text) : null);

/** The request's JSON fields, or a 400 response. */
async function readInput(request) {
  try {
    const input = await request.json();
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      return { rejected: error(400, "invalid JSON body: expected an object") };
    }
    return { input };
  } catch (e) {
    return { rejected: error(400, `invalid JSON body: ${e.message}`) };
  }
}

function list(store) {
  return store
    .keys()
    .filter((k) => k.startsWith(PREFIX))
    .map((k) => store.getJson(k))
    .filter((todo) => todo !== null)
    .sort((a, b) => a.id - b.id);
}

function create(store, input) {
  if (typeof input.title !== "string" || input.title.trim() === "") return error(422, "a todo needs a title");
  const id = store.getJson("next-id") ?? 1;
  store.setJson("next-id", id + 1);
  const todo = { id, title: input.title, done: input.done === true };
  store.setJson(key(id), todo);
  return Response.json(todo, { status: 201, headers: { location: `/todos/${id}` } });
}

function update(store, id, input) {
  const todo = store.getJson(key(id));
  if (todo === null) return error(404, "no such todo");
  if (input.title !== undefined) {
    if (typeof input.title !== "string" || input.title.trim() === "") return error(422, "a todo needs a title");
    todo.title = input.title;
  }
  if (typeof input.done === "boolean") todo.done = input.done;
  store.setJson(key(id), todo);
  return Response.json(todo);
}

async function route(request, store) {
  const [collection, id, ...rest] = new URL(request.url).pathname.split("/").filter((s) => s !== "");
  if (collection !== "todos" || rest.length > 0) return new Response("Not Found", { status: 404 });
  const method = request.method;
  if (id === undefined) {
    if (method === "GET") return Response.json(list(store));
    if (method === "POST") {
      const { input, rejected } = await readInput(request);
      return rejected ?? create(store, input);
    }
    return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, POST" } });
  }
  if (!["GET", "PATCH", "DELETE"].includes(method)) {
    return new Response("Method Not Allowed", { status: 405, headers: { allow: "DELETE, GET, PATCH" } });
  }
  const number = todoId(id);
  if (number === null) return error(400, "todo ids are positive integers");
  if (method === "GET") {
    const todo = store.getJson(key(number));
    return todo ? Response.json(todo) : error(404, "no such todo");
  }
  if (method === "PATCH") {
    const { input, rejected } = await readInput(request);
    return rejected ?? update(store, number, input);
  }
  if (!store.exists(key(number))) return error(404, "no such todo");
  store.delete(key(number));
  return new Response(null, { status: 204 });
}

export default {
  async fetch(request) {
    let store;
    try {
      store = Rotor.kv.openDefault();
    } catch (e) {
      // A store failure is the server's problem: log it, answer 500.
      console.error(`key-value store: ${e.kind}: ${e.message}`);
      return error(500, "storage is unavailable");
    }
    return route(request, store);
  },
};
