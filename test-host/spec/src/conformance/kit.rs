//! The conformance kit: a folder of specs (`KIT/NAME/test.json5`, each describing one
//! reference app's behaviour) run against one SDK's apps (`APPS/NAME/spin.toml`), with a
//! table of spec × passed/failed/skipped and a JUnit XML report for an SDK's CI to archive.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rotor_host::engine::Engine;

use super::{CaseResult, SPEC_FILE};

/// How one spec of the kit went.
#[derive(Debug)]
pub struct KitRow {
    /// The spec's name: its directory in the kit.
    pub spec: String,
    /// What happened.
    pub outcome: KitOutcome,
}

/// What running one spec of the kit came to.
#[derive(Debug)]
pub enum KitOutcome {
    /// The SDK has no app of that name: not counted as a failure (an SDK need not do
    /// everything), but shown.
    NoApp,
    /// The app could not be run at all (no manifest, a build or load error).
    Broken(String),
    /// The spec's cases ran.
    Ran(Vec<CaseResult>),
}

impl KitRow {
    /// Cases passed, failed and skipped; a broken app counts as one failure.
    pub fn counts(&self) -> (usize, usize, usize) {
        match &self.outcome {
            KitOutcome::NoApp => (0, 0, 0),
            KitOutcome::Broken(_) => (0, 1, 0),
            KitOutcome::Ran(results) => {
                let failed = results.iter().filter(|r| r.outcome.is_err()).count();
                let skipped = results.iter().filter(|r| r.skipped.is_some()).count();
                (results.len() - failed - skipped, failed, skipped)
            }
        }
    }
}

/// The specs of `kit`: its subdirectories that hold a `test.json5`, sorted by name.
pub fn specs(kit: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(kit).with_context(|| format!("cannot read {}", kit.display()))? {
        let dir = entry?.path();
        let spec = dir.join(SPEC_FILE);
        if spec.is_file() {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            specs.push((name, spec));
        }
    }
    specs.sort();
    anyhow::ensure!(
        !specs.is_empty(),
        "{} holds no NAME/{SPEC_FILE}: is it a conformance kit?",
        kit.display()
    );
    Ok(specs)
}

/// Runs every spec of `kit` against the app of the same name in `apps`; `prepare` runs first
/// for each app found (a build, say), and its error marks the app broken.
pub async fn run_kit(
    kit: &Path,
    apps: &Path,
    engine: Arc<Engine>,
    prepare: impl Fn(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<KitRow>> {
    let mut rows = Vec::new();
    for (spec, spec_file) in specs(kit)? {
        let app = apps.join(&spec);
        let outcome = if !app.is_dir() {
            KitOutcome::NoApp
        } else if !app.join("spin.toml").is_file() {
            KitOutcome::Broken(format!("{} has no spin.toml", app.display()))
        } else {
            let ran = async {
                prepare(&app)?;
                super::run_spec(&app, &spec_file, engine.clone()).await
            }
            .await;
            match ran {
                Ok(results) => KitOutcome::Ran(results),
                Err(error) => KitOutcome::Broken(format!("{error:#}")),
            }
        };
        rows.push(KitRow { spec, outcome });
    }
    Ok(rows)
}

/// The table of `rows`: one line per spec, then the totals.
pub fn table(rows: &[KitRow]) -> String {
    let width = rows
        .iter()
        .map(|row| row.spec.len())
        .chain([4, "total".len()])
        .max()
        .unwrap_or(4);
    let mut table = format!("{:width$}  passed  failed  skipped  result\n", "spec");
    let mut totals = (0, 0, 0);
    for row in rows {
        let (passed, failed, skipped) = row.counts();
        totals = (totals.0 + passed, totals.1 + failed, totals.2 + skipped);
        let result = match &row.outcome {
            KitOutcome::NoApp => "no app".to_owned(),
            KitOutcome::Broken(why) => {
                format!("broken: {}", why.lines().next().unwrap_or_default())
            }
            KitOutcome::Ran(_) if failed > 0 => "FAIL".to_owned(),
            KitOutcome::Ran(_) => "pass".to_owned(),
        };
        writeln!(
            table,
            "{:width$}  {passed:>6}  {failed:>6}  {skipped:>7}  {result}",
            row.spec
        )
        .expect("writing to a String");
    }
    writeln!(
        table,
        "{:width$}  {:>6}  {:>6}  {:>7}",
        "total", totals.0, totals.1, totals.2
    )
    .expect("writing to a String");
    table
}

/// Whether every spec that has an app passed.
pub fn all_passed(rows: &[KitRow]) -> bool {
    rows.iter().all(|row| row.counts().1 == 0)
}

/// `rows` as JUnit XML: a `<testsuite>` per spec with an app, a `<testcase>` per case
/// (`<failure>` with the differences, `<skipped>` with why), and a broken app as one failed
/// case.
pub fn junit_xml(rows: &[KitRow]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    let mut suites = String::new();
    for row in rows {
        let (passed, failed, skips) = row.counts();
        let cases = passed + failed + skips;
        if matches!(row.outcome, KitOutcome::NoApp) {
            continue;
        }
        tests += cases;
        failures += failed;
        skipped += skips;
        writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{cases}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skips}\">",
            escape(&row.spec)
        )
        .expect("writing to a String");
        match &row.outcome {
            KitOutcome::NoApp => {}
            KitOutcome::Broken(why) => {
                writeln!(
                    suites,
                    "    <testcase classname=\"{0}\" name=\"the app runs\">\n      <failure message=\"the app could not be run\">{1}</failure>\n    </testcase>",
                    escape(&row.spec),
                    escape(why)
                )
                .expect("writing to a String");
            }
            KitOutcome::Ran(results) => {
                for result in results {
                    let open = format!(
                        "    <testcase classname=\"{}\" name=\"{}\"",
                        escape(&row.spec),
                        escape(&result.name)
                    );
                    let line = match (&result.skipped, &result.outcome) {
                        (Some(why), _) => format!(
                            "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                            escape(why)
                        ),
                        (None, Ok(())) => format!("{open}/>"),
                        (None, Err(problems)) => format!(
                            "{open}>\n      <failure message=\"the response differs from the spec\">{}</failure>\n    </testcase>",
                            escape(problems.trim())
                        ),
                    };
                    writeln!(suites, "{line}").expect("writing to a String");
                }
            }
        }
        writeln!(suites, "  </testsuite>").expect("writing to a String");
    }
    writeln!(
        xml,
        "<testsuites name=\"rotor conformance kit\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    )
    .expect("writing to a String");
    xml.push_str(&suites);
    xml.push_str("</testsuites>\n");
    xml
}

/// `text` as XML character data or attribute value; characters XML 1.0 cannot carry at all
/// become `?`.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 => escaped.push('?'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: Result<(), String>, skipped: Option<&str>) -> CaseResult {
        CaseResult {
            app: PathBuf::from("apps/x"),
            name: name.into(),
            outcome,
            skipped: skipped.map(str::to_owned),
        }
    }

    fn rows() -> Vec<KitRow> {
        vec![
            KitRow {
                spec: "http-hello".into(),
                outcome: KitOutcome::Ran(vec![
                    case("greets", Ok(()), None),
                    case(
                        "greets <Ada> & \"Bob\"",
                        Err("\nbody: expected \"a\", got \"b\"".into()),
                        None,
                    ),
                    case("needs the host", Ok(()), Some("needs the host")),
                ]),
            },
            KitRow {
                spec: "kv-todo".into(),
                outcome: KitOutcome::NoApp,
            },
            KitRow {
                spec: "pg-orders".into(),
                outcome: KitOutcome::Broken("no spin.toml\nmore".into()),
            },
        ]
    }

    #[test]
    fn the_table_has_a_row_per_spec_and_totals() {
        let table = table(&rows());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "spec        passed  failed  skipped  result");
        assert_eq!(lines[1], "http-hello       1       1        1  FAIL");
        assert_eq!(lines[2], "kv-todo          0       0        0  no app");
        assert_eq!(
            lines[3],
            "pg-orders        0       1        0  broken: no spin.toml"
        );
        assert_eq!(lines[4], "total            1       2        1");
        assert!(!all_passed(&rows()));
        assert!(all_passed(&rows()[1..2]));
    }

    #[test]
    fn junit_counts_and_escapes() {
        let xml = junit_xml(&rows());
        assert!(xml.contains(
            "<testsuites name=\"rotor conformance kit\" tests=\"4\" failures=\"2\" errors=\"0\" skipped=\"1\">"
        ), "{xml}");
        assert!(xml.contains("<testsuite name=\"http-hello\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">"), "{xml}");
        assert!(
            xml.contains("<testcase classname=\"http-hello\" name=\"greets\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"greets &lt;Ada&gt; &amp; &quot;Bob&quot;\""),
            "{xml}"
        );
        assert!(
            xml.contains("body: expected &quot;a&quot;, got &quot;b&quot;</failure>"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"needs the host\"/>"),
            "{xml}"
        );
        assert!(
            !xml.contains("kv-todo"),
            "a spec without an app is no suite: {xml}"
        );
        assert!(xml.contains("no spin.toml&#10;more</failure>"), "{xml}");
        // Every element opened is closed.
        assert_eq!(
            xml.matches("<testsuite ").count(),
            xml.matches("</testsuite>").count()
        );
        let self_closed = xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testcase") && l.ends_with("/>"))
            .count();
        assert_eq!(
            xml.matches("<testcase ").count(),
            xml.matches("</testcase>").count() + self_closed
        );
    }
}
