//! Spin's `{{ name }}` templates, as used in component variables and in
//! `allowed_outbound_hosts`.

use std::fmt;

/// A parsed template: literal text and references to variables, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// Why a template or a variable name is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// The template as written (`{{ name }}` for each variable), never its values.
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => f.write_str(text)?,
                Part::Variable(name) => write!(f, "{{{{ {name} }}}}")?,
            }
        }
        Ok(())
    }
}

impl Template {
    /// Parses `text`; every `{{ name }}` must name a valid variable.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| TemplateError(format!("unclosed `{{{{` in template {text:?}")))?;
            let name = after[..end].trim();
            check_name(name).map_err(|e| TemplateError(format!("in template {text:?}: {e}")))?;
            parts.push(Part::Variable(name.to_owned()));
            rest = &after[end + 2..];
        }
        if rest.contains("}}") {
            return Err(TemplateError(format!(
                "unopened `}}}}` in template {text:?}"
            )));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// The variables the template refers to, in order, repeats included.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Fills the template, asking `lookup` for each variable's value.
    pub fn render<E>(
        &self,
        mut lookup: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(&lookup(name)?),
            }
        }
        Ok(out)
    }

    /// [`Template::render`] for a lookup that awaits.
    pub async fn render_async<E, F, Fut>(&self, mut lookup: F) -> Result<String, E>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<String, E>>,
    {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(&lookup(name.clone()).await?),
            }
        }
        Ok(out)
    }
}

/// Checks a variable name as Spin does: lowercase ASCII letters, digits and `_`, starting
/// with a letter, and no `__` (which the environment provider could not tell from `_`).
pub fn check_name(name: &str) -> Result<(), TemplateError> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if valid {
        Ok(())
    } else {
        Err(TemplateError(format!(
            "{name:?} is not a valid variable name: use lowercase letters, digits and single underscores, starting with a letter"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> Result<String, String> {
        Template::parse(text)
            .map_err(|e| e.0)?
            .render(|name| Ok::<_, String>(name.to_uppercase()))
    }

    #[test]
    fn renders_literals_and_variables() {
        assert_eq!(render("plain").unwrap(), "plain");
        assert_eq!(render("{{ host }}").unwrap(), "HOST");
        assert_eq!(
            render("https://{{host}}:{{ port }}/x").unwrap(),
            "https://HOST:PORT/x"
        );
        assert_eq!(render("").unwrap(), "");
    }

    #[test]
    fn lists_its_variables() {
        let template = Template::parse("{{ a }}-{{ b_2 }}-{{ a }}").unwrap();
        assert_eq!(template.variables().collect::<Vec<_>>(), ["a", "b_2", "a"]);
    }

    #[test]
    fn refuses_broken_templates() {
        assert!(render("{{ host").unwrap_err().contains("unclosed"));
        assert!(render("host }}").unwrap_err().contains("unopened"));
        assert!(render("{{ Host }}").unwrap_err().contains("not a valid"));
        assert!(render("{{ }}").unwrap_err().contains("not a valid"));
    }

    #[test]
    fn variable_names_follow_spin() {
        for good in ["a", "api_key", "v2", "a_b_c"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "_a", "2a", "A", "a-b", "a__b", "a_", "a.b", "ä"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
