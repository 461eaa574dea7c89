#!/usr/bin/env bash
# Fuzzes the record decoder and the whole-file reader with cargo-fuzz
# (libFuzzer, nightly), FUZZ_SECONDS (default 60) per target, seeded with a
# real binary built from tests/fixture, its raw record (`buildtrace.bin` from
# OUT_DIR) and small generated ELF, Mach-O and COFF objects.
#
# Prints the executions and crashes of each target and exits non-zero if any
# target crashed (the input is kept under fuzz/artifacts/<target>/). Without
# a nightly toolchain or cargo-fuzz (which it installs from crates.io if it
# can), it prints "fuzzing skipped: <reason>" and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds="${FUZZ_SECONDS:-60}"
targets=(record_parse record_payload inspect_reader)
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

skip() {
  echo "fuzzing skipped: $*"
  exit 0
}

command -v rustup >/dev/null ||
  skip "rustup is not installed; cargo-fuzz needs a nightly toolchain"
nightly=$(rustup toolchain list 2>/dev/null | awk '/^nightly/ { print $1; exit }')
[ -n "$nightly" ] ||
  skip "no nightly toolchain (rustup toolchain install nightly)"
cargo "+$nightly" --version >/dev/null 2>&1 ||
  skip "the toolchain $nightly does not run"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked ||
    skip "cargo-fuzz is missing and \`cargo install cargo-fuzz --locked\` failed"
fi
cargo "+$nightly" fetch --manifest-path fuzz/Cargo.toml >/dev/null 2>&1 ||
  skip "cannot fetch the fuzz crate's dependencies from crates.io"

started=$SECONDS
echo "== building the fuzz targets ($nightly, $(cargo fuzz --version))"
cargo "+$nightly" fuzz build
# Run the built targets directly: `cargo fuzz run` would rebuild whenever the
# build script sees the repository change.
host=$(rustc "+$nightly" -vV | sed -n 's/^host: //p')
bin="fuzz/target/$host/release"

echo "== seeds: the fixture application, its raw record, generated objects"
seeds=fuzz/target/seeds
app=fuzz/target/seed-app
rm -rf "$seeds"
mkdir -p "$app/src" "${targets[@]/#/$seeds/}"
cp tests/fixture/build.rs "$app/build.rs"
cp tests/fixture/src/main.rs "$app/src/main.rs"
sed "s|path = \"../..\"|path = \"$root\"|" tests/fixture/Cargo.toml >"$app/Cargo.toml"
cp Cargo.lock "$app/Cargo.lock"
messages=$(cargo build --release --manifest-path "$app/Cargo.toml" \
  --target-dir fuzz/target/seed-build --message-format=json)
exe=$(sed -n 's/.*"reason":"compiler-artifact".*"executable":"\([^"]*\)".*/\1/p' <<<"$messages" | tail -1)
out_dir=$(sed -n 's/.*"reason":"build-script-executed".*"out_dir":"\([^"]*\/build\/fixture-[^"]*\)".*/\1/p' <<<"$messages" | tail -1)
[ -x "$exe" ] && [ -f "$out_dir/buildtrace.bin" ] || {
  echo "cannot find the fixture executable or its buildtrace.bin" >&2
  exit 1
}
record="$out_dir/buildtrace.bin"
cp "$exe" "$seeds/inspect_reader/fixture"
cp "$record" "$seeds/inspect_reader/buildtrace.bin"
cp "$record" "$seeds/record_parse/buildtrace.bin"
payload_len=$(od -An -tu4 -j16 -N4 "$record" | tr -d ' ')
tail -c +65 "$record" | head -c "$payload_len" >"$seeds/record_payload/payload"
if command -v strip >/dev/null; then
  strip -o "$seeds/inspect_reader/fixture.stripped" "$exe"
fi
cargo "+$nightly" run --quiet --release --manifest-path fuzz/Cargo.toml --example seeds -- \
  "$record" "$seeds/inspect_reader"
ls -l "$seeds"/*/

status=0
summary=()
for target in "${targets[@]}"; do
  echo "== fuzzing $target for ${seconds}s"
  corpus="fuzz/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  log="fuzz/target/$target.log"
  # A single input that takes 10 s, or allocates 64 MiB at once, is a bug of
  # a reader that promises bounded work and memory on hostile files.
  set +e
  "$bin/$target" -artifact_prefix="$artifacts/" -max_total_time="$seconds" \
    -timeout=10 -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1 \
    "$corpus" "$seeds/$target" >"$log" 2>&1
  code=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
  crashes=$(($(find "$artifacts" -type f | wc -l) - before))
  if [ "$code" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1 # libFuzzer failed without leaving an input: count it
  fi
  line="$target: ${runs:-unknown} executions, $crashes crash(es)"
  if [ "$code" -ne 0 ]; then
    status=1
    tail -40 "$log"
    line="$line (libFuzzer exit $code; see $log; minimise an input with"
    line="$line \`cargo +$nightly fuzz tmin $target $artifacts/<file>\`)"
  fi
  summary+=("$line")
done

echo "== fuzzing summary: ${seconds}s per target, $((SECONDS - started))s in all"
printf '%s\n' "${summary[@]}"
exit "$status"
