//! Unit tests of `examples/static-site`: its `files` are mounted as `rotor up` mounts them.

use examples_unit_tests::example;
use rotor_test::VirtualHost;

#[test]
fn serves_the_files_with_their_content_types() {
    let host = VirtualHost::load(example("static-site")).unwrap();
    let index = host.get("/");
    index.assert_status(200);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let on_disk = std::fs::read(example("static-site").join("public/index.html")).unwrap();
    assert_eq!(index.body, on_disk);
    let css = host.get("/css/site.css").assert_status(200).clone();
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
}

#[test]
fn excluded_and_missing_files_are_not_found() {
    let host = VirtualHost::load(example("static-site")).unwrap();
    // `public/drafts/next-post.md` exists, but `exclude_files` keeps it out.
    assert!(example("static-site")
        .join("public/drafts/next-post.md")
        .exists());
    host.get("/drafts/next-post.md").assert_status(404);
    host.get("/no-such-file").assert_status(404);
    host.calls().assert_lines(&[]);
}
