# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Sourced by every script that installs a tool (scripts/pipeline, scripts/tools,
# scripts/cross, actionlint.sh): the cache root, errors and durations, the lock
# that keeps two setups out of one cache directory, Go's own caches, and a
# step runner that logs a long command and shows it is alive.

# One root for every cached tool: one `rm -rf` removes them all.
BT_TOOLS=${BUILDTRACE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/buildtrace/tools}
# Seconds between the "still working" lines of a long step.
BT_HEARTBEAT=${PIPELINE_HEARTBEAT_SECS:-20}

bt_die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# 75 -> 1m15s
bt_fmt_secs() {
	if (($1 >= 60)); then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi
}

# The pinned modules declare Go 1.26. An older Go >= 1.21 downloads that
# toolchain through the module proxy by itself, unless GOTOOLCHAIN=local.
# Exits 2, saying how to get Go, when there is none that can build them.
bt_require_go() {
	local v minor
	if ! command -v go >/dev/null 2>&1; then
		printf '%s\n' \
			"${0##*/}: Go >= 1.26 is required (or Go >= 1.21 allowed to fetch it: GOTOOLCHAIN=auto, the default)." \
			"Install it: apt-get install golang-go (Debian >= 13, Ubuntu >= 24.04), or see https://go.dev/dl" >&2
		exit 2
	fi
	v=$(cd / && go env GOVERSION)
	minor=$(sed -n 's/^go1\.\([0-9]*\).*/\1/p' <<<"$v")
	if [[ -n $minor ]] && { ((minor < 21)) || { ((minor < 26)) && [[ $(cd / && go env GOTOOLCHAIN) == local ]]; }; }; then
		printf '%s\n' "${0##*/}: $v cannot build these modules: Go >= 1.26 is required (or Go >= 1.21 with GOTOOLCHAIN=auto); see https://go.dev/dl" >&2
		exit 2
	fi
}

# The Go toolchain and its platform, for cache keys: a binary built by another
# Go is another binary.
bt_go_info() {
	(cd / && go env GOVERSION GOOS GOARCH | tr '\n' ' ')
}

# Go's caches under the tools root, shared by every Go-built tool: a fresh
# machine needs nothing but `go`, the user's GOPATH/GOFLAGS/go.work cannot
# change the result, and a version bump only downloads and compiles what
# changed. PIPELINE_GOFLAGS adds flags (e.g. -p=1 on a machine busy with
# other work).
bt_go_env() {
	export GOPATH=$BT_TOOLS/go
	export GOMODCACHE=$GOPATH/pkg/mod GOCACHE=$GOPATH/cache
	export GOFLAGS="-modcacherw${PIPELINE_GOFLAGS:+ $PIPELINE_GOFLAGS}" GOWORK=off CGO_ENABLED=0
	unset GOOS GOARCH
}

# Two setups at once (parallel CI jobs, a test and a person) must not build
# into the same directory: the second waits, then finds the cache filled.
# Takes the lock of KEY_DIR on file descriptor FD, held until the script
# exits; returns 1 when, once the lock is held, IS_BUILT says the directory
# is complete (another setup built it meanwhile).
bt_lock() { # KEY_DIR FD IS_BUILT
	command -v flock >/dev/null 2>&1 || return 0
	eval "exec $2>\"\$1.lock\""
	if ! flock -n "$2"; then
		echo "another setup is building $1; waiting for it..."
		flock "$2"
	fi
	! "$3"
}

# bt_step LABEL LOG COMMAND...: runs the command with its output in LOG,
# printing a line every BT_HEARTBEAT seconds (elapsed time, log size, last log
# line: a package name while `go build -v` compiles) so a person sees it is
# alive; on failure, the log's tail and an error naming the full log.
bt_step() {
	local label=$1 log=$2 t0=$SECONDS hb rc=0
	shift 2
	printf '==> %s\n' "$label"
	(
		# sleep's output goes nowhere, so one left behind when the loop is
		# killed cannot hold a pipe (setup.sh | tee ...) open.
		while sleep "$BT_HEARTBEAT" >/dev/null 2>&1; do
			printf '    ... still working (%s): %s log lines, last: %.90s\n' \
				"$(bt_fmt_secs $((SECONDS - t0)))" "$(wc -l <"$log")" "$(tail -n 1 "$log")"
		done
	) &
	hb=$!
	"$@" >"$log" 2>&1 || rc=$?
	kill "$hb" 2>/dev/null || true
	wait "$hb" 2>/dev/null || true
	if ((rc != 0)); then
		tail -n 40 "$log" >&2
		bt_die "'$label' failed (exit $rc); full log: $log"
	fi
	printf '    done in %s (log: %s)\n' "$(bt_fmt_secs $((SECONDS - t0)))" "$log"
}
