// An aggregator: `GET /users/:id/summary` calls a backend for the user and for their todos,
// and answers one small JSON document made from both.
//
// The backend's address is the variable `backend_url`; `allowed_outbound_hosts` grants that
// address and nothing else, so `fetch` to anywhere else throws a RotorError of kind "denied".

const problem = (status, message) => Response.json({ error: message }, { status });

/** GETs `url` as JSON; a failure is thrown as the response to give the client. */
async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" } });
  } catch (e) {
    console.error(`calling the backend failed: ${e.kind}: ${e.message}`);
    throw e.kind === "timeout"
      ? problem(504, "the backend is too slow")
      : problem(502, "the backend is unavailable");
  }
  if (response.status === 404) throw problem(404, "no such user");
  if (!response.ok) {
    console.error(`${url} answered ${response.status}`);
    throw problem(502, "the backend failed");
  }
  try {
    return await response.json();
  } catch (e) {
    console.error(`${url} sent unexpected JSON: ${e.message}`);
    throw problem(502, "the backend sent something unexpected");
  }
}

async function summary(id) {
  const backend = Rotor.variables.get("backend_url").replace(/\/+$/, "");
  const user = await getJson(`${backend}/users/${id}`);
  const todos = await getJson(`${backend}/users/${id}/todos`);
  if (typeof user?.name !== "string" || typeof user?.email !== "string" || !Array.isArray(todos)) {
    throw problem(502, "the backend sent something unexpected");
  }
  const at = user.email.lastIndexOf("@");
  return Response.json({
    id: user.id,
    name: user.name,
    email_domain: at < 0 ? "" : user.email.slice(at + 1).toLowerCase(),
    city: user.address?.city ?? null,
    todos: { total: todos.length, done: todos.filter((t) => t.completed === true).length },
  });
}

export default {
  async fetch(request) {
    const match = /^\/users\/([^/]+)\/summary$/.exec(new URL(request.url).pathname);
    if (!match || request.method !== "GET") return new Response("Not Found", { status: 404 });
    if (!/^\d+$/.test(match[1])) return problem(400, "the user id must be a number");
    try {
      return await summary(Number(match[1]));
    } catch (failure) {
      if (failure instanceof Response) return failure;
      throw failure;
    }
  },
};
