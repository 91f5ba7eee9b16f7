//! Which addresses an image URL may reach (`PADDLEX_RS_SERVE_URL_INPUTS`).
//! Under `public`, a URL whose host is an IP literal is checked as written,
//! a host name is checked after DNS resolution (only the public addresses
//! it resolves to are connected to), and every redirect is checked again;
//! connections go direct, never through a proxy, so the check sees the
//! address actually reached.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use reqwest::Url;

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 5;

/// Whether an address may be reached.
pub(crate) type AddressFilter = fn(IpAddr) -> bool;

/// Whether `ip` is a public unicast address: not loopback, private,
/// link-local, shared (CGNAT), unspecified, broadcast, multicast,
/// documentation, benchmarking or reserved, in IPv4 or IPv6 (including
/// IPv4 addresses carried in IPv6 ones).
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240;
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach an IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded_v4(s[1], s[2]));
    }
    let special = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Site-local (deprecated), IPv4-compatible, documentation.
        || (s[0] & 0xffc0) == 0xfec0
        || s[..6] == [0; 6]
        || (s[0] == 0x2001 && s[1] == 0x0db8);
    !special
}

/// Why a URL may not be fetched, if it may not: not http(s), or an IP
/// literal host that `allowed` refuses. Host names are checked on resolution.
pub(crate) fn check_url(url: &Url, allowed: AddressFilter) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme {:?} is not http(s)", url.scheme()));
    }
    let host = url.host_str().unwrap_or_default();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    match literal.parse::<IpAddr>() {
        Ok(ip) if !allowed(ip) => Err(format!("{ip} is not a public address")),
        _ => Ok(()),
    }
}

/// Resolves host names and keeps only the addresses `allowed` accepts.
struct FilteringResolver {
    allowed: AddressFilter,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| allowed(addr.ip()))
                .collect();
            if kept.is_empty() {
                let list: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "{host} resolves to {}, not a public address",
                    list.join(", ")
                )
                .into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client for image URLs (connect and total timeouts, no cookies,
/// at most 5 redirects); with `restrict`, one that reaches only the
/// addresses it allows, directly.
pub(crate) fn http_client(
    timeout: Duration,
    restrict: Option<AddressFilter>,
) -> Result<reqwest::Client, String> {
    let builder = reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout);
    let builder = match restrict {
        None => builder.redirect(Policy::limited(MAX_REDIRECTS)),
        Some(allowed) => builder
            .no_proxy()
            .dns_resolver(Arc::new(FilteringResolver { allowed }))
            .redirect(Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error("too many redirects");
                }
                match check_url(attempt.url(), allowed) {
                    Ok(()) => attempt.follow(),
                    Err(reason) => attempt.error(format!("redirect refused: {reason}")),
                }
            })),
    };
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_as_written() {
        let check = |url: &str| check_url(&Url::parse(url).unwrap(), is_public);
        assert!(check("http://127.0.0.1:8080/a.png").is_err());
        assert!(check("http://[::1]/a.png").is_err());
        // The URL parser normalises other spellings of an IPv4 address.
        assert!(check("http://2130706433/a.png").is_err());
        assert!(check("http://0x7f.1/a.png").is_err());
        assert!(check("ftp://example.org/a.png").is_err());
        assert!(check("http://8.8.8.8/a.png").is_ok());
        assert!(
            check("https://example.org/a.png").is_ok(),
            "names: on resolution"
        );
    }

    /// A loopback server: `/redirect` sends a 302 to `target`, anything else 404.
    fn redirecting_server(target: String) -> SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
            }
        });
        addr
    }

    #[test]
    fn every_redirect_is_checked() {
        // Allows 127.0.0.1 only, so the first hop is reached and the
        // redirect to another loopback address is not.
        fn only_127_0_0_1(ip: IpAddr) -> bool {
            ip == IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = http_client(Duration::from_secs(5), Some(only_127_0_0_1)).unwrap();
        let server = redirecting_server("http://127.0.0.2:9/secret".into());
        let err = rt
            .block_on(async { client.get(format!("http://{server}/redirect")).send().await })
            .unwrap_err();
        let text = format!("{:?}", err);
        assert!(
            text.contains("redirect refused: 127.0.0.2 is not a public address"),
            "{text}"
        );
        // Host names are resolved and filtered: localhost is 127.0.0.1 here
        // (allowed), and refused by the real filter.
        let strict = http_client(Duration::from_secs(5), Some(is_public)).unwrap();
        let err = rt
            .block_on(async {
                let url = format!("http://localhost:{}/x", server.port());
                strict.get(url).send().await
            })
            .unwrap_err();
        let text = format!("{:?}", err);
        assert!(text.contains("not a public address"), "{text}");
    }
}
