//! Requests to the Vault HTTP API: the server address, TLS trust, the token and namespace
//! headers, and Vault's error answers.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use httpclient::{HttpClient, Trust};
use serde::de::DeserializeOwned;

use super::Error;

const TOKEN_HEADER: &str = "X-Vault-Token";
const NAMESPACE_HEADER: &str = "X-Vault-Namespace";
const HEALTH_PATH: &str = "/v1/sys/health";

/// A Vault token. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(token: String) -> Self {
        Self(token)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// An error status from Vault, displayed as the Vault Go client does (cert-manager users see
/// this text in conditions and events).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub method: Method,
    pub url: String,
    pub namespace: Option<String>,
    pub status: StatusCode,
    /// Vault's `errors`, or the raw body when it sent none.
    pub errors: Vec<String>,
    pub raw: bool,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Error making API request.\n\n")?;
        if let Some(ns) = &self.namespace {
            writeln!(f, "Namespace: {ns}")?;
        }
        let label = if self.raw { "Raw Message" } else { "Errors" };
        write!(
            f,
            "URL: {} {}\nCode: {}. {label}:\n\n",
            self.method,
            self.url,
            self.status.as_u16()
        )?;
        if self.raw && self.errors.len() == 1 {
            return f.write_str(&self.errors[0]);
        }
        for e in &self.errors {
            write!(f, "* {e}")?;
        }
        Ok(())
    }
}

/// Where and how to reach one Vault server.
#[derive(Clone)]
pub struct Connection {
    http: HttpClient,
    /// `scheme://authority`.
    origin: String,
    /// The path of the server address (a reverse proxy prefix), joined in front of every path.
    base_path: String,
    namespace: Option<String>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("origin", &self.origin)
            .field("base_path", &self.base_path)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection to `server` (`https://host:port[/prefix]`), trusting only `ca_bundle` when
    /// given (as cert-manager replaces the system roots with it), else the system's roots.
    pub fn new(
        server: &str,
        namespace: Option<&str>,
        ca_bundle: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let uri: Uri = server
            .parse()
            .map_err(|e| Error::InvalidData(format!("invalid Vault server {server:?}: {e}")))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(Error::InvalidData(format!(
                "invalid Vault server {server:?}: an absolute http(s) URL is required"
            )));
        };
        if scheme != "http" && scheme != "https" {
            return Err(Error::InvalidData(format!(
                "invalid Vault server {server:?}: unsupported scheme {scheme:?}"
            )));
        }
        let trust = match ca_bundle {
            Some(pem) if !pem.is_empty() => Trust::only(pem),
            _ => Trust::system(),
        };
        let http = HttpClient::new(&trust, timeout).map_err(|e| match e {
            httpclient::Error::CaBundle(m) => Error::Other(format!(
                "no Vault CA bundles loaded, check bundle contents: {m}"
            )),
            other => Error::Other(format!("error initializing Vault client: {other}")),
        })?;
        Ok(Self {
            http,
            origin: format!("{scheme}://{authority}"),
            base_path: uri.path().to_owned(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
        })
    }

    /// The URL of `path` (joined and cleaned as Go's `path.Join`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin, join_path(&[&self.base_path, path]))
    }

    /// `method path` with a JSON `body`, authenticated with `token` when given; the answer's
    /// JSON on a success status, an [`ApiError`] otherwise.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&Token>,
        body: Option<&serde_json::Value>,
    ) -> Result<T, Error> {
        let response = self
            .send(method.clone(), path, token, body, self.namespace.as_deref())
            .await?;
        if !is_success(response.status) {
            return Err(self.api_error(method, path, &response).into());
        }
        response
            .json()
            .map_err(|e| Error::Other(format!("unable to decode JSON payload: {e}")))
    }

    /// `GET /v1/sys/health`, which answers with a status code per server state.
    pub async fn check_health(&self) -> Result<(), Error> {
        // A root-only path: no namespace header, and it needs no token.
        let response = self
            .send(Method::GET, HEALTH_PATH, None, None, None)
            .await?;
        match response.status.as_u16() {
            _ if is_success(response.status) => Ok(()),
            // Standby, disaster-recovery secondary, performance standby.
            429 | 472 | 473 => Ok(()),
            501 => Err(Error::Other("Vault is not initialized".into())),
            503 => Err(Error::Other("Vault is sealed".into())),
            _ => {
                let mut err = self.api_error(Method::GET, HEALTH_PATH, &response);
                err.namespace = None;
                Err(Error::Other(format!(
                    "error calling Vault {HEALTH_PATH}: {err}"
                )))
            }
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&Token>,
        body: Option<&serde_json::Value>,
        namespace: Option<&str>,
    ) -> Result<httpclient::Response, Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(self.url(path))
            // Vault refuses browser-like requests without it (CSRF protection).
            .header("X-Vault-Request", "true");
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token.0.as_str());
        }
        if let Some(ns) = namespace {
            request = request.header(NAMESPACE_HEADER, ns);
        }
        let body = match body {
            Some(b) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(b).map_err(|e| Error::Other(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let request = request
            .body(body)
            .map_err(|e| Error::Other(format!("error building Vault request: {e}")))?;
        self.http
            .send(request)
            .await
            .map_err(|e| Error::Other(e.to_string()))
    }

    fn api_error(&self, method: Method, path: &str, response: &httpclient::Response) -> ApiError {
        #[derive(serde::Deserialize)]
        struct Errors {
            #[serde(default)]
            errors: Vec<String>,
        }
        let (errors, raw) = match serde_json::from_slice::<Errors>(&response.body) {
            Ok(e) => (e.errors, false),
            Err(_) => (
                vec![String::from_utf8_lossy(&response.body).trim().to_owned()],
                true,
            ),
        };
        ApiError {
            method,
            url: self.url(path),
            namespace: self.namespace.clone(),
            status: response.status,
            errors,
            raw,
        }
    }
}

/// Vault's client treats 2xx and 3xx as success.
fn is_success(status: StatusCode) -> bool {
    status.is_success() || status.is_redirection()
}

/// Go's `path.Join`: the non-empty parts joined by `/`, then cleaned (no empty or `.`
/// segments, `..` removes the segment before it, no trailing slash); rooted when the first
/// non-empty part is.
pub fn join_path(parts: &[&str]) -> String {
    let rooted = parts
        .iter()
        .find(|p| !p.is_empty())
        .is_some_and(|p| p.starts_with('/'));
    let mut segments: Vec<&str> = Vec::new();
    for segment in parts.iter().flat_map(|p| p.split('/')) {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.last().is_some_and(|s| *s != "..") {
                    segments.pop();
                } else if !rooted {
                    segments.push("..");
                }
            }
            s => segments.push(s),
        }
    }
    let joined = segments.join("/");
    if rooted { format!("/{joined}") } else { joined }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_path_cleans_as_go() {
        assert_eq!(join_path(&["/v1", "pki/sign/web"]), "/v1/pki/sign/web");
        assert_eq!(join_path(&["/v1", "/pki//sign/web/"]), "/v1/pki/sign/web");
        assert_eq!(
            join_path(&["/v1/auth/kubernetes", "login"]),
            "/v1/auth/kubernetes/login"
        );
        assert_eq!(join_path(&["", "/v1/sys/health"]), "/v1/sys/health");
        assert_eq!(join_path(&["/proxy/", "/v1/x"]), "/proxy/v1/x");
        assert_eq!(join_path(&["/v1", "../x"]), "/x");
        assert_eq!(join_path(&["auth/k8s", "login"]), "auth/k8s/login");
    }

    #[test]
    fn urls_keep_a_server_path_prefix() {
        let c = Connection::new(
            "https://vault.example.com:8200/prefix/",
            Some("ns1"),
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            c.url("/v1/pki/sign/web"),
            "https://vault.example.com:8200/prefix/v1/pki/sign/web"
        );
        let c =
            Connection::new("http://127.0.0.1:8200", None, None, Duration::from_secs(1)).unwrap();
        assert_eq!(
            c.url("/v1/sys/health"),
            "http://127.0.0.1:8200/v1/sys/health"
        );
    }

    #[test]
    fn bad_servers_and_bundles_are_named() {
        let err = Connection::new("vault:8200", None, None, Duration::from_secs(1)).unwrap_err();
        assert!(err.is_invalid_data(), "{err}");
        assert!(err.to_string().contains("invalid Vault server"), "{err}");
        let err = Connection::new(
            "https://v:8200",
            None,
            Some(b"not pem".to_vec()),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("no Vault CA bundles loaded, check bundle contents"),
            "{err}"
        );
    }

    #[test]
    fn api_errors_read_like_the_vault_client() {
        let e = ApiError {
            method: Method::POST,
            url: "http://127.0.0.1:8200/v1/pki/sign/web".into(),
            namespace: None,
            status: StatusCode::FORBIDDEN,
            errors: vec!["permission denied".into()],
            raw: false,
        };
        assert_eq!(
            e.to_string(),
            "Error making API request.\n\nURL: POST http://127.0.0.1:8200/v1/pki/sign/web\n\
             Code: 403. Errors:\n\n* permission denied"
        );
        let e = ApiError {
            namespace: Some("team-a".into()),
            errors: vec!["upstream timed out".into()],
            raw: true,
            status: StatusCode::BAD_GATEWAY,
            ..e
        };
        assert_eq!(
            e.to_string(),
            "Error making API request.\n\nNamespace: team-a\nURL: POST \
             http://127.0.0.1:8200/v1/pki/sign/web\nCode: 502. Raw Message:\n\nupstream timed out"
        );
    }

    #[test]
    fn tokens_are_not_printed() {
        let t = Token::new("s.very-secret".into());
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }
}
