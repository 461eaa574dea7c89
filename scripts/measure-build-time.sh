#!/usr/bin/env bash
# Clean-build cost of adopting buildtrace: a hello-world application built
# from scratch (fresh target directory, dependencies already downloaded),
# without buildtrace, with buildtrace as build-dependency + dependency
# (default features off), and with the default `otel` feature. Prints the
# median of RUNS builds (default 3) of each, in seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${RUNS:-3}
profile=${PROFILE:-dev}

app() { # dir, dependency line, build-dependency line, build.rs?, embed?
  mkdir -p "$work/$1/src"
  cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "hello"
version = "0.1.0"
edition = "2021"
[workspace]
[dependencies]
$2
[build-dependencies]
$3
TOML
  if [ "$4" = yes ]; then
    echo 'fn main() { buildtrace::build::capture(); }' > "$work/$1/build.rs"
    printf 'buildtrace::embed!();\nfn main() { println!("{:?}", buildtrace::provenance().and_then(|p| p.id())); }\n' > "$work/$1/src/main.rs"
  else
    echo 'fn main() { println!("hello"); }' > "$work/$1/src/main.rs"
  fi
  cp "$root/Cargo.lock" "$work/$1/Cargo.lock"
  (cd "$work/$1" && cargo metadata --offline --format-version=1 >/dev/null)
}

app plain "" "" no
app minimal "buildtrace = { path = \"$root\", default-features = false }" \
  "buildtrace = { path = \"$root\", default-features = false, features = [\"build\"] }" yes
app otel "buildtrace = { path = \"$root\" }" \
  "buildtrace = { path = \"$root\", default-features = false, features = [\"build\"] }" yes

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for variant in plain minimal otel; do
  times=()
  for _ in $(seq "$runs"); do
    rm -rf "$work/target"
    start=$(date +%s.%N)
    (cd "$work/$variant" && CARGO_TARGET_DIR="$work/target" cargo build --offline --quiet --profile "$profile")
    end=$(date +%s.%N)
    times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')")
  done
  printf '%-8s median %6.2f s  (runs: %s)\n' "$variant" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
done
