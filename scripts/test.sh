#!/usr/bin/env bash
# Runs every check the project has: formatting, lints with warnings denied,
# and all tests (unit, integration, doc). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

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
  CARGO_TARGET_DIR=target/loom cargo test --release --lib loom_models
