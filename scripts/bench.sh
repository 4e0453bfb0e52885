#!/usr/bin/env bash
# `make bench`: sysbench against direct MariaDB, an haproxy TCP relay and
# shardproxy (pass-through and sharded schemas), on throwaway servers the
# program starts and stops itself. Installs what it needs from Debian's
# packages when missing. Settings: BENCH_* variables, see bench/README.md;
# BENCH_QUICK=1 for a one-minute run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

has() { command -v "$1" >/dev/null || [[ -x /usr/sbin/$1 ]]; }

missing=()
has mariadbd || missing+=(mariadb-server mariadb-client)
has sysbench || missing+=(sysbench)
has haproxy || missing+=(haproxy)
if ((${#missing[@]} > 0)); then
	echo "installing with apt-get: ${missing[*]}" >&2
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cd "$ROOT"
# Built, then exec'd rather than `go run`: the benchmark then is this
# process, so Ctrl-C and SIGTERM reach it and it stops everything it started.
"${GO:-go}" build -o bench/.bin/sysbench ./bench/sysbench
exec bench/.bin/sysbench "$@"
