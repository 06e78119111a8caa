// `@spinframework/wasi-http-proxy`: in spin-js-sdk this package only tells the build to export
// the HTTP handler. Rotor's components always do, so the module is empty; importing it is
// harmless.
export {};
