// A guestbook written against spin-js-sdk's documented API: the `fetch` event,
// `@spinframework/spin-sqlite` for the entries and `@spinframework/spin-variables` for its
// settings. `rotor js build` builds it as it is, with its own modules of those names; it is
// meant for spin-js-sdk's tools too (not tried in this repository).

import { openDefault } from "@spinframework/spin-sqlite";
import { get } from "@spinframework/spin-variables";

const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
const problem = (status, message) => json({ error: message }, status);

/** An entry row as JSON: SQLite's integers arrive as BigInts, which JSON cannot carry. */
const entry = (row) => ({ id: Number(row.id), name: row.name, message: row.message });

function settings() {
  return {
    title: get("title") ?? "A guestbook",
    maxLength: Number(get("max_message_length") ?? 280),
  };
}

async function sign(db, request) {
  let input;
  try {
    input = await request.json();
  } catch {
    return problem(400, "the body is not JSON");
  }
  const { name, message } = input ?? {};
  const { maxLength } = settings();
  if (typeof name !== "string" || name.trim() === "") return problem(422, "name: some text");
  if (typeof message !== "string" || message.trim() === "") return problem(422, "message: some text");
  if (message.length > maxLength) return problem(422, `message: at most ${maxLength} characters`);
  const inserted = db.execute("INSERT INTO entries (name, message) VALUES (?, ?) RETURNING id, name, message", [
    name.trim(),
    message.trim(),
  ]);
  return json(entry(inserted.rows[0]), 201);
}

async function handle(request) {
  const db = openDefault();
  const path = new URL(request.url).pathname;
  if (path === "/") {
    const { title, maxLength } = settings();
    const { rows } = db.execute("SELECT count(*) AS count FROM entries", []);
    return json({ title, entries: Number(rows[0].count), max_message_length: maxLength });
  }
  if (path === "/entries") {
    if (request.method === "POST") return sign(db, request);
    if (request.method !== "GET") return problem(405, "GET or POST");
    const { rows } = db.execute("SELECT id, name, message FROM entries ORDER BY id DESC", []);
    return json(rows.map(entry));
  }
  const id = /^\/entries\/(\d+)$/.exec(path)?.[1];
  if (id !== undefined && request.method === "GET") {
    const { rows } = db.execute("SELECT id, name, message FROM entries WHERE id = ?", [BigInt(id)]);
    return rows.length === 0 ? problem(404, `no entry ${id}`) : json(entry(rows[0]));
  }
  return problem(404, "no such route");
}

addEventListener("fetch", (event) => {
  event.respondWith(handle(event.request));
});
