#!/usr/bin/env bash
# Runs every check the project has, fast ones first: formatting, lints with
# warnings denied (all features, none, each feature alone), rustdoc, the
# declared minimum Rust version, then all tests (unit, integration, doc,
# end-to-end against the real Collector and Jaeger), the loom models and
# Miri on the ring. Exits non-zero on any failure.
#
# It installs what it needs on a machine that has nothing: every crate the
# lock file names (for every target, so the fixture builds run offline), the
# MSRV toolchain and Miri through rustup, the Collector, the gateway
# Collector, Jaeger, Docker Compose and cosign from the Go module proxy,
# cargo-auditable and rust-audit-info from the crate registry, the cross
# targets' linkers and runners from Debian and rustup (all cached outside
# the clone).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '== %s\n' "$*"; }

step "crates: every package Cargo.lock names, for every target"
cargo fetch --locked

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied): all features, none, each feature alone"
cargo clippy --locked --all-features --all-targets -- -D warnings
cargo clippy --locked --no-default-features --lib -- -D warnings
features=$(cargo metadata --locked --no-deps --format-version=1 |
  python3 -c 'import json, sys; print(" ".join(f for f in json.load(sys.stdin)["packages"][0]["features"] if f != "default"))')
for feature in $features; do
  echo "-- $feature alone"
  cargo clippy --locked --no-default-features --features "$feature" --lib -- -D warnings
done

step "cargo doc (warnings denied, every feature)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --all-features --no-deps --quiet

msrv=$(cargo metadata --locked --no-deps --format-version=1 |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["packages"][0]["rust_version"])')
step "minimum supported Rust: $msrv (rust-version in Cargo.toml)"
rustup toolchain list | grep -q "^$msrv" || rustup toolchain install "$msrv" --profile minimal
CARGO_TARGET_DIR=target/msrv cargo "+$msrv" check --locked --all-features --lib --bins

# The end-to-end tests run against the real OpenTelemetry Collector and
# Jaeger, built from the Go module proxy on first use and cached outside the
# clone (scripts/pipeline/setup.sh). Without them the tests fail, not skip.
step "the Collector and Jaeger (built once, then cached)"
./scripts/pipeline/setup.sh
# The judges of the attestation tests: the real cosign (from the Go module
# proxy), cargo-auditable and rust-audit-info (from the crate registry),
# each cached outside the clone by version. Without them those tests fail too.
step "cosign, cargo-auditable, rust-audit-info (built once, then cached)"
./scripts/tools/cosign.sh && ./scripts/tools/auditable.sh
# Docker Compose (Go module proxy, cached): the judge of docker-compose.yaml's
# profiles (`docker compose config`; no Docker engine needed).
step "Docker Compose (built once, then cached)"
./scripts/pipeline/compose.sh --build
export BUILDTRACE_E2E=required
# Cross targets: linkers, wine, qemu-user (Debian), the rustup targets and a
# wine prefix (cached). The CI targets (win64 under wine, aarch64 under qemu)
# are then required by tests/cross_targets.rs; BUILDTRACE_CROSS=all and
# `scripts/cross/setup.sh --all` take in every target this machine builds.
export BUILDTRACE_CROSS=${BUILDTRACE_CROSS:-ci}
step "cross targets: $(./scripts/cross/targets.sh "--$BUILDTRACE_CROSS" | tr '\n' ' ')"
./scripts/cross/setup.sh "--$BUILDTRACE_CROSS"

step "cargo test (all features)"
cargo test --locked --all-features

step "cargo test (default features only: the runtime as most users build it)"
cargo test --locked --lib

step "the ring and the tick clock on aarch64, under qemu-user"
(
  while IFS= read -r line; do export "${line?}"; done < <(./scripts/cross/env.sh aarch64-unknown-linux-gnu)
  CARGO_TARGET_DIR=target/cross-lib cargo test --locked --lib --no-default-features \
    --target aarch64-unknown-linux-gnu -- ring:: startup::clock::
)

# The release steps the workflow runs on a tag (link, strip, seal,
# scripts/cross/artifact.sh: inspect, verify, run, attest, the bundle judged
# by cosign), for this machine's own target; `scripts/cross/matrix.sh` with
# no argument runs every target.
host=$(rustc -vV | sed -n 's/^host: //p')
step "the release steps (scripts/cross/matrix.sh) for $host"
./scripts/cross/matrix.sh "$host"

# A smoke guard on the startup hook's cost: ratios from the same fresh
# processes (first events ÷ warm, warm ÷ crossbeam's queue), failing only
# at several times each goal; never an absolute time. The full figures are `cargo bench --bench startup_cold`.
step "startup! cold and warm, smoke guard (benches/startup_cold.rs --check)"
cargo bench --locked --bench startup_cold -- 15 --check

step "loom models of the startup ring (bounded preemptions)"
RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" \
  CARGO_TARGET_DIR=target/loom cargo test --locked --release --lib --no-default-features loom_models

step "Miri on the ring's tests (undefined behaviour, data races)"
nightly=$(rustup toolchain list | awk '/^nightly/ { print $1; exit }')
if [ -z "$nightly" ] && rustup toolchain install nightly --profile minimal; then
  nightly=nightly
fi
if [ -z "$nightly" ]; then
  echo "Miri skipped: no nightly toolchain, and \`rustup toolchain install nightly\` failed"
elif ! rustup component add miri rust-src --toolchain "$nightly"; then
  echo "Miri skipped: \`rustup component add miri --toolchain $nightly\` failed"
else
  CARGO_TARGET_DIR=target/miri cargo "+$nightly" miri test --locked --no-default-features --lib ring::
fi
