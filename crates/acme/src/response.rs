//! Reading ACME answers: JSON bodies, problem documents, `Location`, `Link` and
//! `Retry-After` headers.

use std::time::Duration;

use http::{StatusCode, header};
use httpclient::Response;
use serde::de::DeserializeOwned;

use crate::{Account, Error, Order, Problem, Status};

/// At most this much of a non-JSON error body goes into a [`Problem`]'s detail.
const MAX_DETAIL: usize = 512;

pub(crate) fn json<T: DeserializeOwned>(
    action: &'static str,
    url: &str,
    response: &Response,
) -> Result<T, Error> {
    serde_json::from_slice(&response.body).map_err(|e| Error::Protocol {
        action,
        url: url.to_string(),
        reason: format!("decoding the JSON answer: {e}"),
    })
}

pub(crate) fn account_from(
    action: &'static str,
    url: &str,
    response: &Response,
    known_uri: Option<String>,
) -> Result<Account, Error> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Body {
        status: Status,
        contact: Vec<String>,
        orders: Option<String>,
    }
    let body: Body = json(action, url, response)?;
    let uri = location(response, url)
        .or(known_uri)
        .ok_or_else(|| Error::Protocol {
            action,
            url: url.to_string(),
            reason: "the account answer has no Location header".into(),
        })?;
    Ok(Account {
        uri,
        status: body.status,
        contact: body.contact,
        orders: body.orders,
        created: response.status == StatusCode::CREATED,
    })
}

pub(crate) fn order_from(
    action: &'static str,
    response: &Response,
    url: String,
) -> Result<Order, Error> {
    let mut order: Order = json(action, &url, response)?;
    order.url = url;
    order.retry_after = retry_after(&response.headers);
    Ok(order)
}

pub(crate) fn problem_error(action: &'static str, response: &Response) -> Error {
    Error::Problem {
        action,
        problem: Box::new(problem_of(response)),
    }
}

/// The Problem of an error answer; a synthetic one when the body is not a problem document.
pub(crate) fn problem_of(response: &Response) -> Problem {
    let mut problem = serde_json::from_slice::<Problem>(&response.body)
        .ok()
        .filter(|p| !p.type_.is_empty() || !p.detail.is_empty())
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&response.body);
            let mut detail: String = text.trim().chars().take(MAX_DETAIL).collect();
            if detail.is_empty() {
                detail = response
                    .status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_string();
            }
            Problem {
                detail,
                ..Problem::default()
            }
        });
    // The HTTP status is what the answer means; a document's own field is advisory.
    problem.status = Some(response.status.as_u16());
    problem.retry_after = retry_after(&response.headers);
    problem
}

/// `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let now = jiff::Timestamp::now();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

pub(crate) fn location(response: &Response, request_url: &str) -> Option<String> {
    response
        .header("location")
        .filter(|l| !l.is_empty())
        .map(|l| resolve(request_url, l))
}

/// Resolves an absolute-path reference against the request URL; absolute URLs pass.
pub(crate) fn resolve(base: &str, reference: &str) -> String {
    if !reference.starts_with('/') {
        return reference.to_string();
    }
    match base.parse::<http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}{reference}"),
            _ => reference.to_string(),
        },
        Err(_) => reference.to_string(),
    }
}

/// Targets of `Link` headers with the relation `rel` (RFC 8288; several per header allowed).
pub(crate) fn links(headers: &http::HeaderMap, rel: &str) -> Vec<String> {
    let mut out = Vec::new();
    for value in headers.get_all(header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let Some(end) = rest[start..].find('>') else {
                break;
            };
            let target = &rest[start + 1..start + end];
            let after = &rest[start + end + 1..];
            let params_end = after.find('<').unwrap_or(after.len());
            let params = &after[..params_end];
            let has_rel = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=").is_some_and(|v| {
                    v.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case(rel))
                })
            });
            if has_rel {
                out.push(target.to_string());
            }
            rest = &after[params_end..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderValue;

    #[test]
    fn link_headers() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            header::LINK,
            HeaderValue::from_static(r#"<https://ca.test/dir>;rel="index""#),
        );
        headers.append(
            header::LINK,
            HeaderValue::from_static(
                r#"<https://ca.test/cert/1/1>; rel="alternate", <https://ca.test/cert/1/2>;rel=alternate"#,
            ),
        );
        assert_eq!(
            links(&headers, "alternate"),
            ["https://ca.test/cert/1/1", "https://ca.test/cert/1/2"]
        );
        assert_eq!(links(&headers, "index"), ["https://ca.test/dir"]);
        assert!(links(&headers, "up").is_empty());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = http::HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600);
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&later)
            .unwrap();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let d = retry_after(&headers).unwrap();
        assert!(
            d > Duration::from_secs(3500) && d <= Duration::from_secs(3600),
            "{d:?}"
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn problems_from_documents_and_from_bare_errors() {
        let response = Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: [(header::RETRY_AFTER, HeaderValue::from_static("30"))]
                .into_iter()
                .collect(),
            body: Bytes::from_static(
                br#"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many"}"#,
            ),
        };
        let err = problem_error("authorize_order", &response);
        assert!(err.is_rate_limited() && err.is_transient());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(err.status(), Some(429));
        assert!(
            err.to_string()
                .starts_with("acme: authorize_order: 429 urn:"),
            "{err}"
        );

        let response = Response {
            status: StatusCode::NOT_FOUND,
            headers: http::HeaderMap::new(),
            body: Bytes::from_static(b"404 page not found\n"),
        };
        let err = problem_error("get_order", &response);
        assert!(err.is_not_found() && !err.is_transient());
        assert_eq!(err.problem().unwrap().detail, "404 page not found");
    }
}
