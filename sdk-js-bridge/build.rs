//! Puts the app in place: the JavaScript file named by `ROTOR_JS_APP` (set by
//! `rotor js build`; `js/default-app.js` when unset) is checked for syntax errors, which stop
//! the build with `FILE:LINE:COLUMN: message`, and copied where `src/lib.rs` includes it.

use std::path::{Path, PathBuf};

use boa_ast::scope::Scope;
use boa_interner::Interner;
use boa_parser::{Parser, Source};

fn main() {
    println!("cargo:rerun-if-env-changed=ROTOR_JS_APP");
    println!("cargo:rerun-if-changed=js/default-app.js");
    let app = match std::env::var_os("ROTOR_JS_APP") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("js/default-app.js"),
    };
    println!("cargo:rerun-if-changed={}", app.display());
    let source = match std::fs::read_to_string(&app) {
        Ok(source) => source,
        Err(error) => fail(&format!("rotor-js: cannot read {}: {error}", app.display())),
    };
    if let Err(error) = Parser::new(Source::from_bytes(&source))
        .parse_module(&Scope::new_global(), &mut Interner::default())
    {
        fail(&located(&app, &error.to_string()));
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(error) = std::fs::write(out.join("app.js"), &source) {
        fail(&format!("rotor-js: cannot write the app: {error}"));
    }
    let name = app
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app.js".to_owned());
    println!("cargo:rustc-env=ROTOR_JS_APP_NAME={name}");
}

/// `FILE:LINE:COLUMN: message`, with the position boa's message ends in ("at line 3, col 7").
fn located(app: &Path, message: &str) -> String {
    let position = message.rfind(" at line ").and_then(|at| {
        let (line, column) = message[at + " at line ".len()..].split_once(", col ")?;
        let column: String = column.chars().take_while(char::is_ascii_digit).collect();
        Some((
            at,
            line.trim().parse::<u32>().ok()?,
            column.parse::<u32>().ok()?,
        ))
    });
    match position {
        Some((at, line, column)) => format!(
            "rotor-js: {}:{line}:{column}: syntax error: {}",
            app.display(),
            &message[..at]
        ),
        None => format!("rotor-js: {}: syntax error: {message}", app.display()),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}
