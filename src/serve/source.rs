//! The request's `image` field to file bytes: base64 decoded as leniently as
//! Python's `base64.b64decode`, or an http(s) URL fetched with a timeout and
//! a size cap, when the server's URL policy allows it (`url_policy`).

use std::time::Duration;

use base64::engine::general_purpose::GeneralPurposeConfig;
use base64::engine::{DecodePaddingMode, GeneralPurpose};
use base64::Engine;

use super::options::UrlInputs;
use super::url_policy::{self, check_url, is_public, AddressFilter};

/// Why the image bytes could not be obtained (the client's fault: 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SourceError {
    /// Not valid base64 (and not a URL).
    #[error("the image field is neither an http(s) URL nor valid base64 ({0})")]
    Base64(String),
    /// The URL could not be fetched.
    #[error("cannot fetch the image from {url}: {reason}")]
    Fetch {
        /// The URL as given.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The URL's target is not allowed (`PADDLEX_RS_SERVE_URL_INPUTS=public`).
    #[error("refusing to fetch {url}: {reason} (this server fetches public addresses only)")]
    Refused {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server fetches no URL (`PADDLEX_RS_SERVE_URL_INPUTS=none`).
    #[error("image URLs are disabled on this server; send the image file as base64")]
    Disabled,
}

/// Standard alphabet; padding checked by hand like Python, trailing bits ignored.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Decodes base64 like Python's `b64decode` without `validate`: characters
/// outside the alphabet are skipped, missing padding is an error. A
/// `data:...;base64,` prefix is skipped too.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, SourceError> {
    let text = match text.strip_prefix("data:").and_then(|t| t.split_once(',')) {
        Some((_, payload)) => payload,
        None => text,
    };
    let mut data = Vec::with_capacity(text.len());
    let mut pads = 0usize;
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => data.push(b),
            b'=' => pads += 1,
            _ => {}
        }
    }
    let n = data.len();
    match n % 4 {
        1 => {
            return Err(SourceError::Base64(format!(
                "Invalid base64-encoded string: number of data characters ({n}) cannot be 1 more than a multiple of 4"
            )))
        }
        2 if pads < 2 => return Err(SourceError::Base64("Incorrect padding".into())),
        3 if pads < 1 => return Err(SourceError::Base64("Incorrect padding".into())),
        _ => {}
    }
    LENIENT
        .decode(&data)
        .map_err(|e| SourceError::Base64(e.to_string()))
}

/// Fetches image URLs under the server's URL policy.
pub(crate) struct Fetcher {
    /// `None` when URLs are disabled.
    client: Option<reqwest::Client>,
    /// The address check of `public`.
    restrict: Option<AddressFilter>,
    /// Largest file fetched.
    max_bytes: usize,
}

impl Fetcher {
    /// A fetcher for `policy`, with a total `timeout` per URL and a size cap.
    pub(crate) fn new(
        policy: UrlInputs,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<Self, String> {
        let restrict: Option<AddressFilter> = match policy {
            UrlInputs::None => {
                return Ok(Fetcher {
                    client: None,
                    restrict: None,
                    max_bytes,
                })
            }
            UrlInputs::All => None,
            UrlInputs::Public => Some(is_public),
        };
        Ok(Fetcher {
            client: Some(url_policy::http_client(timeout, restrict)?),
            restrict,
            max_bytes,
        })
    }

    /// Fetches `url`, refusing a target the policy does not allow, a non-2xx
    /// status and bodies over the size cap.
    pub(crate) async fn fetch(&self, url: &str) -> Result<Vec<u8>, SourceError> {
        let Some(client) = &self.client else {
            return Err(SourceError::Disabled);
        };
        if let Some(allowed) = self.restrict {
            let refused = |reason: String| SourceError::Refused {
                url: url.to_string(),
                reason,
            };
            let parsed = reqwest::Url::parse(url).map_err(|e| refused(e.to_string()))?;
            check_url(&parsed, allowed).map_err(refused)?;
        }
        fetch(client, url, self.max_bytes).await
    }
}

/// Fetches `url`, refusing a non-2xx status and bodies over `max_bytes`.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, SourceError> {
    let fail = |reason: String| SourceError::Fetch {
        url: url.to_string(),
        reason,
    };
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(describe(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    let too_large = || fail(format!("the file is larger than {max_bytes} bytes"));
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(describe(&e)))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's error with its causes, on one line.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_like_python() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs bG8=!!").unwrap(), b"hello");
        assert_eq!(decode_base64("data:image/png;base64,aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(
            decode_base64("aGVsbG8").unwrap_err(),
            SourceError::Base64("Incorrect padding".into())
        );
        assert!(decode_base64("aGVsb")
            .unwrap_err()
            .to_string()
            .contains("cannot be 1 more than a multiple of 4"));
    }
}
