#!/usr/bin/env bash
# Prints target lists from targets.tsv, for the scripts, CI and the release
# workflow.
#
# Usage: targets.sh --all              every target this machine builds
#        targets.sh --ci               the targets every CI run checks
#        targets.sh --release          the targets a release builds
#        targets.sh --release-matrix   those as a GitHub Actions matrix (JSON)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
--all) cross_targets all ;;
--ci) cross_targets ci ;;
--release) cross_rows | awk '$7 != "-" { print $1 }' ;;
--release-matrix)
	cross_rows | awk '
		$7 != "-" {
			exe = ($1 ~ /-windows-/) ? ".exe" : ""
			rows = rows sep sprintf("{\"target\":\"%s\",\"os\":\"%s\",\"exe\":\"%s\"}", $1, $7, exe)
			sep = ","
		}
		END { printf "{\"include\":[%s]}\n", rows }'
	;;
*)
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	[[ ${1:-} == -h || ${1:-} == --help ]]
	;;
esac
