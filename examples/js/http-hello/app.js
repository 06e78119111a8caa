// A greeting service: `GET /hello` (or any path under it) answers with plain text.
export default {
  fetch(request) {
    const name = new URL(request.url).searchParams.get("name") ?? "world";
    return new Response(`Hello, ${name}!\n`);
  },
};
