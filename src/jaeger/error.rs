//! What can go wrong when asking Jaeger, each with a remedy.

use std::time::Duration;

/// Why Jaeger could not be asked, or its answer not understood.
///
/// Each message names what failed, then, after `; `, what to do about it.
/// Messages quote URLs and Jaeger's own words, which can hold anything:
/// escape them before they reach a terminal
/// ([`escape_terminal`](crate::inspect::render::escape_terminal)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JaegerError {
    /// The base URL cannot be used.
    #[error("{url}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used, ending with the remedy.
        reason: &'static str,
    },
    /// The trace id is not 1 to 32 hexadecimal digits; nothing was asked.
    #[error("{id}: not a trace id; pass 1 to 32 hexadecimal digits")]
    NotATraceId {
        /// The id as given.
        id: String,
    },
    /// No HTTP answer: the connection was refused, the host is unknown, or
    /// the connection broke.
    #[error("cannot reach Jaeger at {url}: {reason}; is Jaeger's query API at {base}?")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// The client's base URL.
        base: String,
        /// What the transport reported, in a few words.
        reason: String,
    },
    /// Jaeger did not answer, or stopped answering, within a bound of the
    /// client's [`Limits`](super::Limits).
    #[error("cannot reach Jaeger at {url}: no answer within {} ({phase}); is Jaeger's query API at {base}?", in_words(*after))]
    Timeout {
        /// The URL asked.
        url: String,
        /// The client's base URL.
        base: String,
        /// The bound that ran out.
        after: Duration,
        /// Which of the transport's timeouts fired, such as `timeout: per read`.
        phase: String,
    },
    /// The answer is longer than the client's
    /// [`Limits::max_answer`](super::Limits::max_answer); it was not read
    /// further.
    #[error("{url} answered more than {}; ask for fewer traces or a shorter window, or raise the client's answer limit", size_in_words(*limit))]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// An answer that is not JSON: something else listens there.
    #[error("{url} answered {what}, not Jaeger's JSON; is Jaeger's query API at {base}?")]
    NotJson {
        /// The URL asked.
        url: String,
        /// The client's base URL.
        base: String,
        /// The status and content type of the answer, such as
        /// `HTTP 200 with text/html`.
        what: String,
    },
    /// JSON, but not shaped like Jaeger's answers.
    #[error("{url} answered JSON that is not a Jaeger answer ({what}); is Jaeger's query API at {base}?")]
    Shape {
        /// The URL asked.
        url: String,
        /// The client's base URL.
        base: String,
        /// What is missing or misshapen.
        what: &'static str,
    },
    /// Jaeger refused the query: a JSON answer with a status other than
    /// 2xx.
    #[error(
        "Jaeger at {base} answered HTTP {status}: {message}; check the query and Jaeger's log"
    )]
    Refused {
        /// The client's base URL.
        base: String,
        /// The HTTP status.
        status: u16,
        /// Jaeger's explanation (`errors[0].msg`), or `no message`.
        message: String,
    },
}

/// `5 s`, or `250 ms` for a bound that is not whole seconds.
fn in_words(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// `64 MiB`, or `1000 bytes` for a size that is not whole mebibytes.
fn size_in_words(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_read_as_people_write_them() {
        assert_eq!(in_words(Duration::from_secs(5)), "5 s");
        assert_eq!(in_words(Duration::from_millis(250)), "250 ms");
        assert_eq!(size_in_words(64 << 20), "64 MiB");
        assert_eq!(size_in_words(1000), "1000 bytes");
    }
}
