//! The modules of a JavaScript app, gathered at build time: the entry file and every module
//! it imports, relative files and packages from `node_modules`, each with the module each of
//! its import specifiers resolves to. `rotor js build` hands them all to the engine, whose
//! module loader looks an import up instead of reading a file, so the component needs no
//! files at run time.
//!
//! Resolution follows Node's for ES modules, without CommonJS:
//! - `./x.js`, `../x.js` and `/x.js` are files; a specifier without an extension also finds
//!   `x.js`, `x.mjs` and `x/index.js`, as bundlers do.
//! - `name` and `@scope/name`, with an optional `/subpath`, are packages, looked for in
//!   `node_modules` beside the importing file and in each directory above it. A package's
//!   `package.json` `exports` (a string, subpaths, `*` patterns and conditions; the conditions
//!   taken are `import`, `module`, `worker` and `default`) decides which file a specifier
//!   names; without `exports`, `module`, then `main`, then `index.js`.
//!
//! - spin-js-sdk's packages (`@spinframework/spin-kv`, `-sqlite`, `-variables`, `-redis`,
//!   `-postgres`, `-mysql`, `-mqtt`, `-trigger-redis`, `wasi-http-proxy`, and the same names
//!   under `@fermyon/`) are built in: Rotor's own modules with their names and shapes, found
//!   before `node_modules` (the packages from npm import Spin's WIT, which only their own
//!   build can link).
//!
//! A syntax error, an import that resolves to nothing and a CommonJS file are errors that
//! name the file, line and column.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};

/// The conditions of `package.json` `exports` this runtime takes, as Node's ESM loader takes
/// `import` and `node`.
const CONDITIONS: &[&str] = &["import", "module", "worker", "default"];

/// A module `rotor js build` carries itself: its id is the package name it answers to.
struct BuiltinModule {
    id: &'static str,
    source: &'static str,
}

macro_rules! spin_package {
    ($name:literal) => {
        BuiltinModule {
            id: concat!("@spinframework/", $name),
            source: include_str!(concat!("../../../sdk-js-bridge/js/spin/", $name, ".js")),
        }
    };
}

/// spin-js-sdk's packages, written for Rotor in `sdk-js-bridge/js/spin/`.
const BUILTIN_MODULES: &[BuiltinModule] = &[
    spin_package!("spin-kv"),
    spin_package!("spin-sqlite"),
    spin_package!("spin-variables"),
    spin_package!("spin-redis"),
    spin_package!("spin-postgres"),
    spin_package!("spin-mysql"),
    spin_package!("spin-mqtt"),
    spin_package!("spin-trigger-redis"),
    spin_package!("wasi-http-proxy"),
];

/// The built-in module `specifier` names: `@spinframework/NAME`, or `@fermyon/NAME`, the scope
/// spin-js-sdk's packages had before.
fn builtin(specifier: &str) -> Option<&'static BuiltinModule> {
    let name = specifier
        .strip_prefix("@spinframework/")
        .or_else(|| specifier.strip_prefix("@fermyon/"))?;
    BUILTIN_MODULES
        .iter()
        .find(|module| module.id.strip_prefix("@spinframework/") == Some(name))
}

/// A module still to gather: a file, or a built-in module.
enum Pending {
    File(PathBuf),
    Builtin(&'static BuiltinModule),
}

/// One module: its source and what each of its import specifiers resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppModule {
    /// The module's text.
    pub source: String,
    /// Each import specifier, and the id of the module it names.
    pub imports: BTreeMap<String, String>,
}

/// An app's module graph. Ids are paths relative to the entry file's directory, with `/`
/// between segments (`app.js`, `lib/util.js`, `node_modules/router/index.js`): they are
/// the names stack traces show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppModules {
    /// The id of the entry module.
    pub entry: String,
    /// Every module, by id.
    pub modules: BTreeMap<String, AppModule>,
}

impl AppModules {
    /// Gathers the modules `entry` imports, directly or not.
    pub fn gather(entry: &Path) -> anyhow::Result<AppModules> {
        let entry = normalize(&std::path::absolute(entry)?);
        let root = entry.parent().unwrap_or(Path::new("/")).to_owned();
        let entry_id = id_of(&root, &entry);
        let mut modules = BTreeMap::new();
        let mut queue = VecDeque::from([Pending::File(entry)]);
        while let Some(pending) = queue.pop_front() {
            let path = match pending {
                Pending::File(path) => path,
                Pending::Builtin(module) => {
                    // Built-in modules import nothing; they reach the host through `Rotor`.
                    modules
                        .entry(module.id.to_owned())
                        .or_insert_with(|| AppModule {
                            source: module.source.to_owned(),
                            imports: BTreeMap::new(),
                        });
                    continue;
                }
            };
            let id = id_of(&root, &path);
            if modules.contains_key(&id) {
                continue;
            }
            let source = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => anyhow::anyhow!("{}: no such file", path.display()),
                _ => anyhow::anyhow!("{}: {e}", path.display()),
            })?;
            let specifiers = import_specifiers(&path, &source)?;
            let mut imports = BTreeMap::new();
            for specifier in specifiers {
                if let Some(module) = builtin(&specifier) {
                    imports.insert(specifier, module.id.to_owned());
                    queue.push_back(Pending::Builtin(module));
                    continue;
                }
                let target = resolve_package_or_file(&path, &specifier).map_err(|why| {
                    let (line, column) = position_of_specifier(&source, &specifier);
                    anyhow::anyhow!(
                        "{}:{line}:{column}: cannot import {specifier:?}: {why}",
                        path.display()
                    )
                })?;
                imports.insert(specifier, id_of(&root, &target));
                queue.push_back(Pending::File(target));
            }
            modules.insert(id, AppModule { source, imports });
        }
        Ok(AppModules {
            entry: entry_id,
            modules,
        })
    }

    /// The graph as the engine reads it (`ROTOR_JS_APP`):
    /// `{"entry": ID, "modules": {ID: {"source": TEXT, "imports": {SPECIFIER: ID}}}}`.
    pub fn to_json(&self) -> String {
        let modules: serde_json::Map<String, Value> = self
            .modules
            .iter()
            .map(|(id, module)| {
                (
                    id.clone(),
                    json!({ "source": module.source, "imports": module.imports }),
                )
            })
            .collect();
        json!({ "entry": self.entry, "modules": modules }).to_string()
    }
}

/// The specifiers `source` imports from (`import`, `export ... from`), after checking that it
/// parses as a module and is not CommonJS.
fn import_specifiers(path: &Path, source: &str) -> anyhow::Result<Vec<String>> {
    use boa_parser::{Parser, Source};
    let mut interner = boa_interner::Interner::default();
    let module = Parser::new(Source::from_bytes(source))
        .parse_module(&boa_ast::scope::Scope::new_global(), &mut interner)
        .map_err(|error| anyhow::anyhow!("{}", located(path, &error.to_string())))?;
    let items = module.items();
    let specifiers: Vec<String> = items
        .requests()
        .into_iter()
        .map(|sym| interner.resolve_expect(sym).to_string())
        .collect();
    if specifiers.is_empty() && items.export_entries().is_empty() {
        if let Some(at) = ["module.exports", "exports.", "require("]
            .iter()
            .find_map(|marker| source.find(marker))
        {
            let (line, column) = line_and_column(source, at);
            anyhow::bail!(
                "{}:{line}:{column}: this is a CommonJS module; rotor js build takes ES modules \
                 (`import` and `export`)",
                path.display()
            );
        }
    }
    Ok(specifiers)
}

/// What `specifier`, imported by the file `from`, names; a spin-js-sdk package that is not
/// built in is refused with the list of those that are, since the one from npm cannot work.
fn resolve_package_or_file(from: &Path, specifier: &str) -> Result<PathBuf, String> {
    if specifier.starts_with("@spinframework/") || specifier.starts_with("@fermyon/") {
        let names: Vec<&str> = BUILTIN_MODULES.iter().map(|module| module.id).collect();
        return Err(format!(
            "rotor js build has no built-in module of that name; spin-js-sdk's modules it \
             carries are {}",
            names.join(", ")
        ));
    }
    resolve(from, specifier)
}

/// What `specifier`, imported by the file `from`, names.
fn resolve(from: &Path, specifier: &str) -> Result<PathBuf, String> {
    let directory = from.parent().unwrap_or(Path::new("/"));
    if specifier.starts_with("./") || specifier.starts_with("../") || specifier.starts_with('/') {
        let path = normalize(&directory.join(specifier));
        return file_like(&path).ok_or_else(|| format!("no file {}", path.display()));
    }
    if specifier.is_empty() || specifier.contains(':') {
        return Err("only relative paths and packages in node_modules can be imported".into());
    }
    let (name, subpath) = package_name(specifier);
    let package = directory
        .ancestors()
        .map(|dir| dir.join("node_modules").join(name))
        .find(|dir| dir.is_dir())
        .ok_or_else(|| {
            format!("no package {name:?} in node_modules here or above (npm install {name})")
        })?;
    resolve_in_package(&package, subpath)
}

/// A package's name and the subpath after it: `@scope/name/sub/x.js` is `@scope/name` and
/// `sub/x.js`.
fn package_name(specifier: &str) -> (&str, &str) {
    let segments = if specifier.starts_with('@') { 2 } else { 1 };
    let mut end = 0;
    for (index, segment) in specifier.split('/').enumerate() {
        if index == segments {
            break;
        }
        end += segment.len() + usize::from(index > 0);
    }
    let name = &specifier[..end];
    let subpath = specifier[end..].trim_start_matches('/');
    (name, subpath)
}

/// The file `subpath` (empty for the package itself) names in the package at `package`.
fn resolve_in_package(package: &Path, subpath: &str) -> Result<PathBuf, String> {
    let manifest_path = package.join("package.json");
    let manifest: Value = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => {
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?
        }
        Err(_) => Value::Null,
    };
    if let Some(exports) = manifest.get("exports") {
        let key = if subpath.is_empty() {
            ".".to_owned()
        } else {
            format!("./{subpath}")
        };
        let target = exported(exports, &key).ok_or_else(|| {
            format!(
                "{} does not export {key:?} (its package.json `exports`)",
                package.display()
            )
        })?;
        let path = normalize(&package.join(target));
        return path.is_file().then_some(path.clone()).ok_or_else(|| {
            format!(
                "{} exports a missing file {}",
                package.display(),
                path.display()
            )
        });
    }
    if !subpath.is_empty() {
        let path = normalize(&package.join(subpath));
        return file_like(&path).ok_or_else(|| format!("no file {}", path.display()));
    }
    let entry = ["module", "main"]
        .iter()
        .find_map(|field| manifest.get(field).and_then(Value::as_str))
        .unwrap_or("index.js");
    let path = normalize(&package.join(entry));
    file_like(&path)
        .ok_or_else(|| format!("{}: no entry file {}", package.display(), path.display()))
}

/// The target `exports` gives `key` (`.` or `./subpath`), taking conditions and patterns.
fn exported(exports: &Value, key: &str) -> Option<String> {
    let is_subpath_map = exports
        .as_object()
        .is_some_and(|map| map.keys().any(|k| k.starts_with('.')));
    if !is_subpath_map {
        // A string, an array or conditions: all of it is the package's `.`.
        return (key == ".").then(|| target(exports, None)).flatten();
    }
    let map = exports.as_object()?;
    if let Some(value) = map.get(key) {
        return target(value, None);
    }
    // The longest pattern whose prefix and suffix the key fits, as Node picks.
    map.iter()
        .filter_map(|(pattern, value)| {
            let (prefix, suffix) = pattern.split_once('*')?;
            let middle = key.strip_prefix(prefix)?.strip_suffix(suffix)?;
            Some((prefix.len(), middle, value))
        })
        .max_by_key(|(prefix, _, _)| *prefix)
        .and_then(|(_, middle, value)| target(value, Some(middle)))
}

/// A target of `exports`: a path (`*` replaced by `star`), the first condition this runtime
/// takes, or the first of an array that resolves.
fn target(value: &Value, star: Option<&str>) -> Option<String> {
    match value {
        Value::String(path) => Some(match star {
            Some(star) => path.replace('*', star),
            None => path.clone(),
        }),
        Value::Object(conditions) => conditions
            .iter()
            .filter(|(condition, _)| CONDITIONS.contains(&condition.as_str()))
            .find_map(|(_, value)| target(value, star)),
        Value::Array(choices) => choices.iter().find_map(|choice| target(choice, star)),
        _ => None,
    }
}

/// `path` if it is a file, else with `.js` or `.mjs` added, else its `index.js`.
fn file_like(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_owned());
    }
    let name = path.file_name()?.to_string_lossy().into_owned();
    [
        path.with_file_name(format!("{name}.js")),
        path.with_file_name(format!("{name}.mjs")),
        path.join("index.js"),
    ]
    .into_iter()
    .find(|candidate| candidate.is_file())
}

/// `path` without `.` and `..` segments (without touching the file system, so that a
/// symbolic link in `node_modules` keeps its place in the ids).
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The id of the module at `path`: its path relative to `root`, `/`-separated, with `..`
/// segments for a file outside it.
fn id_of(root: &Path, path: &Path) -> String {
    let root: Vec<Component> = root.components().collect();
    let path: Vec<Component> = path.components().collect();
    let shared = root.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_owned(), root.len() - shared);
    let downs = path[shared..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

/// Where `specifier` is written in `source`, quoted: 1-based line and column of its quote.
fn position_of_specifier(source: &str, specifier: &str) -> (usize, usize) {
    let at = [format!("\"{specifier}\""), format!("'{specifier}'")]
        .iter()
        .filter_map(|quoted| source.find(quoted.as_str()))
        .min()
        .unwrap_or(0);
    line_and_column(source, at)
}

/// The 1-based line and column (in characters) of byte `at` of `source`.
fn line_and_column(source: &str, at: usize) -> (usize, usize) {
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

/// `FILE:LINE:COLUMN: syntax error: message`, with the position boa's message ends in
/// ("at line 3, col 7").
pub fn located(app: &Path, message: &str) -> String {
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
            "{}:{line}:{column}: syntax error: {}",
            app.display(),
            &message[..at]
        ),
        None => format!("{}: syntax error: {message}", app.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (path, contents) under a new directory.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, contents) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        dir
    }

    /// The error gathering `dir`'s `app.js` ends in.
    fn gather_error(dir: &tempfile::TempDir) -> String {
        AppModules::gather(&dir.path().join("app.js"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn relative_files_and_packages_are_gathered_with_their_links() {
        let dir = tree(&[
            (
                "app/app.js",
                "import { greet } from './lib/greet.js';\nimport route from 'tiny-router';\n\
                 import { sub } from '@acme/kit/sub';\nexport default { fetch: () => greet() };\n",
            ),
            (
                "app/lib/greet.js",
                "export * from '../shared';\nexport const greet = () => 'hi';\n",
            ),
            ("app/shared/index.js", "export const shared = 1;\n"),
            (
                "node_modules/tiny-router/package.json",
                r#"{"name": "tiny-router", "main": "cjs.js", "module": "esm/index.js"}"#,
            ),
            (
                "node_modules/tiny-router/esm/index.js",
                "export default function route() {}\n",
            ),
            (
                "node_modules/@acme/kit/package.json",
                r#"{"exports": {".": "./index.js", "./*": {"require": "./cjs/*.js", "import": "./esm/*.mjs"}}}"#,
            ),
            (
                "node_modules/@acme/kit/esm/sub.mjs",
                "export const sub = 2;\n",
            ),
        ]);
        let app = AppModules::gather(&dir.path().join("app/app.js")).unwrap();
        assert_eq!(app.entry, "app.js");
        let ids: Vec<&str> = app.modules.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "../node_modules/@acme/kit/esm/sub.mjs",
                "../node_modules/tiny-router/esm/index.js",
                "app.js",
                "lib/greet.js",
                "shared/index.js",
            ]
        );
        let links = &app.modules["app.js"].imports;
        assert_eq!(links["./lib/greet.js"], "lib/greet.js");
        assert_eq!(
            links["tiny-router"],
            "../node_modules/tiny-router/esm/index.js"
        );
        assert_eq!(
            links["@acme/kit/sub"],
            "../node_modules/@acme/kit/esm/sub.mjs"
        );
        assert_eq!(
            app.modules["lib/greet.js"].imports["../shared"],
            "shared/index.js"
        );
        let json: Value = serde_json::from_str(&app.to_json()).unwrap();
        assert_eq!(json["entry"], "app.js");
        assert_eq!(
            json["modules"]["lib/greet.js"]["source"],
            app.modules["lib/greet.js"].source
        );
    }

    #[test]
    fn an_unresolvable_import_names_file_line_and_column() {
        let dir = tree(&[(
            "app.js",
            "export const a = 1;\n  import { x } from \"./missing.js\";\n",
        )]);
        let error = gather_error(&dir);
        let expected = format!(
            "{}:2:21: cannot import \"./missing.js\"",
            dir.path().join("app.js").display()
        );
        assert!(error.starts_with(&expected), "{error}");

        let dir = tree(&[("app.js", "import 'left-pad';\n")]);
        let error = gather_error(&dir);
        assert!(
            error.contains(":1:8: cannot import \"left-pad\": no package"),
            "{error}"
        );
    }

    #[test]
    fn exports_that_hide_a_subpath_refuse_it() {
        let dir = tree(&[
            ("app.js", "import 'kit/internal.js';\n"),
            (
                "node_modules/kit/package.json",
                r#"{"exports": {".": "./index.js"}}"#,
            ),
            ("node_modules/kit/internal.js", "export {};\n"),
        ]);
        let error = gather_error(&dir);
        assert!(
            error.contains("does not export \"./internal.js\""),
            "{error}"
        );
    }

    #[test]
    fn a_syntax_error_in_an_imported_file_names_that_file() {
        let dir = tree(&[
            ("app.js", "import './lib.js';\n"),
            ("lib.js", "export const x = ;\n"),
        ]);
        let error = gather_error(&dir);
        let expected = format!("{}:1:", dir.path().join("lib.js").display());
        assert!(error.starts_with(&expected), "{error}");
        assert!(error.contains("syntax error"), "{error}");
    }

    #[test]
    fn a_commonjs_package_is_refused_with_the_reason() {
        let dir = tree(&[
            ("app.js", "import pad from 'pad';\n"),
            (
                "node_modules/pad/index.js",
                "module.exports = function pad() {};\n",
            ),
        ]);
        let error = gather_error(&dir);
        assert!(
            error.contains("node_modules/pad/index.js:1:1: this is a CommonJS module"),
            "{error}"
        );
    }

    #[test]
    fn spin_js_sdk_packages_are_built_in_under_both_scopes() {
        let dir = tree(&[
            (
                "app.js",
                "import { openDefault } from '@spinframework/spin-kv';\n\
                 import { get } from '@fermyon/spin-variables';\n\
                 import * as kv from '@fermyon/spin-kv';\n",
            ),
            // A copy from npm, which imports Spin's WIT, is passed over.
            (
                "node_modules/@spinframework/spin-kv/package.json",
                "{\"main\": \"index.js\"}",
            ),
            (
                "node_modules/@spinframework/spin-kv/index.js",
                "import * as spinKv from 'fermyon:spin/key-value@2.0.0';\n",
            ),
        ]);
        let modules = AppModules::gather(&dir.path().join("app.js")).unwrap();
        let app = &modules.modules["app.js"];
        assert_eq!(
            app.imports["@spinframework/spin-kv"],
            "@spinframework/spin-kv"
        );
        assert_eq!(app.imports["@fermyon/spin-kv"], "@spinframework/spin-kv");
        assert_eq!(
            app.imports["@fermyon/spin-variables"],
            "@spinframework/spin-variables"
        );
        let ids: Vec<&str> = modules.modules.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "@spinframework/spin-kv",
                "@spinframework/spin-variables",
                "app.js"
            ]
        );
        assert!(modules.modules["@spinframework/spin-kv"]
            .source
            .contains("export function openDefault"));
    }

    #[test]
    fn a_spin_js_sdk_package_rotor_lacks_is_refused_with_the_list() {
        let dir = tree(&[(
            "app.js",
            "\nimport { ask } from '@spinframework/spin-llm';\n",
        )]);
        let message = gather_error(&dir);
        assert!(message.contains("app.js:2:21: cannot import"), "{message}");
        assert!(message.contains("@spinframework/spin-kv,"), "{message}");
    }

    /// Every built-in module parses as a module and imports nothing.
    #[test]
    fn the_built_in_modules_parse_and_import_nothing() {
        for module in BUILTIN_MODULES {
            let specifiers = import_specifiers(Path::new(module.id), module.source)
                .unwrap_or_else(|e| panic!("{}: {e}", module.id));
            assert!(specifiers.is_empty(), "{}: {specifiers:?}", module.id);
        }
    }

    #[test]
    fn package_names_split_from_their_subpaths() {
        assert_eq!(package_name("router"), ("router", ""));
        assert_eq!(package_name("router/x/y.js"), ("router", "x/y.js"));
        assert_eq!(package_name("@scope/kit"), ("@scope/kit", ""));
        assert_eq!(package_name("@scope/kit/sub"), ("@scope/kit", "sub"));
    }
}
