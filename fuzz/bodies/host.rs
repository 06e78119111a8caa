//! What each host fuzz target does with one input; shared by the fuzz targets and by the
//! host's regression test, which replays every input in `fuzz/regressions/`. Each must
//! never panic, whatever the input.

use std::path::Path;

use rotor_host::manifest::allowed_hosts::AllowedHosts;
use rotor_host::manifest::runtime_config::RuntimeConfigFile;
use rotor_host::manifest::template::Template;
use rotor_host::manifest::Manifest;
use rotor_host::triggers::http::routes::RouteTable;
use rotor_host::triggers::http::wagi;

/// `spin.toml` text.
pub fn manifest(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) = Manifest::parse(Path::new("/nonexistent/app/spin.toml"), text) {
            // Formatting the error walks the text again for its line.
            let _ = error.to_string();
        }
    }
}

/// `runtime-config.toml` text.
pub fn runtime_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) =
            RuntimeConfigFile::parse(Path::new("/nonexistent/runtime-config.toml"), text)
        {
            let _ = error.to_string();
        }
    }
}

/// Routes, one per line; the last line is the path to look up.
pub fn routes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines: Vec<&str> = text.lines().collect();
    let path = lines.pop().unwrap_or("/");
    let Ok(table) = RouteTable::new(
        lines
            .iter()
            .enumerate()
            .map(|(index, route)| ((*route).to_owned(), index)),
    ) else {
        return;
    };
    if let Some(found) = table.find(path) {
        assert!(*found.target < lines.len());
    }
    for route in &lines {
        let _ = table.find(route);
    }
}

/// `allowed_outbound_hosts` entries, one per line, up to an empty line; then URLs and
/// names to check against them.
pub fn allowed_hosts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (entries, probes) = text.split_once("\n\n").unwrap_or((text, ""));
    for entry in entries.lines() {
        let _ = Template::parse(entry).map(|template| template.to_string());
    }
    let Ok(allowed) = AllowedHosts::parse(entries.lines()) else {
        return;
    };
    for probe in probes.lines() {
        let by_url = allowed.allows_url(probe);
        let _ = allowed.allows_name(probe);
        // A URL allowed under a list is allowed under `*://*:*` too.
        if by_url {
            let everything = AllowedHosts::parse(["*://*:*"]).expect("a valid entry");
            assert!(everything.allows_url(probe), "{probe:?}");
        }
    }
}

/// A WAGI module's output.
pub fn wagi_output(data: &[u8]) {
    let _ = wagi::parse_output(data);
}
