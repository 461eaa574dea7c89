//! The HTTP client: three GETs, each bounded in time and size.

use std::time::Duration;

use serde_json::Value;

use crate::names;

use super::model::{decode_trace, emitted_by, is_trace_id, Trace};
use super::{time, JaegerError};

const NOT_A_BASE_URL: &str =
    "not the base URL of a query API; pass one such as http://localhost:16686";

/// Bounds on what one request may cost, whatever the server does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut limits = buildtrace::jaeger::Limits::default();
/// limits.timeout = Duration::from_secs(2);
/// let client = buildtrace::jaeger::Client::with_limits("http://localhost:16686", &limits)?;
/// # let _ = client;
/// # Ok::<(), buildtrace::jaeger::JaegerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// How long to wait for name resolution, for the connection, and for
    /// each read of the answer. Default: 5 s.
    pub timeout: Duration,
    /// How long one request may take in all, answer included. Default: 30 s.
    pub total_timeout: Duration,
    /// The longest answer read, in bytes; a longer one is
    /// [`JaegerError::TooLarge`]. Default: 64 MiB, some thousand traces of a
    /// hundred spans.
    pub max_answer: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(30),
            max_answer: 64 << 20,
        }
    }
}

/// A search: the traces of `service` in a time window that carry `tags`
/// (Jaeger matches span tags and process tags).
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// The service name the processes reported.
    pub service: &'a str,
    /// Tags every trace must carry, as key and value.
    pub tags: &'a [(&'a str, &'a str)],
    /// At most this many traces; Jaeger picks which when there are more.
    pub limit: u32,
    /// The window's start, in microseconds since the Unix epoch.
    pub start_us: u64,
    /// The window's end, in microseconds since the Unix epoch.
    pub end_us: u64,
}

/// A connection to one Jaeger query API.
///
/// # Examples
///
/// ```no_run
/// let jaeger = buildtrace::jaeger::Client::new("http://localhost:16686")?;
/// if let Some(trace) = jaeger.trace("b53b700e22407350458c18d9ee48d3e0")? {
///     println!("{} spans", trace.spans.len());
/// }
/// # Ok::<(), buildtrace::jaeger::JaegerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    limits: Limits,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the query API at `url` (`http://host:16686`) with the
    /// default [`Limits`]; no request is made yet.
    ///
    /// # Errors
    /// [`JaegerError::BadUrl`] when `url` is not a plain `http://` URL.
    pub fn new(url: &str) -> Result<Client, JaegerError> {
        Client::with_limits(url, &Limits::default())
    }

    /// A client for the query API at `url` whose requests stay within
    /// `limits`; no request is made yet.
    ///
    /// # Errors
    /// [`JaegerError::BadUrl`] when `url` is not a plain `http://` URL.
    pub fn with_limits(url: &str, limits: &Limits) -> Result<Client, JaegerError> {
        let bad = |reason| JaegerError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let base = url.trim_end_matches('/');
        let rest = match base.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                // Built without TLS, on purpose: the API is usually reached
                // on loopback or through a port-forward.
                return Err(bad("this buildtrace speaks plain http only; reach Jaeger's query API over http, e.g. through `kubectl port-forward` or an SSH tunnel"));
            }
            Some(_) => return Err(bad(NOT_A_BASE_URL)),
            None => {
                return Err(bad(
                    "no scheme; write http://HOST:PORT, such as http://localhost:16686",
                ))
            }
        };
        if rest.is_empty() || rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
            return Err(bad(NOT_A_BASE_URL));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_resolve(Some(limits.timeout))
            .timeout_connect(Some(limits.timeout))
            .timeout_per_read(Some(limits.timeout))
            .timeout_global(Some(limits.total_timeout))
            // Jaeger explains its refusals in a JSON body; read it.
            .http_status_as_error(false)
            .user_agent(concat!("buildtrace/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            base: base.to_owned(),
            limits: limits.clone(),
            agent,
        })
    }

    /// The base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The traces matching `search`, in Jaeger's order.
    ///
    /// # Errors
    /// [`JaegerError`]: unreachable, timed out, too large, not JSON, not
    /// Jaeger's shape, refused.
    pub fn search(&self, search: &Search<'_>) -> Result<Vec<Trace>, JaegerError> {
        let tags: serde_json::Map<String, Value> = (search.tags.iter())
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        let (limit, start, end) = (
            search.limit.to_string(),
            search.start_us.to_string(),
            search.end_us.to_string(),
        );
        // `lookback` is the UI's; the API reads the window from start and end.
        let query = [
            ("service", search.service),
            ("limit", &limit),
            ("start", &start),
            ("end", &end),
            ("tags", &Value::Object(tags).to_string()),
        ];
        let (url, answer) = self.get("/api/traces", &query)?;
        self.traces(&url, &answer)
    }

    /// The traces that the build `build` (a provenance id,
    /// [`buildtrace.id`](names::ID)) of `service` emitted in the `lookback`
    /// before now, oldest first: at most `limit` asked for.
    ///
    /// Jaeger's tag filter matches process tags, where the provenance id
    /// is; the answer is filtered again here, so a storage that only
    /// matches span tags yields nothing rather than another build's traces.
    ///
    /// # Errors
    /// As [`search`](Client::search).
    pub fn traces_of_build(
        &self,
        service: &str,
        build: &str,
        limit: u32,
        lookback: Duration,
    ) -> Result<Vec<Trace>, JaegerError> {
        let now = time::now_micros();
        let window = u64::try_from(lookback.as_micros()).unwrap_or(u64::MAX);
        let mut found = self.search(&Search {
            service,
            tags: &[(names::ID, build)],
            limit,
            start_us: now.saturating_sub(window),
            end_us: now,
        })?;
        found.retain(|t| emitted_by(t, build));
        found.sort_by_cached_key(|t| (t.extent().0, t.id.clone()));
        Ok(found)
    }

    /// The trace `id`, or `None` when Jaeger does not have it (it answers
    /// 404).
    ///
    /// # Errors
    /// As [`search`](Client::search); [`JaegerError::NotATraceId`], before
    /// any request, when `id` is not a trace id (see
    /// [`is_trace_id`](super::is_trace_id)).
    pub fn trace(&self, id: &str) -> Result<Option<Trace>, JaegerError> {
        if !is_trace_id(id) {
            return Err(JaegerError::NotATraceId { id: id.to_owned() });
        }
        match self.get(&format!("/api/traces/{id}"), &[]) {
            Err(JaegerError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
            Ok((url, answer)) => Ok(self.traces(&url, &answer)?.into_iter().next()),
        }
    }

    /// The services Jaeger has traces of.
    ///
    /// # Errors
    /// As [`search`](Client::search).
    pub fn services(&self) -> Result<Vec<String>, JaegerError> {
        let (url, answer) = self.get("/api/services", &[])?;
        let data = answer["data"]
            .as_array()
            .ok_or_else(|| self.shape(&url, "no `data` list"))?;
        Ok(data
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect())
    }

    /// GETs `path` with `query`; returns the URL asked and the JSON answer of
    /// a 2xx. A JSON answer of another status is [`JaegerError::Refused`].
    fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<(String, Value), JaegerError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.agent.get(&url);
        for (key, value) in query {
            request = request.query(key, value);
        }
        let mut response = request.call().map_err(|e| self.transport(&url, e))?;
        let status = response.status().as_u16();
        let content_type = (response.headers().get("content-type"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        let body = (response.body_mut().with_config())
            .limit(self.limits.max_answer)
            .read_to_vec()
            .map_err(|e| self.transport(&url, e))?;
        // Jaeger labels some JSON answers text/plain: trust the bytes.
        let Ok(answer) = serde_json::from_slice::<Value>(&body) else {
            return Err(JaegerError::NotJson {
                url,
                base: self.base.clone(),
                what: format!("HTTP {status} with {}", first_word(&content_type)),
            });
        };
        if (200..300).contains(&status) {
            return Ok((url, answer));
        }
        let message = answer["errors"][0]["msg"]
            .as_str()
            .unwrap_or("no message")
            .to_owned();
        Err(JaegerError::Refused {
            base: self.base.clone(),
            status,
            message,
        })
    }

    fn traces(&self, url: &str, answer: &Value) -> Result<Vec<Trace>, JaegerError> {
        let data = answer["data"]
            .as_array()
            .ok_or_else(|| self.shape(url, "no `data` list"))?;
        data.iter()
            .map(decode_trace)
            .collect::<Result<_, _>>()
            .map_err(|what| self.shape(url, what))
    }

    fn shape(&self, url: &str, what: &'static str) -> JaegerError {
        JaegerError::Shape {
            url: url.to_owned(),
            base: self.base.clone(),
            what,
        }
    }

    /// The error for a request to `url` that got no (complete) answer.
    fn transport(&self, url: &str, error: ureq::Error) -> JaegerError {
        let (url, base) = (url.to_owned(), self.base.clone());
        let reason = match error {
            ureq::Error::Timeout(phase) => {
                let after = match phase {
                    ureq::Timeout::Global => self.limits.total_timeout,
                    _ => self.limits.timeout,
                };
                return JaegerError::Timeout {
                    url,
                    base,
                    after,
                    phase: error.to_string(),
                };
            }
            ureq::Error::BodyExceedsLimit(limit) => {
                return JaegerError::TooLarge { url, limit };
            }
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused".into()
            }
            ureq::Error::HostNotFound => "host not found".into(),
            other => other.to_string(),
        };
        JaegerError::Unreachable { url, base, reason }
    }
}

fn first_word(text: &str) -> &str {
    text.split(';').next().unwrap_or(text).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_urls_it_cannot_use() {
        assert!(Client::new("http://127.0.0.1:16686/").is_ok());
        assert_eq!(
            Client::new("http://127.0.0.1:16686/").unwrap().base(),
            "http://127.0.0.1:16686"
        );
        for bad in [
            "https://jaeger.example",
            "127.0.0.1:16686",
            "ftp://x",
            "http://",
            "http://x?y",
        ] {
            let error = Client::new(bad).unwrap_err().to_string();
            assert!(error.contains("; "), "{bad}: no remedy in {error}");
        }
    }
}
