//! Values that must never show in a log, an error or `Debug` output: Vault tokens, API
//! tokens, passwords in connection URLs, variables marked `secret = true`.
//!
//! [`Secret`] holds such a value and prints as `<redacted>` whichever way it is formatted;
//! the value itself is only reached through [`Secret::expose`], which makes every use easy
//! to find. [`redact_url`] is for the addresses that are shown on purpose (which Redis
//! server a trigger subscribes to, say) and may carry a password.

use std::fmt;

/// A value shown as `<redacted>` by `Debug` and `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself, for the one place that sends it where it belongs.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `url` with the user information before its host (`user:password@`) replaced by `…@`,
/// for messages; anything that is not a URL with user information comes back unchanged.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    // The authority ends at the first `/`, `?` or `#`; its user information at its last `@`.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((_credentials, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match scheme {
        Some(scheme) => format!("{scheme}://…@{host}{path}"),
        None => format!("…@{host}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::from("hunter2");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(<redacted>)");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn urls_lose_their_credentials() {
        let cases = [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://user:s3cret@cache:6379/0", "redis://…@cache:6379/0"),
            ("redis://:s3cret@cache:6379", "redis://…@cache:6379"),
            ("postgres://u:p%40ss@db/app?x=1", "postgres://…@db/app?x=1"),
            ("mqtt://u:a@b@broker:1883", "mqtt://…@broker:1883"),
            ("user:s3cret@cache:6379", "…@cache:6379"),
            ("https://example.com/a@b", "https://example.com/a@b"),
            ("not a url", "not a url"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
