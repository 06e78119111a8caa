//! TLS to MySQL and MariaDB: MySQL's `ssl-mode` values (also spelled `sslmode`, in any
//! case), over rustls.
//!
//! | `ssl-mode` | here |
//! |---|---|
//! | `DISABLED` | no TLS |
//! | `PREFERRED` (the default) | TLS when the server offers it, plain otherwise; the certificate is not checked (as MySQL's own client does) |
//! | `REQUIRED`, `VERIFY_IDENTITY` | TLS or no connection; the certificate must chain to a trusted root and name the host (stricter than MySQL's `REQUIRED`, which checks nothing, and what Spin does) |
//! | `VERIFY_CA` | as `VERIFY_IDENTITY`, for now: mysql_async 0.36 cannot skip the name check with this rustls (it looks for a `NotValidForName` in the error's text, which rustls 0.23 no longer writes), so a certificate for another name is refused, with a message that says why |
//!
//! mysql_async's own parameters (`require_ssl=true`, ...) keep their meaning in an address
//! without `ssl-mode`.

use mysql_async::{ClientIdentity, SslOpts};

use crate::capabilities::client_tls::{Trust, Verification};

/// What an address's `ssl-mode` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disabled,
    /// TLS if the server offers it, unchecked.
    Preferred,
    /// TLS, checked this much.
    Required(Verification),
}

/// Splits `ssl-mode` (or `sslmode`) off `address`, which mysql_async would refuse: the rest,
/// and the mode if one was given.
pub fn take_ssl_mode(address: &str) -> Result<(String, Option<SslMode>), String> {
    let Some((base, query)) = address.split_once('?') else {
        return Ok((address.to_owned(), None));
    };
    let mut mode = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((key, value))
                if key.eq_ignore_ascii_case("ssl-mode") || key.eq_ignore_ascii_case("sslmode") =>
            {
                mode = Some(parse_mode(value)?);
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, mode))
}

fn parse_mode(value: &str) -> Result<SslMode, String> {
    Ok(match value.to_ascii_uppercase().replace('-', "_").as_str() {
        "DISABLED" => SslMode::Disabled,
        "PREFERRED" => SslMode::Preferred,
        "REQUIRED" | "VERIFY_IDENTITY" => SslMode::Required(Verification::Full),
        "VERIFY_CA" => SslMode::Required(Verification::ChainOnly),
        _ => {
            return Err(format!(
                "invalid ssl-mode {value:?}; expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
            ))
        }
    })
}

/// What a refused connection's message gains when `VERIFY_CA` met a certificate for another
/// name.
pub const VERIFY_CA_CHECKS_NAMES: &str =
    " (ssl-mode=VERIFY_CA checks the name as well here: the MySQL driver cannot skip that check)";

/// mysql_async's TLS settings for `trust`, checking as much as `verification` says (see the
/// module's note on `VERIFY_CA`).
pub fn ssl_opts(trust: &Trust, verification: Verification) -> SslOpts {
    let roots = trust
        .roots_besides_webpki()
        .into_iter()
        .map(|root| root.as_ref().to_vec().into())
        .collect();
    let identity = trust.client_identity.as_ref().map(|identity| {
        ClientIdentity::new(
            identity.chain_pem.clone().into(),
            identity.key_pem.clone().into(),
        )
    });
    SslOpts::default()
        .with_root_certs(roots)
        .with_disable_built_in_roots(!trust.wants_webpki_roots())
        .with_client_identity(identity)
        .with_danger_skip_domain_validation(verification == Verification::ChainOnly)
        .with_danger_accept_invalid_certs(verification == Verification::Unverified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_mode_is_taken_off_the_address_in_either_spelling() {
        let cases = [
            ("mysql://root@h/db", "mysql://root@h/db", None),
            (
                "mysql://root@h/db?ssl-mode=REQUIRED",
                "mysql://root@h/db",
                Some(SslMode::Required(Verification::Full)),
            ),
            (
                "mysql://root@h/db?prefer_socket=false&sslmode=verify_ca",
                "mysql://root@h/db?prefer_socket=false",
                Some(SslMode::Required(Verification::ChainOnly)),
            ),
            (
                "mysql://h/db?SSL-MODE=disabled&stmt_cache_size=0",
                "mysql://h/db?stmt_cache_size=0",
                Some(SslMode::Disabled),
            ),
            (
                "mysql://h/db?ssl-mode=Preferred",
                "mysql://h/db",
                Some(SslMode::Preferred),
            ),
        ];
        for (address, rest, mode) in cases {
            assert_eq!(
                take_ssl_mode(address).unwrap(),
                (rest.to_owned(), mode),
                "{address}"
            );
        }
        let error = take_ssl_mode("mysql://h/db?ssl-mode=ALWAYS").unwrap_err();
        assert!(
            error.contains("\"ALWAYS\"") && error.contains("VERIFY_CA"),
            "{error}"
        );
    }
}
