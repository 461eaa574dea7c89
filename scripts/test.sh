#!/usr/bin/env bash
# Runs every check the project has: formatting, lints with warnings denied,
# and all tests (unit, integration, doc). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# The end-to-end tests run against the real OpenTelemetry Collector and
# Jaeger, built from the Go module proxy on first use and cached outside the
# clone (scripts/pipeline/setup.sh). Without them the tests fail, not skip.
echo "== the Collector and Jaeger (built once, then cached)"
./scripts/pipeline/setup.sh
export BUILDTRACE_E2E=required

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (warnings denied), all features and none"
cargo clippy --all-features --all-targets -- -D warnings
cargo clippy --no-default-features --lib -- -D warnings

echo "== cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --all-features --no-deps --quiet

echo "== cargo test (all features)"
cargo test --all-features

echo "== cargo test (default features only: the runtime as most users build it)"
cargo test --lib

echo "== loom models of the startup ring (bounded preemptions)"
RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" \
  CARGO_TARGET_DIR=target/loom cargo test --release --lib --no-default-features loom_models
