//! Replays a fuzz target's inputs in the ordinary test suites: the seeds in
//! `fuzz/seeds/TARGET/` and every input that once failed, kept in `fuzz/regressions/TARGET/`.

use std::path::Path;

/// Runs `body` on every input of `target` under `fuzz`; fails naming the first input that
/// panics, or when there are no inputs at all.
pub fn replay(fuzz: &Path, target: &str, body: fn(&[u8])) {
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| body(&input));
            assert!(outcome.is_ok(), "{} panics in {target}", path.display());
            count += 1;
        }
    }
    assert!(count > 0, "no inputs for {target} under {}", fuzz.display());
}
