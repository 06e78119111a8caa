//! `#[http_component]` and `#[redis_component]` accept every handler shape they document and refuse the rest with an
//! error at the offending code.

#[test]
fn handler_signatures() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
    cases.compile_fail("tests/ui/*.rs");
}
