//! The ACME client: directory, nonces, signed requests and the RFC 8555 operations.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, header};
use httpclient::{HttpClient, Response, Trust};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::jws::{self, Jws};
use crate::response::{
    account_from, json, links, location, order_from, problem_error, problem_of, resolve,
    retry_after,
};
use crate::{
    Account, AccountKey, Authorization, CertificateChain, Challenge, Directory, Error,
    ExternalAccountBinding, Metrics, NewOrder, Order, Status, b64,
};

/// cert-manager's overall timeout for one ACME HTTP request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);
/// How often a request is repeated after `badNonce` (cert-manager's retry budget: the server
/// rejected the request before acting on it, and its answer carries a fresh nonce).
pub const DEFAULT_BAD_NONCE_RETRIES: u32 = 5;
/// Nonces kept for later requests; more would only go stale.
const NONCE_POOL: usize = 16;

/// Options of [`Client::with_options`].
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Timeout of each HTTP request.
    pub timeout: Duration,
    /// `User-Agent` (RFC 8555 §6.1 asks clients to send one).
    pub user_agent: String,
    /// Where requests are counted; `None` counts nothing.
    pub metrics: Option<Metrics>,
    /// Retries after `badNonce` per request.
    pub bad_nonce_retries: u32,
    /// The account URL, when already known (cert-manager's `status.acme.uri`); otherwise it is
    /// looked up by key on first use.
    pub account_url: Option<String>,
    /// Poll interval of [`Client::wait_order`] and [`Client::wait_authorization`] when the
    /// server sends no `Retry-After`.
    pub poll_interval: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            user_agent: concat!("cert-manager-rs-acme/", env!("CARGO_PKG_VERSION")).into(),
            metrics: None,
            bad_nonce_retries: DEFAULT_BAD_NONCE_RETRIES,
            account_url: None,
            poll_interval: Duration::from_secs(1),
        }
    }
}

struct Inner {
    http: HttpClient,
    directory_url: String,
    key: AccountKey,
    directory: OnceCell<Arc<Directory>>,
    nonces: Mutex<Vec<String>>,
    account_url: Mutex<Option<String>>,
    opts: ClientOptions,
}

/// An ACME client for one server and one account key. Cheap to clone (shared state: the
/// directory, the nonce pool and the account URL); `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("directory_url", &self.inner.directory_url)
            .field("key", &self.inner.key)
            .field("account_url", &self.account_url_cached())
            .finish_non_exhaustive()
    }
}

/// Who signs a POST.
#[derive(Clone, Copy)]
enum By<'a> {
    Key,
    Account(&'a str),
}

impl Client {
    /// A client for the directory at `directory_url` (`spec.acme.server`), trusting `trust`
    /// (`Trust::system()`, or `Trust::only(caBundle)`), with default options.
    pub fn new(directory_url: &str, trust: Trust, key: AccountKey) -> Result<Self, Error> {
        Self::with_options(directory_url, &trust, key, ClientOptions::default())
    }

    /// [`Client::new`] with options.
    pub fn with_options(
        directory_url: &str,
        trust: &Trust,
        key: AccountKey,
        opts: ClientOptions,
    ) -> Result<Self, Error> {
        check_url(directory_url).map_err(|reason| Error::InvalidInput {
            field: "server",
            reason,
        })?;
        let http = HttpClient::new(trust, opts.timeout).map_err(|e| Error::InvalidInput {
            field: "caBundle",
            reason: e.to_string(),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                directory_url: directory_url.to_string(),
                key,
                directory: OnceCell::new(),
                nonces: Mutex::new(Vec::new()),
                account_url: Mutex::new(opts.account_url.clone()),
                opts,
            }),
        })
    }

    /// The account key.
    pub fn key(&self) -> &AccountKey {
        &self.inner.key
    }

    /// The directory URL.
    pub fn directory_url(&self) -> &str {
        &self.inner.directory_url
    }

    /// The account URL in use, if known (after [`register`](Self::register),
    /// [`lookup`](Self::lookup), or given in the options).
    pub fn account_url_cached(&self) -> Option<String> {
        lock(&self.inner.account_url).clone()
    }

    /// Sets (or forgets) the account URL used as `kid`.
    pub fn set_account_url(&self, url: Option<String>) {
        *lock(&self.inner.account_url) = url;
    }

    /// The HTTP-01 response for `token` (the key authorization).
    pub fn http01_response(&self, token: &str) -> String {
        self.inner.key.key_authorization(token)
    }

    /// The DNS-01 TXT record value for `token`.
    pub fn dns01_value(&self, token: &str) -> String {
        self.inner.key.dns01_value(token)
    }

    /// The directory, fetched once per client.
    pub async fn discover(&self) -> Result<Arc<Directory>, Error> {
        self.directory("discover").await
    }

    /// newAccount: registers the key, or returns the existing account of this key
    /// ([`Account::created`] tells which). `email` becomes a `mailto:` contact; `eab` is
    /// required by some CAs (the server answers `externalAccountRequired` without it).
    pub async fn register(
        &self,
        email: Option<&str>,
        eab: Option<&ExternalAccountBinding>,
        terms_agreed: bool,
    ) -> Result<Account, Error> {
        const ACTION: &str = "register_account";
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct NewAccount {
            #[serde(skip_serializing_if = "Vec::is_empty")]
            contact: Vec<String>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            terms_of_service_agreed: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            external_account_binding: Option<Jws>,
        }
        let dir = self.directory(ACTION).await?;
        let external_account_binding = match eab {
            Some(eab) => Some(eab.sign(&self.inner.key, &dir.new_account)?),
            None => None,
        };
        let request = NewAccount {
            contact: contact(email)?,
            terms_of_service_agreed: terms_agreed,
            external_account_binding,
        };
        let payload = serde_json::to_vec(&request).map_err(Error::encode)?;
        self.account_request(ACTION, &dir.new_account, &payload)
            .await
    }

    /// newAccount with `onlyReturnExisting`: the account of this key, or a Problem for which
    /// [`Error::is_account_does_not_exist`] is true.
    pub async fn lookup(&self) -> Result<Account, Error> {
        self.lookup_for("get_registration").await
    }

    /// Replaces the account's contacts (cert-manager does this when `spec.acme.email`
    /// changes).
    pub async fn update_account(&self, email: Option<&str>) -> Result<Account, Error> {
        const ACTION: &str = "update_registration";
        #[derive(Serialize)]
        struct Update {
            contact: Vec<String>,
        }
        let payload = serde_json::to_vec(&Update {
            contact: contact(email)?,
        })
        .map_err(Error::encode)?;
        let kid = self.account_url(ACTION).await?;
        let response = self
            .post(ACTION, &kid, By::Account(&kid), Some(&payload), None)
            .await?;
        account_from(ACTION, &kid, &response, Some(kid.clone()))
    }

    /// newOrder.
    pub async fn new_order(&self, order: &NewOrder) -> Result<Order, Error> {
        const ACTION: &str = "authorize_order";
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'a> {
            identifiers: &'a [crate::Identifier],
            #[serde(skip_serializing_if = "Option::is_none")]
            not_before: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            not_after: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            profile: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            replaces: Option<&'a str>,
        }
        if order.identifiers.is_empty() {
            return Err(Error::InvalidInput {
                field: "identifiers",
                reason: "an order needs at least one DNS name or IP address".into(),
            });
        }
        if let Some(id) = order
            .identifiers
            .iter()
            .find(|i| i.value.is_empty() || !matches!(i.type_.as_str(), "dns" | "ip"))
        {
            return Err(Error::InvalidInput {
                field: "identifiers",
                reason: format!("unusable identifier {:?}: {:?}", id.type_, id.value),
            });
        }
        let dir = self.directory(ACTION).await?;
        if let Some(profile) = &order.profile
            && !dir.meta.profiles.contains_key(profile)
        {
            return Err(Error::Unsupported(format!(
                "the ACME server does not offer the certificate profile {profile:?} (offered: {:?})",
                dir.meta.profiles.keys().collect::<Vec<_>>()
            )));
        }
        if order.replaces.is_some() && dir.renewal_info.is_none() {
            return Err(Error::Unsupported(
                "the ACME server does not support ARI (no renewalInfo in its directory)".into(),
            ));
        }
        let request = Request {
            identifiers: &order.identifiers,
            not_before: order.not_before.map(rfc3339_seconds),
            not_after: order.not_after.map(rfc3339_seconds),
            profile: order.profile.as_deref(),
            replaces: order.replaces.as_deref(),
        };
        let payload = serde_json::to_vec(&request).map_err(Error::encode)?;
        let kid = self.account_url(ACTION).await?;
        let response = self
            .post(
                ACTION,
                &dir.new_order,
                By::Account(&kid),
                Some(&payload),
                None,
            )
            .await?;
        let url = location(&response, &dir.new_order).ok_or_else(|| Error::Protocol {
            action: ACTION,
            url: dir.new_order.clone(),
            reason: "the new order has no Location header".into(),
        })?;
        order_from(ACTION, &response, url)
    }

    /// The order at `url` (POST-as-GET).
    pub async fn get_order(&self, url: &str) -> Result<Order, Error> {
        let response = self.post_as_get("get_order", url, None).await?;
        order_from("get_order", &response, url.to_string())
    }

    /// Polls the order until it is neither `pending` nor `processing` (so `ready`, `valid`
    /// or a failure, whose Problem is in [`Order::error`]), for at most `timeout`.
    pub async fn wait_order(&self, url: &str, timeout: Duration) -> Result<Order, Error> {
        let start = Instant::now();
        loop {
            let response = self.post_as_get("wait_order", url, None).await?;
            let order = order_from("wait_order", &response, url.to_string())?;
            if !matches!(order.status, Status::Pending | Status::Processing) {
                return Ok(order);
            }
            self.pause(start, timeout, order.retry_after, url, order.status)
                .await?;
        }
    }

    /// The authorization at `url`.
    pub async fn get_authorization(&self, url: &str) -> Result<Authorization, Error> {
        let response = self.post_as_get("get_authorization", url, None).await?;
        let mut authz: Authorization = json("get_authorization", url, &response)?;
        authz.url = url.to_string();
        Ok(authz)
    }

    /// Polls the authorization until it is no longer `pending`, for at most `timeout`.
    pub async fn wait_authorization(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<Authorization, Error> {
        let start = Instant::now();
        loop {
            let response = self.post_as_get("wait_authorization", url, None).await?;
            let mut authz: Authorization = json("wait_authorization", url, &response)?;
            authz.url = url.to_string();
            if authz.status != Status::Pending {
                return Ok(authz);
            }
            let retry_after = retry_after(&response.headers);
            self.pause(start, timeout, retry_after, url, authz.status)
                .await?;
        }
    }

    /// Deactivates the authorization at `url` (RFC 8555 §7.5.2), e.g. to drop a pending
    /// authorization that will not be completed.
    pub async fn deactivate_authorization(&self, url: &str) -> Result<Authorization, Error> {
        const ACTION: &str = "deactivate_authorization";
        let kid = self.account_url(ACTION).await?;
        let response = self
            .post(
                ACTION,
                url,
                By::Account(&kid),
                Some(br#"{"status":"deactivated"}"#),
                None,
            )
            .await?;
        let mut authz: Authorization = json(ACTION, url, &response)?;
        authz.url = url.to_string();
        Ok(authz)
    }

    /// The challenge at `url`.
    pub async fn get_challenge(&self, url: &str) -> Result<Challenge, Error> {
        let response = self.post_as_get("get_challenge", url, None).await?;
        json("get_challenge", url, &response)
    }

    /// Tells the server the challenge at `url` is ready to be validated (POST `{}`).
    pub async fn accept_challenge(&self, url: &str) -> Result<Challenge, Error> {
        const ACTION: &str = "accept_challenge";
        let kid = self.account_url(ACTION).await?;
        let response = self
            .post(ACTION, url, By::Account(&kid), Some(b"{}"), None)
            .await?;
        json(ACTION, url, &response)
    }

    /// Finalizes a `ready` order with a DER CSR. The answer is usually `processing` (poll
    /// with [`Client::wait_order`]) or already `valid`.
    pub async fn finalize(&self, finalize_url: &str, csr_der: &[u8]) -> Result<Order, Error> {
        const ACTION: &str = "create_order_cert";
        #[derive(Serialize)]
        struct Finalize {
            csr: String,
        }
        if csr_der.is_empty() {
            return Err(Error::InvalidInput {
                field: "csr",
                reason: "empty".into(),
            });
        }
        let payload = serde_json::to_vec(&Finalize {
            csr: b64::encode(csr_der),
        })
        .map_err(Error::encode)?;
        let kid = self.account_url(ACTION).await?;
        let response = self
            .post(
                ACTION,
                finalize_url,
                By::Account(&kid),
                Some(&payload),
                None,
            )
            .await?;
        let url = location(&response, finalize_url).unwrap_or_default();
        order_from(ACTION, &response, url)
    }

    /// Downloads the certificate chain at `url` (an order's `certificate`) as PEM, with the
    /// URLs of alternate chains the server offers.
    pub async fn certificate_chain(&self, url: &str) -> Result<CertificateChain, Error> {
        self.fetch_chain("fetch_cert", url).await
    }

    /// cert-manager's `preferredChain`: the default chain at `url` if its top-most
    /// certificate is issued by a CA with common name `issuer_cn`, else the first alternate
    /// chain that is, else the default chain.
    pub async fn preferred_chain(
        &self,
        url: &str,
        issuer_cn: &str,
    ) -> Result<CertificateChain, Error> {
        let default = self.certificate_chain(url).await?;
        if top_issuer_is(&default.pem, issuer_cn) {
            return Ok(default);
        }
        for alternate in &default.alternates {
            let chain = self.fetch_chain("list_cert_alternates", alternate).await?;
            if top_issuer_is(&chain.pem, issuer_cn) {
                return Ok(chain);
            }
        }
        Ok(default)
    }

    async fn fetch_chain(
        &self,
        action: &'static str,
        url: &str,
    ) -> Result<CertificateChain, Error> {
        let response = self
            .post_as_get(action, url, Some("application/pem-certificate-chain"))
            .await?;
        let pem = String::from_utf8(response.body.to_vec())
            .ok()
            .filter(|p| p.contains("-----BEGIN CERTIFICATE-----"))
            .ok_or_else(|| Error::Protocol {
                action,
                url: url.to_string(),
                reason: "the body is not a PEM certificate chain".into(),
            })?;
        let alternates = links(&response.headers, "alternate")
            .into_iter()
            .map(|l| resolve(url, &l))
            .collect();
        Ok(CertificateChain { pem, alternates })
    }

    // --- plumbing ------------------------------------------------------------------------

    async fn directory(&self, action: &'static str) -> Result<Arc<Directory>, Error> {
        self.inner
            .directory
            .get_or_try_init(|| async {
                let url = &self.inner.directory_url;
                let response = self.exchange(action, Method::GET, url, None, None).await?;
                if !response.status.is_success() {
                    return Err(problem_error(action, &response));
                }
                let dir: Directory = json(action, url, &response)?;
                for (name, value) in [
                    ("newNonce", &dir.new_nonce),
                    ("newAccount", &dir.new_account),
                    ("newOrder", &dir.new_order),
                ] {
                    if value.is_empty() {
                        return Err(Error::Protocol {
                            action,
                            url: url.clone(),
                            reason: format!("the directory has no {name}"),
                        });
                    }
                }
                Ok(Arc::new(dir))
            })
            .await
            .cloned()
    }

    async fn lookup_for(&self, action: &'static str) -> Result<Account, Error> {
        let dir = self.directory(action).await?;
        self.account_request(action, &dir.new_account, br#"{"onlyReturnExisting":true}"#)
            .await
    }

    /// A newAccount POST signed with the JWK; remembers the account URL.
    async fn account_request(
        &self,
        action: &'static str,
        url: &str,
        payload: &[u8],
    ) -> Result<Account, Error> {
        let response = self.post(action, url, By::Key, Some(payload), None).await?;
        let account = account_from(action, url, &response, None)?;
        self.set_account_url(Some(account.uri.clone()));
        Ok(account)
    }

    /// The account URL for `kid`, looked up by key if not known yet.
    async fn account_url(&self, action: &'static str) -> Result<String, Error> {
        if let Some(url) = self.account_url_cached() {
            return Ok(url);
        }
        Ok(self.lookup_for(action).await?.uri)
    }

    async fn post_as_get(
        &self,
        action: &'static str,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response, Error> {
        let kid = self.account_url(action).await?;
        self.post(action, url, By::Account(&kid), None, accept)
            .await
    }

    /// A signed POST; repeats it with a fresh nonce after `badNonce`.
    async fn post(
        &self,
        action: &'static str,
        url: &str,
        by: By<'_>,
        payload: Option<&[u8]>,
        accept: Option<&str>,
    ) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            let nonce = self.nonce(action).await?;
            let signer = match by {
                By::Key => jws::Signer::Jwk,
                By::Account(kid) => jws::Signer::Kid(kid),
            };
            let body = jws::sign(&self.inner.key, signer, Some(&nonce), url, payload)?;
            let body = Bytes::from(serde_json::to_vec(&body).map_err(Error::encode)?);
            let response = self
                .exchange(action, Method::POST, url, Some(body), accept)
                .await?;
            if response.status.is_success() {
                return Ok(response);
            }
            let problem = problem_of(&response);
            if problem.is_bad_nonce() && attempt < self.inner.opts.bad_nonce_retries {
                attempt += 1;
                tracing::debug!(
                    action,
                    url,
                    attempt,
                    "ACME server rejected the nonce, retrying"
                );
                continue;
            }
            if problem.is_account_does_not_exist() && matches!(by, By::Account(_)) {
                // The CA no longer knows the account (e.g. it lost its state): forget the
                // URL so the next call looks it up (and a register starts afresh).
                self.set_account_url(None);
            }
            return Err(Error::Problem {
                action,
                problem: Box::new(problem),
            });
        }
    }

    async fn nonce(&self, action: &'static str) -> Result<String, Error> {
        if let Some(nonce) = lock(&self.inner.nonces).pop() {
            return Ok(nonce);
        }
        let dir = self.directory(action).await?;
        let response = self
            .exchange(action, Method::HEAD, &dir.new_nonce, None, None)
            .await?;
        if !response.status.is_success() {
            return Err(problem_error(action, &response));
        }
        lock(&self.inner.nonces)
            .pop()
            .ok_or_else(|| Error::Protocol {
                action,
                url: dir.new_nonce.clone(),
                reason: "no Replay-Nonce header".into(),
            })
    }

    /// One HTTP exchange: metrics, logging, and the `Replay-Nonce` of every answer.
    async fn exchange(
        &self,
        action: &'static str,
        method: Method,
        url: &str,
        body: Option<Bytes>,
        accept: Option<&str>,
    ) -> Result<Response, Error> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(header::USER_AGENT, &self.inner.opts.user_agent);
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/jose+json");
        }
        if let Some(accept) = accept {
            builder = builder.header(header::ACCEPT, accept);
        }
        let request = builder
            .body(body.unwrap_or_default())
            .map_err(|e| Error::InvalidInput {
                field: "url",
                reason: format!("{url}: {e}"),
            })?;
        let uri = request.uri().clone();
        let start = Instant::now();
        let result = self.inner.http.send(request).await;
        let status = result.as_ref().ok().map(|r| r.status);
        if let Some(metrics) = &self.inner.opts.metrics {
            metrics.observe(&uri, action, &method, status, start.elapsed());
        }
        tracing::debug!(action, %method, url, status = status.map(|s| s.as_u16()), "ACME request");
        let response = result.map_err(|source| Error::Http { action, source })?;
        if let Some(nonce) = response.header("replay-nonce").filter(|n| valid_nonce(n)) {
            let mut pool = lock(&self.inner.nonces);
            if pool.len() >= NONCE_POOL {
                pool.remove(0);
            }
            pool.push(nonce.to_string());
        }
        Ok(response)
    }

    async fn pause(
        &self,
        start: Instant,
        timeout: Duration,
        retry_after: Option<Duration>,
        url: &str,
        status: Status,
    ) -> Result<(), Error> {
        let delay = retry_after
            .unwrap_or(self.inner.opts.poll_interval)
            .clamp(Duration::from_millis(50), Duration::from_secs(60));
        if start.elapsed() + delay > timeout {
            return Err(Error::WaitTimeout {
                url: url.to_string(),
                status: status.to_string(),
                waited: start.elapsed(),
            });
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("https" | "http") if uri.authority().is_some() => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) URL")),
    }
}

/// RFC 3339 in whole seconds, as Go's `time.RFC3339` (what cert-manager sends) writes it.
fn rfc3339_seconds(t: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(t.as_second())
        .expect("a valid timestamp truncated stays valid")
        .to_string()
}

fn contact(email: Option<&str>) -> Result<Vec<String>, Error> {
    match email.map(str::trim) {
        None | Some("") => Ok(Vec::new()),
        Some(e) if e.contains('@') && !e.contains(char::is_whitespace) => {
            Ok(vec![format!("mailto:{e}")])
        }
        Some(e) => Err(Error::InvalidInput {
            field: "email",
            reason: format!("{e:?} is not an email address"),
        }),
    }
}

/// base64url characters only (RFC 8555 §6.5.1).
fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the last certificate of the PEM chain names `issuer_cn` as its issuer's CN.
fn top_issuer_is(pem: &str, issuer_cn: &str) -> bool {
    pki::decode_certificate_chain(pem.as_bytes())
        .ok()
        .and_then(|certs| certs.last().map(|c| c.issuer.common_name == issuer_cn))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_with_field_names() {
        assert!(
            contact(Some("not an email"))
                .unwrap_err()
                .to_string()
                .starts_with("email:")
        );
        assert_eq!(contact(Some("a@b.test")).unwrap(), ["mailto:a@b.test"]);
        assert!(contact(Some("")).unwrap().is_empty());
        assert!(check_url("ftp://x").is_err() && check_url("/dir").is_err());
        assert!(check_url("https://127.0.0.1:14000/dir").is_ok());
        assert_eq!(
            resolve("https://ca.test:1/a/b", "/order/1"),
            "https://ca.test:1/order/1"
        );
        assert!(valid_nonce("abc-_09") && !valid_nonce("a b") && !valid_nonce(""));
        let t: jiff::Timestamp = "2026-12-05T08:11:18.56854032Z".parse().unwrap();
        assert_eq!(rfc3339_seconds(t), "2026-12-05T08:11:18Z");
    }

    #[test]
    fn client_and_its_futures_are_send() {
        fn shareable<T: Send + Sync + Clone + 'static>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
        let key = AccountKey::from_private_key(&key).unwrap();
        let client = Client::new("https://127.0.0.1:1/dir", Trust::system(), key).unwrap();
        shareable(&client);
        send(client.register(Some("a@b.test"), None, true));
        send(client.new_order(&NewOrder::default()));
        send(client.wait_order("https://127.0.0.1:1/o", Duration::from_secs(1)));
        send(client.finalize("https://127.0.0.1:1/f", b"csr"));
        send(client.preferred_chain("https://127.0.0.1:1/c", "root"));
    }
}
