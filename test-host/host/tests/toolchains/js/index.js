// The conformance app of ../test.json5, built with spin-js-sdk's `j2w` (StarlingMonkey),
// calling Spin's interfaces as the WIT imports spin-js-sdk's packages wrap.
import { Store } from 'fermyon:spin/key-value@2.0.0';
import { get as variable } from 'fermyon:spin/variables@2.0.0';
import { Connection } from 'spin:sqlite/sqlite@3.0.0';

const text = (status, body, type = 'text/plain') =>
  new Response(body, { status, headers: { 'content-type': type } });

async function handle(request) {
  const path = new URL(request.url).pathname;
  if (path === '/hello') return text(200, 'Hello, world!');
  if (path.startsWith('/kv/')) {
    const key = path.slice('/kv/'.length);
    const store = Store.open('default');
    if (request.method === 'PUT') {
      store.set(key, new Uint8Array(await request.arrayBuffer()));
      return new Response(null, { status: 204 });
    }
    const value = store.get(key);
    if (value === undefined) return text(404, 'no such key');
    return text(200, new TextDecoder().decode(value));
  }
  if (path.startsWith('/var/')) return text(200, variable(path.slice('/var/'.length)));
  if (path === '/sql') {
    const db = Connection.open('default');
    db.execute('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)', []);
    db.execute('INSERT INTO notes (body) VALUES (?)', [{ tag: 'text', val: await request.text() }]);
    const last = Number(db.lastInsertRowid());
    const result = db.execute('SELECT id, body FROM notes ORDER BY id', []);
    const rows = result.rows.map((row) =>
      row.values.map((value) => (typeof value.val === 'bigint' ? Number(value.val) : value.val)),
    );
    return text(200, JSON.stringify({ rows, last }), 'application/json');
  }
  if (path === '/outbound') {
    const upstream = await fetch(variable('backend_url') + '/greeting');
    return text(200, 'upstream said: ' + (await upstream.text()));
  }
  return text(404, 'Not Found');
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
