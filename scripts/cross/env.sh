#!/usr/bin/env bash
# Prints, as KEY=VALUE lines, the environment that builds TARGET with cargo
# here (linker, runner, C compiler, archiver, wine prefix, PATH for zig): the
# one place that says how each target is built. The tests and matrix.sh read
# it; a person runs, for example:
#   eval "$(scripts/cross/env.sh --export aarch64-unknown-linux-gnu)"
#   cargo run --example print_provenance --target aarch64-unknown-linux-gnu
# (Mach-O targets build with `cargo zigbuild` instead of `cargo build`.)
#
# Usage: env.sh TARGET            KEY=VALUE lines (values unquoted)
#        env.sh --export TARGET   `export KEY=VALUE` lines, quoted for eval
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export=0
if [[ ${1:-} == --export ]]; then
	export=1
	shift
fi
[[ $# -eq 1 ]] || bt_die "usage: env.sh [--export] TARGET"
[[ $(cross_field "$1" 3) != - ]] || bt_die "$1 is not built on this machine (targets.tsv)"
cross_is_ready "$1" || bt_die "$1 is not set up here: run $CROSS_HERE/setup.sh $1"
cross_resolve_paths
if ((export)); then
	cross_env "$1" | while IFS= read -r line; do
		printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
	done
else
	cross_env "$1"
fi
