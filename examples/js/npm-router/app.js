// A service routed by itty-router, a small router from npm (`npm install` puts it in
// node_modules/), with its handlers in a module of their own. `rotor js build` bundles both
// into the component.
import { Router } from "itty-router";
import { greet, note, notFound } from "./handlers.js";

const router = Router();
router.get("/hello/:name", greet);
router.get("/notes/:id", note);
router.all("*", notFound);

export default { fetch: (request) => router.fetch(request) };
