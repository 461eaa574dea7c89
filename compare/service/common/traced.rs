//! How the three builds with telemetry mark a request: a `request` span
//! around the handler and a `request handled` event. (a) has no telemetry
//! and defines both as no-ops.

macro_rules! traced {
    ($route:expr, $future:expr) => {
        tracing::Instrument::instrument(
            $future,
            tracing::info_span!("request", http.route = $route, http.request.method = "GET"),
        )
    };
}

macro_rules! handled {
    ($status:expr) => {
        tracing::info!(http.response.status_code = $status, "request handled")
    };
}
