//! One route precedence: the host's route table (for `spin.toml` routes) and the SDK's
//! `Router` pick the same route for the same paths, the most specific one (see
//! ARCHITECTURE.md, "Routes").

use bytes::Bytes;
use http::{Method, Request};
use rotor_host::triggers::http::routes::RouteTable;
use rotor_sdk::http::Router;

/// Routes, in the order a manifest or a router lists them, and (path, the route that must
/// answer it) pairs.
type Case = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// Routes are written in the host's syntax; `/...` becomes the SDK's `/*rest`.
const CASES: &[Case] = &[
    (
        &["/a/...", "/a/:x", "/a/b", "/a/:x/c", "/a/:x/:y"],
        &[
            ("/a/b", "/a/b"),
            ("/a/z", "/a/:x"),
            ("/a/z/c", "/a/:x/c"),
            ("/a/z/d", "/a/:x/:y"),
            ("/a/z/d/e", "/a/..."),
            ("/a", "/a/..."),
        ],
    ),
    (
        &["/...", "/api/...", "/api/users/...", "/api/users/:id"],
        &[
            ("/", "/..."),
            ("/other", "/..."),
            ("/api/x", "/api/..."),
            ("/api/users/7", "/api/users/:id"),
            ("/api/users/7/posts", "/api/users/..."),
            ("/api/users", "/api/users/..."),
        ],
    ),
    (
        &["/x/:a", "/x/:b/..."],
        &[("/x/1", "/x/:a"), ("/x/1/2", "/x/:b/...")],
    ),
];

fn sdk_pattern(route: &str) -> String {
    match route.strip_suffix("...") {
        Some(prefix) => format!("{prefix}*rest"),
        None => route.to_owned(),
    }
}

#[test]
fn the_host_and_the_sdk_router_pick_the_same_route() {
    for (routes, paths) in CASES {
        let table = RouteTable::new(routes.iter().map(|r| (r.to_string(), r.to_string())))
            .expect("no two routes conflict");
        let mut router = Router::new();
        for route in *routes {
            let name = route.to_string();
            router = router.get(&sdk_pattern(route), move || name.clone());
        }
        for (path, expected) in *paths {
            let host = table.find(path).map(|found| found.target.clone());
            assert_eq!(
                host.as_deref(),
                Some(*expected),
                "host, {path} in {routes:?}"
            );
            let request = Request::builder()
                .method(Method::GET)
                .uri(*path)
                .body(Bytes::new())
                .unwrap();
            let response = rotor_sdk::executor::block_on(router.handle(request));
            let body = response.into_body().as_bytes().cloned().unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&body),
                *expected,
                "SDK router, {path} in {routes:?}"
            );
        }
    }
}
