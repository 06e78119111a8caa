//! Matching request paths to components the way Spin does.
//!
//! A route is exact (`/hello`), a prefix wildcard (`/hello/...`, which also matches `/hello`
//! itself; `/...` matches everything), and may contain `:name` segments that match any one
//! segment. When several routes match, the most specific wins: an exact route before a
//! wildcard, then the one with more literal segments, then the one with more segments; among
//! equals, the manifest's order. `rotor_sdk::http::Router` follows the same rule
//! (`tests/route_precedence.rs` checks that both agree).

use std::fmt;

/// One parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// What a successful match tells the guest (through Spin's `spin-*` headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a, T> {
    /// The value registered with the route (the component name, in the host).
    pub target: &'a T,
    /// The route as written in the manifest.
    pub route: &'a str,
    /// The route without its trailing `/...`: the path prefix the component owns.
    pub component_route: String,
    /// The part of the path after `component_route`, for wildcard routes.
    pub path_info: String,
    /// The values of `:name` segments, in route order.
    pub params: Vec<(String, String)>,
}

/// Why a route table could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConflict {
    /// The route added first.
    pub first: String,
    /// The route that matches exactly the same paths.
    pub second: String,
}

impl fmt::Display for RouteConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.second {
            write!(f, "route {:?} is declared twice", self.first)
        } else {
            write!(
                f,
                "routes {:?} and {:?} match the same requests",
                self.first, self.second
            )
        }
    }
}

impl Route {
    /// Parses a route as written in `spin.toml`.
    pub fn parse(raw: &str) -> Route {
        let (path, wildcard) = match raw.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None if raw == "..." => ("", true),
            None => (raw, false),
        };
        let segments = split(path)
            .map(|segment| match segment.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(segment.to_owned()),
            })
            .collect();
        Route {
            raw: raw.to_owned(),
            segments,
            wildcard,
        }
    }

    /// The shape two routes share when they match the same paths: names of params ignored.
    fn shape(&self) -> (Vec<Option<&str>>, bool) {
        let segments = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => Some(l.as_str()),
                Segment::Param(_) => None,
            })
            .collect();
        (segments, self.wildcard)
    }

    fn specificity(&self) -> (bool, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (!self.wildcard, literals, self.segments.len())
    }

    fn matches(&self, path: &str) -> Option<Captured> {
        let mut parts = split(path).peekable();
        let mut params = Vec::new();
        let mut prefix = String::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), part.to_owned())),
            }
            prefix.push('/');
            prefix.push_str(part);
        }
        let rest: Vec<&str> = parts.collect();
        if !self.wildcard && !rest.is_empty() {
            return None;
        }
        let path_info = if rest.is_empty() {
            // `/hello/` under `/hello/...` keeps its trailing slash as path info.
            if self.wildcard && path.ends_with('/') && path.len() > prefix.len() {
                "/".to_owned()
            } else {
                String::new()
            }
        } else {
            let mut info = format!("/{}", rest.join("/"));
            if path.ends_with('/') {
                info.push('/');
            }
            info
        };
        Some(Captured {
            params,
            component_route: self
                .raw
                .strip_suffix("/...")
                .unwrap_or(&self.raw)
                .to_owned(),
            path_info,
        })
    }
}

/// What one route took from a path.
struct Captured {
    params: Vec<(String, String)>,
    component_route: String,
    path_info: String,
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Routes and what each leads to.
#[derive(Debug, Clone)]
pub struct RouteTable<T> {
    routes: Vec<(Route, T)>,
}

impl<T> RouteTable<T> {
    /// Builds a table, refusing two routes that match exactly the same requests.
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> Result<Self, RouteConflict> {
        let mut routes: Vec<(Route, T)> = Vec::new();
        for (raw, target) in entries {
            let route = Route::parse(&raw);
            if let Some((existing, _)) = routes.iter().find(|(r, _)| r.shape() == route.shape()) {
                return Err(RouteConflict {
                    first: existing.raw.clone(),
                    second: raw,
                });
            }
            routes.push((route, target));
        }
        // Stable sort: among equally specific routes, manifest order decides.
        routes.sort_by_key(|(route, _)| std::cmp::Reverse(route.specificity()));
        Ok(RouteTable { routes })
    }

    /// The most specific route matching `path` (without query string).
    pub fn find(&self, path: &str) -> Option<RouteMatch<'_, T>> {
        self.routes.iter().find_map(|(route, target)| {
            route.matches(path).map(|captured| RouteMatch {
                target,
                route: &route.raw,
                component_route: captured.component_route,
                path_info: captured.path_info,
                params: captured.params,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[&str]) -> RouteTable<String> {
        RouteTable::new(routes.iter().map(|r| (r.to_string(), r.to_string()))).unwrap()
    }

    fn winner(table: &RouteTable<String>, path: &str) -> Option<String> {
        table.find(path).map(|m| m.target.clone())
    }

    #[test]
    fn exact_routes_match_only_themselves() {
        let t = table(&["/hello"]);
        assert_eq!(winner(&t, "/hello").as_deref(), Some("/hello"));
        assert_eq!(winner(&t, "/hello/"), Some("/hello".into()));
        assert_eq!(winner(&t, "/hello/world"), None);
        assert_eq!(winner(&t, "/hell"), None);
    }

    #[test]
    fn wildcards_match_the_prefix_and_below() {
        let t = table(&["/static/..."]);
        assert_eq!(winner(&t, "/static").as_deref(), Some("/static/..."));
        assert_eq!(
            winner(&t, "/static/a/b.css").as_deref(),
            Some("/static/...")
        );
        assert_eq!(winner(&t, "/staticky"), None);
        let m = t.find("/static/a/b.css").unwrap();
        assert_eq!(m.component_route, "/static");
        assert_eq!(m.path_info, "/a/b.css");
        assert_eq!(t.find("/static").unwrap().path_info, "");
    }

    #[test]
    fn catch_all() {
        let t = table(&["/..."]);
        let m = t.find("/anything/at/all").unwrap();
        assert_eq!(m.component_route, "");
        assert_eq!(m.path_info, "/anything/at/all");
        assert!(t.find("/").is_some());
    }

    #[test]
    fn most_specific_wins() {
        let t = table(&[
            "/...",
            "/api/...",
            "/api/users/:id",
            "/api/users/me",
            "/api/health",
        ]);
        assert_eq!(winner(&t, "/api/health").as_deref(), Some("/api/health"));
        assert_eq!(
            winner(&t, "/api/users/me").as_deref(),
            Some("/api/users/me")
        );
        assert_eq!(
            winner(&t, "/api/users/42").as_deref(),
            Some("/api/users/:id")
        );
        assert_eq!(winner(&t, "/api/other").as_deref(), Some("/api/..."));
        assert_eq!(winner(&t, "/index.html").as_deref(), Some("/..."));
    }

    #[test]
    fn params_are_captured() {
        let t = table(&["/users/:user/posts/:post"]);
        let m = t.find("/users/ada/posts/7").unwrap();
        assert_eq!(
            m.params,
            vec![
                ("user".to_owned(), "ada".to_owned()),
                ("post".to_owned(), "7".to_owned())
            ]
        );
    }

    #[test]
    fn colliding_routes_are_refused() {
        let same = RouteTable::new([("/a".to_owned(), 1), ("/a".to_owned(), 2)]).unwrap_err();
        assert_eq!(same.to_string(), "route \"/a\" is declared twice");
        let params =
            RouteTable::new([("/u/:id".to_owned(), 1), ("/u/:name".to_owned(), 2)]).unwrap_err();
        assert_eq!(params.first, "/u/:id");
        assert_eq!(params.second, "/u/:name");
        assert!(RouteTable::new([("/a".to_owned(), 1), ("/a/...".to_owned(), 2)]).is_ok());
    }
}
