//! Which answer a request gets: the key authorization for exactly the expected host and
//! token, 200 for health checks, 404 for everything else (cert-manager's acmesolver rules).

/// Path prefix of HTTP-01 challenge requests (RFC 8555 §8.3).
pub const CHALLENGE_PATH: &str = "/.well-known/acme-challenge";

/// The one challenge this process answers.
#[derive(Clone, Debug)]
pub struct Challenge {
    pub domain: String,
    pub token: String,
    pub key: String,
}

/// The outcome for one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// `/` or `/healthz`: 200 with an empty body.
    Health,
    /// The expected challenge request: 200 with the key authorization.
    Key(&'a str),
    /// Anything else: 404; the reason is logged, never sent.
    NotFound(&'static str),
}

impl Challenge {
    /// `host` is the request's host (Host header or absolute-form authority, port allowed),
    /// `path` the path as sent (still percent-encoded).
    pub fn answer(&self, host: &str, path: &str) -> Answer<'_> {
        if path == "/" || path == "/healthz" {
            return Answer::Health;
        }
        let Some((dir, token)) = split_dir_base(path) else {
            return Answer::NotFound("invalid base path");
        };
        if clean(dir) != CHALLENGE_PATH {
            return Answer::NotFound("invalid base path");
        }
        if strip_port(host) != self.domain {
            return Answer::NotFound("invalid host");
        }
        if token != self.token {
            return Answer::NotFound("invalid token");
        }
        Answer::Key(&self.key)
    }
}

/// `path` split at its last `/` into the directory and the final segment; `None` when the
/// final segment is empty (a trailing slash never names a token).
fn split_dir_base(path: &str) -> Option<(&str, &str)> {
    let i = path.rfind('/')?;
    let base = &path[i + 1..];
    (!base.is_empty()).then_some((&path[..i], base))
}

/// Lexical path cleaning as Go's `path.Clean`: repeated slashes, `.` and `..` segments
/// resolved, so `//.well-known/./acme-challenge` compares equal to the prefix as upstream.
fn clean(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// The host without a port and without IPv6 brackets (`[::1]:80` → `::1`, `a.com:80` → `a.com`).
pub fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.find(']') {
            Some(end) => &rest[..end],
            None => rest,
        };
    }
    match host.split_once(':') {
        // Exactly one colon: host:port. More than one: a bare IPv6 address.
        Some((name, port)) if !port.contains(':') => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            domain: "example.com".into(),
            token: "tok-EN_1".into(),
            key: "tok-EN_1.thumbprint".into(),
        }
    }

    #[test]
    fn expected_host_and_token_get_the_key() {
        let c = challenge();
        let path = "/.well-known/acme-challenge/tok-EN_1";
        assert_eq!(
            c.answer("example.com", path),
            Answer::Key("tok-EN_1.thumbprint")
        );
        assert_eq!(
            c.answer("example.com:8089", path),
            Answer::Key("tok-EN_1.thumbprint")
        );
        // Unclean but equivalent prefixes are accepted, as upstream's path.Dir does.
        let unclean = "//.well-known/./acme-challenge/tok-EN_1";
        assert_eq!(
            c.answer("example.com", unclean),
            Answer::Key("tok-EN_1.thumbprint")
        );
    }

    #[test]
    fn other_hosts_tokens_and_paths_are_not_found() {
        let c = challenge();
        let path = "/.well-known/acme-challenge/tok-EN_1";
        assert_eq!(
            c.answer("other.com", path),
            Answer::NotFound("invalid host")
        );
        assert_eq!(c.answer("", path), Answer::NotFound("invalid host"));
        assert_eq!(
            c.answer("sub.example.com", path),
            Answer::NotFound("invalid host")
        );
        let wrong_token = "/.well-known/acme-challenge/other";
        assert_eq!(
            c.answer("example.com", wrong_token),
            Answer::NotFound("invalid token")
        );
        for path in [
            "/tok-EN_1",
            "/.well-known/tok-EN_1",
            "/.well-known/acme-challenge/",
            "/.well-known/acme-challenge/tok-EN_1/",
            "/.well-known/acme-challenge/x/tok-EN_1",
            "/other/acme-challenge/tok-EN_1",
            "/favicon.ico",
        ] {
            assert_eq!(
                c.answer("example.com", path),
                Answer::NotFound("invalid base path"),
                "{path}"
            );
        }
    }

    #[test]
    fn health_paths() {
        let c = challenge();
        assert_eq!(c.answer("anything", "/"), Answer::Health);
        assert_eq!(c.answer("", "/healthz"), Answer::Health);
    }

    #[test]
    fn ip_address_identifiers() {
        let c = Challenge {
            domain: "2001:db8::1".into(),
            ..challenge()
        };
        let path = "/.well-known/acme-challenge/tok-EN_1";
        assert_eq!(
            c.answer("[2001:db8::1]:80", path),
            Answer::Key("tok-EN_1.thumbprint")
        );
        assert_eq!(
            c.answer("[2001:db8::1]", path),
            Answer::Key("tok-EN_1.thumbprint")
        );
        assert_eq!(strip_port("192.0.2.1:80"), "192.0.2.1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
    }
}
