//! Components whose `source` is `{ url, digest }`: downloaded once into the cache, kept under
//! their digest, and checked against it, so that what runs is exactly what the manifest
//! names.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use wasmtime_wasi_http::RequestOptions;

use super::http_client::send_and_read;

/// The largest component Rotor downloads.
const MAX_DOWNLOAD: usize = 512 << 20;

/// How many redirects a download follows.
const MAX_REDIRECTS: usize = 5;

/// How long any step of a download may stall.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the component with `digest` (`sha256:HEX`) is kept under `dir`.
pub fn path_in(dir: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    dir.join(format!("sha256-{hex}.wasm"))
}

/// Makes sure the component `url` names, with `digest`, is at [`path_in`]`(dir, digest)`:
/// kept from an earlier download when its digest still matches, downloaded otherwise.
pub async fn fetch(url: &str, digest: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let path = path_in(dir, digest);
    if let Ok(bytes) = std::fs::read(&path) {
        if sha256_digest(&bytes) == digest {
            return Ok(path);
        }
    }
    let bytes = download(url)
        .await
        .with_context(|| format!("cannot download {url} (Rotor downloads a `{{ url, digest }}` source once, into {}; without a network, put the file there)", dir.display()))?;
    let actual = sha256_digest(&bytes);
    if actual != digest {
        bail!("{url} has digest {actual}, not the {digest} the manifest names: the file changed, or the digest is wrong");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = dir.join(format!(".{}.partial", std::process::id()));
    std::fs::write(&partial, &bytes)
        .and_then(|()| std::fs::rename(&partial, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// `sha256:` and the hex SHA-256 of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

async fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let mut uri: http::Uri = url.parse().context("not a URL")?;
    for _ in 0..=MAX_REDIRECTS {
        let request = http::Request::get(uri.clone())
            .header(http::header::USER_AGENT, "rotor")
            .header(
                http::header::HOST,
                uri.authority().map(|a| a.as_str()).unwrap_or(""),
            )
            .body(Bytes::new())?;
        let options = RequestOptions {
            connect_timeout: Some(STALL_TIMEOUT),
            first_byte_timeout: Some(STALL_TIMEOUT),
            between_bytes_timeout: Some(STALL_TIMEOUT),
        };
        let response = send_and_read(request, Some(options), MAX_DOWNLOAD)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .context("a redirect without a Location")?;
            uri = resolve(&uri, location)?;
            continue;
        }
        if !status.is_success() {
            bail!("the server answered {status}");
        }
        return Ok(response.into_body().to_vec());
    }
    bail!("more than {MAX_REDIRECTS} redirects")
}

/// A redirect's `Location`, relative to the request it answers.
fn resolve(base: &http::Uri, location: &str) -> anyhow::Result<http::Uri> {
    if location.contains("://") {
        return location.parse().context("a redirect to an invalid URL");
    }
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(location.parse().context("a redirect to an invalid path")?);
    http::Uri::from_parts(parts).context("a redirect to an invalid URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_spelled_as_spin_spells_them() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn relative_redirects_keep_the_server() {
        let base: http::Uri = "https://example.com/a/b.wasm".parse().unwrap();
        assert_eq!(
            resolve(&base, "/c.wasm").unwrap().to_string(),
            "https://example.com/c.wasm"
        );
        assert_eq!(
            resolve(&base, "https://cdn.example.net/x")
                .unwrap()
                .to_string(),
            "https://cdn.example.net/x"
        );
    }
}
