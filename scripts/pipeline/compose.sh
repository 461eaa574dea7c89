#!/usr/bin/env bash
# Checks docker-compose.yaml, its default services and its `distributed`
# profile, with the real Docker Compose: `docker compose config`, which loads,
# interpolates and validates the file against the Compose specification and
# needs no Docker engine. This project's machines have no Docker; Compose
# itself is built, once per version, from the Go module proxy
# (github.com/docker/compose/v5/cmd at a pinned tag) into a cache outside the
# clone, like the Collectors:
#   ${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/buildtrace/tools}/compose-<version>-<key>/bin/docker-compose
#
# Usage: compose.sh                 build if needed, then check the file (both ways)
#        compose.sh --build         build if needed, print the binary's path
#        compose.sh --print-path    print COMPOSE_BIN=... (no build; fails if not built)
#        compose.sh compose ARGS... docker compose -f docker-compose.yaml ARGS... (e.g.
#                                   --profile distributed config --services)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# v5.6.0: the newest Compose whose go.mod asks for no newer Go than the
# pipeline's (v5.7.x want go >= 1.26.10).
COMPOSE_MODULE=github.com/docker/compose/v5
COMPOSE_VERSION=${PIPELINE_COMPOSE_VERSION:-v5.6.0}

mode=check
case "${1:-}" in
'') ;;
--build) mode=build ;;
--print-path) mode=print ;;
compose) mode=compose ;;
-h | --help)
	usage
	exit 0
	;;
*) pipeline_die "unknown argument: $1 (try --help)" ;;
esac

pipeline_require_go
goinfo=$(cd / && go env GOVERSION GOOS GOARCH | tr '\n' ' ')
key=$(printf 'recipe=1 compose=%s@%s go=%s\n' "$COMPOSE_MODULE" "$COMPOSE_VERSION" "$goinfo" | sha256sum | cut -c1-12)
COMPOSE_KEY_DIR=$PIPELINE_TOOLS_DIR/compose-$COMPOSE_VERSION-$key
COMPOSE_BIN=$COMPOSE_KEY_DIR/bin/docker-compose
is_built() { [[ -f $COMPOSE_KEY_DIR/.complete && -x $COMPOSE_BIN ]]; }

if [[ $mode == print ]]; then
	is_built || pipeline_die "Docker Compose $COMPOSE_VERSION is not built yet: run $PIPELINE_HERE/compose.sh --build"
	printf 'COMPOSE_BIN=%q\n' "$COMPOSE_BIN"
	exit 0
fi

build() {
	local log start=$SECONDS hb rc=0 mod=$COMPOSE_KEY_DIR/build
	mkdir -p "$PIPELINE_TOOLS_DIR"
	if command -v flock >/dev/null 2>&1; then
		exec 7>"$COMPOSE_KEY_DIR.lock"
		if ! flock -n 7; then
			echo "another compose.sh is building $COMPOSE_KEY_DIR; waiting for it..."
			flock 7
		fi
		is_built && return 0
	fi
	rm -rf "${COMPOSE_KEY_DIR:?}"
	mkdir -p "$COMPOSE_KEY_DIR/bin" "$COMPOSE_KEY_DIR/logs"
	log=$COMPOSE_KEY_DIR/logs/go-build.log
	# Own Go caches under the tools dir (shared with setup.sh).
	export GOPATH=$PIPELINE_TOOLS_DIR/go
	export GOMODCACHE=$GOPATH/pkg/mod GOCACHE=$GOPATH/cache
	export GOFLAGS="-modcacherw${PIPELINE_GOFLAGS:+ $PIPELINE_GOFLAGS}" GOWORK=off CGO_ENABLED=0
	unset GOOS GOARCH
	echo "Building Docker Compose $COMPOSE_VERSION into $COMPOSE_KEY_DIR (a few minutes on 2 cores; later runs hit the cache)"
	(
		while sleep "${PIPELINE_HEARTBEAT_SECS:-20}" >/dev/null 2>&1; do
			printf '    ... still working (%s): %s packages, last: %.90s\n' \
				"$(pipeline_fmt_secs $((SECONDS - start)))" "$(wc -l <"$log")" "$(tail -n 1 "$log")"
		done
	) &
	hb=$!
	# `go install module@version` refuses a module whose go.mod has exclude
	# directives (Compose's has two), so build from a throwaway main module
	# that requires Compose and copies them, as setup.sh does for Jaeger.
	compose_build() (
		local gomod
		mkdir -p "$mod" && cd "$mod" &&
			gomod=$(go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" |
				sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p') &&
			[[ -f $gomod ]] &&
			{
				echo "module buildtrace.local/compose-build"
				grep -m1 '^go ' "$gomod"
				awk '/^exclude[[:space:]]*\(/ { b = 1; next }
				     b && /^\)/ { b = 0; next }
				     b && !/^[[:space:]]*\/\// && NF { print "exclude " $0; next }
				     /^exclude [^(]/ { print }' "$gomod"
			} >go.mod &&
			go get -v "$COMPOSE_MODULE/cmd@$COMPOSE_VERSION" &&
			go build -v -trimpath -o "$COMPOSE_BIN" \
				-ldflags="-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" "$COMPOSE_MODULE/cmd"
	)
	compose_build >"$log" 2>&1 || rc=$?
	kill "$hb" 2>/dev/null || true
	wait "$hb" 2>/dev/null || true
	if ((rc != 0)); then
		tail -n 40 "$log" >&2
		pipeline_die "building $COMPOSE_MODULE/cmd@$COMPOSE_VERSION failed (exit $rc); full log: $log"
	fi
	rm -rf "$mod"
	"$COMPOSE_BIN" version >/dev/null || pipeline_die "the built docker-compose does not run"
	printf 'compose=%s@%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
		"$COMPOSE_MODULE" "$COMPOSE_VERSION" "$(cd / && go env GOVERSION)" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))" >"$COMPOSE_KEY_DIR/.complete"
	echo "Built Docker Compose in $(pipeline_fmt_secs $((SECONDS - start))): $COMPOSE_BIN"
}

# docker compose on the repository's file, run from the repository root as a
# user would, with no Docker configuration of the user's in the way.
compose() {
	(cd "$PIPELINE_REPO" && DOCKER_CONFIG=$COMPOSE_KEY_DIR/docker-config \
		"$COMPOSE_BIN" --project-directory "$PIPELINE_REPO" -f docker-compose.yaml "$@")
}

is_built || build
case $mode in
build) printf 'COMPOSE_BIN=%q\n' "$COMPOSE_BIN" ;;
compose)
	shift
	compose "$@"
	;;
check)
	compose config --quiet
	echo "docker-compose.yaml: default services valid"
	compose --profile distributed config --quiet
	echo "docker-compose.yaml: profile 'distributed' valid"
	;;
esac
