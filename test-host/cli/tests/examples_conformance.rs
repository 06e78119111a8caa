//! Every example passes its own conformance spec, run exactly as `rotor test` runs it.

#[path = "../../host/tests/common/mod.rs"]
mod common;

#[tokio::test(flavor = "multi_thread")]
async fn every_example_passes_its_spec() {
    common::guests();
    let apps = rotor_spec::conformance::find_apps(&common::workspace().join("examples")).unwrap();
    assert!(
        apps.len() >= 2,
        "expected the examples' specs, found {apps:?}"
    );
    let runtime = common::test_engine();
    let mut results = Vec::new();
    'apps: for app in &apps {
        let spec = rotor_spec::conformance::Spec::load(&app.join("test.json5")).unwrap();
        if spec.needs_redis() && !common::service_available("Redis", "127.0.0.1:6379") {
            continue 'apps;
        }
        if spec.needs_mqtt() && !common::service_available("Mosquitto", "127.0.0.1:1883") {
            continue 'apps;
        }
        for server in spec.database_servers() {
            if !common::service_available(server.name(), server.socket_address()) {
                continue 'apps;
            }
        }
        results.extend(
            rotor_spec::conformance::run_app(app, runtime.clone())
                .await
                .unwrap(),
        );
    }
    let (passed, failed, line) = rotor_spec::conformance::summary(&results);
    assert_eq!(failed, 0, "{line}");
    assert!(
        passed >= 10,
        "the examples' specs should hold at least 10 cases: {line}"
    );
}

#[test]
fn rotor_test_prints_one_line_per_case_and_a_summary() {
    common::guests();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["test", "--no-cache"])
        .arg(common::workspace().join("examples/http-hello"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cases = stdout.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(cases >= 3, "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{cases} passed, 0 failed").as_str()),
        "{stdout}"
    );
}

#[test]
fn rotor_test_fails_on_a_wrong_expectation() {
    common::guests();
    let dir = common::app_dir(&common::one_route_manifest("/...", &common::guest("probe")));
    std::fs::write(
        dir.path().join("test.json5"),
        r#"{
          optional_headers: ["date", "content-length", "transfer-encoding", "content-type"],
          invocations: [
            { request: { path: "/ok" }, response: { status: 200, body: "fine" } },
            { request: { path: "/ok" }, response: { status: 201, body: "not fine" } },
          ],
        }"#,
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["test", "--no-cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("status: expected 201, got 200"), "{stdout}");
    assert!(
        stdout.contains("body: expected \"not fine\", got \"fine\""),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 1 failed"),
        "{stdout}"
    );
}

/// The conformance kit holds every example's spec (the same file) and the files its
/// preconditions read, and nothing else.
#[test]
fn the_kit_holds_every_examples_spec() {
    let workspace = common::workspace();
    let kit = workspace.join("conformance");
    let in_kit: Vec<String> = rotor_spec::conformance::kit::specs(&kit)
        .unwrap()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let examples: Vec<String> = rotor_spec::conformance::find_apps(&workspace.join("examples"))
        .unwrap()
        .iter()
        .map(|app| app.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(in_kit, examples);
    for name in &in_kit {
        let example = workspace.join("examples").join(name);
        let spec = std::fs::read_to_string(kit.join(name).join("test.json5")).unwrap();
        assert_eq!(
            spec,
            std::fs::read_to_string(example.join("test.json5")).unwrap(),
            "{name}: the kit's spec is not the example's"
        );
        // `"@FILE"` arguments are read beside the spec.
        for file in spec
            .split("\"@")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            assert!(
                kit.join(name).join(file).is_file(),
                "{name}: the spec reads {file}, which the kit lacks"
            );
        }
    }
}
