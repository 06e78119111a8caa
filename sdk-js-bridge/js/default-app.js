// The app a build without `ROTOR_JS_APP` carries: `rotor js build APP.js` puts yours in its
// place.
export default {
  fetch() {
    return new Response("This component carries no app: build one with `rotor js build app.js -o app.wasm`.\n", { status: 500 });
  },
};
