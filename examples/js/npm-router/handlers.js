// The handlers: itty-router gives each the request with `params` (the route's captures) and
// `query` (the query string) added.

const text = (body, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** `GET /hello/:name`: a greeting. */
export const greet = ({ params }) => text(`Hello, ${decodeURIComponent(params.name)}!\n`);

/** `GET /notes/:id`: a note, as JSON; `?upper` shouts it. */
export const note = ({ params, query }) => {
  const id = Number(params.id);
  if (!Number.isInteger(id) || id < 1) {
    return text("a note's id is a positive whole number\n", 400);
  }
  const body = `note ${id}`;
  return Response.json({ id, body: "upper" in query ? body.toUpperCase() : body });
};

/** Everything else. */
export const notFound = () => text("Not Found\n", 404);
