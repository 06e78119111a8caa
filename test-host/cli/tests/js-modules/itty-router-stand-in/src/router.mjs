// A router with the part of itty-router's API that examples/js/npm-router uses.
import { matcher } from "./match.mjs";

export function Router() {
  const routes = [];
  const add = (method) => (pattern, ...handlers) => {
    routes.push({ method, match: matcher(pattern), handlers });
    return router;
  };
  const router = {
    get: add("GET"),
    post: add("POST"),
    all: add(null),
    // The first handler that returns something answers, as in itty-router.
    async fetch(request) {
      const url = new URL(request.url);
      request.query = Object.fromEntries(url.searchParams);
      for (const route of routes) {
        if (route.method !== null && route.method !== request.method) continue;
        const params = route.match(url.pathname);
        if (params === null) continue;
        request.params = params;
        for (const handler of route.handlers) {
          const response = await handler(request);
          if (response !== undefined) return response;
        }
      }
      return undefined;
    },
  };
  return router;
}
