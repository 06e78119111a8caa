//! `allowed_outbound_hosts` as Spin reads it: which destinations a component may reach, over
//! HTTP (`outbound_http`), TCP and UDP (`sockets`) and the clients of databases, Redis and
//! MQTT (`AllowedHosts::check`).
//!
//! An entry is `scheme://host[:port]`:
//!
//! - `scheme` is a name (`https`) or `*` for any;
//! - `host` is a name (`api.example.com`), `*` for any, `*.example.com` for any subdomain
//!   (not `example.com` itself), an IP address, an IP range (`10.0.0.0/8`), or `self`, the app
//!   itself;
//! - `port` is a number, `*` for any, or a range (`8000..8999`); without one, the scheme's
//!   default port (for `*://`, the default port of whichever scheme the request uses).
//!
//! `{{ variable }}` templates are filled from the app's variables before parsing. Spin 1's
//! `insecure:allow-all` allows everything.
use std::net::IpAddr;

/// The well-known port of `scheme`, used when an entry or a URL gives none.
pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "redis" => 6379,
        "rediss" => 6380,
        "postgres" | "postgresql" => 5432,
        "mysql" | "mariadb" => 3306,
        "mqtt" => 1883,
        "mqtts" => 8883,
        _ => return None,
    })
}

/// The `allowed_outbound_hosts` entries Spin makes of one entry of Spin 1's
/// `allowed_http_hosts`: `insecure:allow-all` allows every HTTP and HTTPS host and `self`;
/// `self` is `http://self`; `HOST[:PORT]` (a scheme and a trailing `/` are dropped) allows it
/// over HTTP and HTTPS.
pub fn from_allowed_http_host(entry: &str) -> Result<Vec<String>, String> {
    match entry {
        "insecure:allow-all" => {
            return Ok(vec![
                "http://*:*".into(),
                "https://*:*".into(),
                "http://self".into(),
            ])
        }
        "self" => return Ok(vec!["http://self".into()]),
        _ => {}
    }
    let address = entry
        .strip_prefix("http://")
        .or_else(|| entry.strip_prefix("https://"))
        .unwrap_or(entry)
        .trim_end_matches('/');
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || address.starts_with('[') => {
            let port: u16 = port
                .parse()
                .map_err(|_| format!("{entry:?} has no valid port after ':'"))?;
            (host, Some(port))
        }
        _ => (address, None),
    };
    let valid =
        !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) && !host.contains("//");
    if !valid {
        return Err(format!(
            "{entry:?} is not a host or host:port; write it as `allowed_outbound_hosts = [\"https://HOST\"]`"
        ));
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Ok(vec![
        format!("http://{host}{port}"),
        format!("https://{host}{port}"),
    ])
}

/// One parsed entry of `allowed_outbound_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// The suffix, with its leading dot: `.example.com`.
    Subdomains(String),
    Exact(String),
    Ip(IpAddr),
    Range(IpAddr, u8),
    SelfApp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    Default,
    Range(u16, u16),
}

impl AllowedHost {
    /// Parses one entry (templates already filled).
    pub fn parse(entry: &str) -> Result<AllowedHost, String> {
        let entry = entry.trim();
        if entry == "self" {
            return Ok(AllowedHost {
                scheme: None,
                host: HostPattern::SelfApp,
                port: PortPattern::Any,
            });
        }
        let Some((scheme, rest)) = entry.split_once("://") else {
            return Err(format!(
                "{entry:?} has no scheme: write it as `https://{entry}` (or `*://{entry}:*` for any)"
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        let scheme = if scheme == "*" {
            None
        } else if scheme.starts_with(|c: char| c.is_ascii_lowercase())
            && scheme
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
        {
            Some(scheme)
        } else {
            return Err(format!("{entry:?}: {scheme:?} is not a scheme"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['?', '#']) {
            return Err(format!(
                "{entry:?}: an allowed host has no query or fragment"
            ));
        }
        let (host, port) = split_host_port(rest)
            .ok_or_else(|| format!("{entry:?}: cannot tell the host from the port"))?;
        let host = parse_host(host).map_err(|e| format!("{entry:?}: {e}"))?;
        let port = match port {
            None => {
                if let Some(scheme) = &scheme {
                    if default_port(scheme).is_none() && host != HostPattern::SelfApp {
                        return Err(format!(
                            "{entry:?}: scheme {scheme:?} has no default port; give one, as in `{scheme}://host:1234`"
                        ));
                    }
                }
                PortPattern::Default
            }
            Some("*") => PortPattern::Any,
            Some(port) => parse_port_range(port).map_err(|e| format!("{entry:?}: {e}"))?,
        };
        Ok(AllowedHost { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let host_matches = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomains(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Exact(name) => host == name,
            HostPattern::Ip(ip) => host_ip(host) == Some(*ip),
            HostPattern::Range(network, bits) => {
                host_ip(host).is_some_and(|ip| in_range(ip, *network, *bits))
            }
            HostPattern::SelfApp => host == "self",
        };
        host_matches
            && match self.port {
                PortPattern::Any => true,
                PortPattern::Default => default_port(scheme) == Some(port),
                PortPattern::Range(low, high) => (low..=high).contains(&port),
            }
    }
}

/// A component's whole `allowed_outbound_hosts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<AllowedHost>,
    allow_all: bool,
}

impl AllowedHosts {
    /// Parses every entry (templates already filled); the first bad one is the error.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<AllowedHosts, String> {
        let mut allowed = AllowedHosts::default();
        for entry in entries {
            if entry.trim() == "insecure:allow-all" {
                allowed.allow_all = true;
                continue;
            }
            allowed.entries.push(AllowedHost::parse(entry)?);
        }
        Ok(allowed)
    }

    /// Whether a request to `scheme://host:port` may leave the host. `host` is `self` for the
    /// app itself.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        // `example.com.` is the fully qualified spelling of `example.com`: the same machine.
        let host = host.strip_suffix('.').unwrap_or(host);
        self.allow_all || self.entries.iter().any(|e| e.allows(&scheme, host, port))
    }

    /// Whether a component may look up the address of `name`: some entry names that host
    /// (or a pattern it fits), on any scheme and port. An IP address needs no lookup and is
    /// always allowed; where it may be connected to is checked when it is.
    pub fn allows_name(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let name = name.strip_suffix('.').unwrap_or(name);
        if self.allow_all || host_ip(name).is_some() {
            return true;
        }
        self.entries.iter().any(|entry| match &entry.host {
            HostPattern::Any => true,
            HostPattern::Subdomains(suffix) => name.ends_with(suffix.as_str()),
            HostPattern::Exact(exact) => name == exact,
            HostPattern::Ip(_) | HostPattern::Range(..) | HostPattern::SelfApp => false,
        })
    }

    /// [`AllowedHosts::allows`] for a URL such as `https://api.example.com/x`; a URL without
    /// a port uses its scheme's default.
    pub fn allows_url(&self, url: &str) -> bool {
        let Ok(uri) = url.parse::<http::Uri>() else {
            return false;
        };
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return false;
        };
        let Some(port) = uri.port_u16().or_else(|| default_port(scheme)) else {
            return false;
        };
        self.allows(scheme, host, port)
    }
}

/// Where a non-HTTP connection would go (a database, Redis, an MQTT broker); never carries
/// a user or password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The scheme as `allowed_outbound_hosts` spells it: `postgres`, `mysql`, `redis`, ...
    pub scheme: &'static str,
    /// The host name or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl AllowedHosts {
    /// Refuses, before any connection is made, a destination the list does not grant; the
    /// error is the message for the guest, and the refusal is logged.
    pub fn check(&self, destination: &Destination) -> Result<(), String> {
        let Destination { scheme, host, port } = destination;
        if self.allows(scheme, host, *port) {
            return Ok(());
        }
        tracing::warn!(
            "connection to {scheme}://{host}:{port} denied: not in allowed_outbound_hosts"
        );
        Err(format!(
            "address {scheme}://{host}:{port} is not permitted by the component's \
             allowed_outbound_hosts"
        ))
    }
}

fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = text.strip_prefix('[') {
        // `[v6]` or `[v6]:port`; the brackets stay on the host for `parse_host`.
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        let host = &text[..end + 2];
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, Some(port))),
        Some(_) => None,
        None => Some((text, None)),
    }
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    let host = host.to_ascii_lowercase();
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    if host == "self" {
        return Ok(HostPattern::SelfApp);
    }
    if let Some((network, bits)) = host.split_once('/') {
        let network: IpAddr = network
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                format!("{host:?} is not a host name or an IP range (paths are not allowed)")
            })?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let bits: u8 = bits
            .parse()
            .ok()
            .filter(|b| *b <= max)
            .ok_or_else(|| format!("{host:?}: the prefix length must be 0 to {max}"))?;
        return Ok(HostPattern::Range(network, bits));
    }
    if let Some(ip) = host_ip(&host) {
        return Ok(HostPattern::Ip(ip));
    }
    let (name, pattern): (&str, fn(String) -> HostPattern) = match host.strip_prefix("*.") {
        Some(suffix) => (suffix, |s| HostPattern::Subdomains(format!(".{s}"))),
        None => (&host, HostPattern::Exact),
    };
    let valid = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !valid {
        return Err(format!(
            "{host:?} is not a host name; `*` is allowed alone or as `*.domain`, and paths are not allowed"
        ));
    }
    Ok(pattern(name.to_owned()))
}

fn parse_port_range(port: &str) -> Result<PortPattern, String> {
    let number = |text: &str| {
        text.parse::<u16>()
            .map_err(|_| format!("{port:?} is not a port, `*` or a range such as 8000..8999"))
    };
    let (low, high) = match port.split_once("..").or_else(|| port.split_once('-')) {
        Some((low, high)) => (number(low)?, number(high)?),
        None => {
            let single = number(port)?;
            (single, single)
        }
    };
    if low > high {
        return Err(format!("port range {port:?} is empty"));
    }
    Ok(PortPattern::Range(low, high))
}

fn host_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn in_range(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_1_allowed_http_hosts_convert_as_spin_converts_them() {
        assert_eq!(
            from_allowed_http_host("example.com").unwrap(),
            ["http://example.com", "https://example.com"]
        );
        assert_eq!(
            from_allowed_http_host("https://api.example.com:8443/").unwrap(),
            [
                "http://api.example.com:8443",
                "https://api.example.com:8443"
            ]
        );
        assert_eq!(from_allowed_http_host("self").unwrap(), ["http://self"]);
        assert_eq!(
            from_allowed_http_host("insecure:allow-all").unwrap(),
            ["http://*:*", "https://*:*", "http://self"]
        );
        assert!(from_allowed_http_host("example.com:http").is_err());
        assert!(from_allowed_http_host("https://example.com/path").is_err());
    }

    fn allowed(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(entries.iter().copied()).unwrap()
    }

    #[test]
    fn the_allow_and_deny_table() {
        // (entries, URL, allowed?)
        let table: &[(&[&str], &str, bool)] = &[
            (&["https://example.com"], "https://example.com/x", true),
            (&["https://example.com"], "https://example.com:443/x", true),
            (&["https://example.com"], "http://example.com/x", false),
            (&["https://example.com"], "https://example.com:8443/", false),
            (&["https://example.com"], "https://api.example.com/", false),
            (
                &["https://example.com"],
                "https://example.com.evil.org/",
                false,
            ),
            (
                &["http://example.com:8080"],
                "http://example.com:8080/",
                true,
            ),
            (&["http://example.com:8080"], "http://example.com/", false),
            (&["http://example.com:*"], "http://example.com:1/", true),
            (&["http://example.com:*"], "http://example.com/", true),
            (
                &["http://localhost:8000..8010"],
                "http://localhost:8005/",
                true,
            ),
            (
                &["http://localhost:8000..8010"],
                "http://localhost:8011/",
                false,
            ),
            (&["*://example.com"], "http://example.com/", true),
            (&["*://example.com"], "https://example.com/", true),
            (&["*://example.com"], "https://example.com:8443/", false),
            (&["*://example.com:*"], "https://example.com:8443/", true),
            (&["https://*.example.com"], "https://api.example.com/", true),
            (&["https://*.example.com"], "https://a.b.example.com/", true),
            (&["https://*.example.com"], "https://example.com/", false),
            (&["https://*.example.com"], "https://badexample.com/", false),
            (&["https://*"], "https://anything.org/", true),
            (&["https://*"], "http://anything.org/", false),
            (&["*://*:*"], "http://anything.org:1234/", true),
            (&["HTTPS://Example.COM"], "https://example.com/", true),
            (&["http://127.0.0.1:3000"], "http://127.0.0.1:3000/", true),
            (&["http://127.0.0.1:3000"], "http://127.0.0.2:3000/", false),
            (&["http://10.0.0.0/8:*"], "http://10.1.2.3:99/", true),
            (&["http://10.0.0.0/8:*"], "http://11.1.2.3:99/", false),
            (&["http://[::1]:8080"], "http://[::1]:8080/", true),
            (&["http://self"], "http://self/api", true),
            (&["http://self"], "https://self/api", false),
            (&["self"], "https://self/api", true),
            (&["http://self"], "http://example.com/", false),
            (&[], "https://example.com/", false),
            (&["insecure:allow-all"], "http://anything.org:1/", true),
            (
                &["https://a.example.com", "https://b.example.com"],
                "https://b.example.com/",
                true,
            ),
        ];
        for (entries, url, expected) in table {
            assert_eq!(
                allowed(entries).allows_url(url),
                *expected,
                "{entries:?} with {url}"
            );
        }
    }

    /// Spellings of a URL that try to reach somewhere other than what is granted, and
    /// spellings of a granted place that must still be recognised.
    #[test]
    fn bypass_attempts_are_refused() {
        let granted = allowed(&["https://api.example.com", "http://[::1]:8080"]);
        let table: &[(&str, bool)] = &[
            // userinfo is not the host
            ("https://api.example.com@evil.org/", false),
            ("https://api.example.com:443@evil.org/", false),
            ("https://user:pw@api.example.com/", true),
            // case and the root dot name the same machine
            ("https://API.Example.COM/", true),
            ("https://api.example.com./", true),
            ("https://api.example.com../", false),
            ("https://api.example.com.evil.org./", false),
            // default and explicit ports
            ("https://api.example.com:443/", true),
            ("https://api.example.com:0443/", true),
            ("https://api.example.com:444/", false),
            ("http://api.example.com:443/", false),
            // IPv6 literals, in any spelling of the same address
            ("http://[::1]:8080/", true),
            ("http://[0:0:0:0:0:0:0:1]:8080/", true),
            ("http://[::2]:8080/", false),
            ("http://[::ffff:127.0.0.1]:8080/", false),
            ("http://[::1]/", false),
            // an IP of the granted name is not the name
            ("https://93.184.216.34/", false),
            // encoded or odd hosts
            ("https://api%2Eexample.com/", false),
            ("https://api.example.com%00.evil.org/", false),
            ("https:///api.example.com/", false),
        ];
        for (url, expected) in table {
            assert_eq!(granted.allows_url(url), *expected, "{url}");
        }
    }

    #[test]
    fn only_granted_names_may_be_looked_up() {
        let granted = allowed(&[
            "tcp://db.internal:5432",
            "https://*.example.com",
            "http://10.0.0.0/8:*",
            "http://self",
        ]);
        for name in [
            "db.internal",
            "DB.Internal.",
            "api.example.com",
            "a.b.example.com",
        ] {
            assert!(granted.allows_name(name), "{name}");
        }
        for name in ["10.1.2.3", "192.168.0.1", "::1", "[::1]"] {
            assert!(granted.allows_name(name), "an IP needs no lookup: {name}");
        }
        for name in [
            "example.com",
            "evil.org",
            "db.internal.evil.org",
            "self",
            "x10.0.0.1",
        ] {
            assert!(!granted.allows_name(name), "{name}");
        }
        assert!(!allowed(&[]).allows_name("example.com"));
        assert!(allowed(&["*://*:*"]).allows_name("anything.org"));
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let cases = [
            ("example.com", "no scheme"),
            ("https://example.com/path", "not a host name"),
            ("https://example.com?x=1", "no query"),
            ("https://ex*ample.com", "not a host name"),
            ("https://example.com:http", "not a port"),
            ("https://example.com:9..1", "empty"),
            ("ftp://example.com", "no default port"),
            ("https://10.0.0.0/33", "prefix length"),
            ("ht tp://example.com", "not a scheme"),
        ];
        for (entry, needle) in cases {
            let error = AllowedHost::parse(entry).unwrap_err();
            assert!(error.contains(needle), "{entry}: {error}");
        }
    }
}
