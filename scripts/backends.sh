#!/usr/bin/env bash
# Local MariaDB backends for `make run`: two nodes, each a primary with one
# GTID replica, datadirs under $ROOT/.data/ that survive up/down.
#
#   scripts/backends.sh up|down|status
#
# Ports: N0_PRIMARY_PORT (3307) N0_REPLICA_PORT (3308)
#        N1_PRIMARY_PORT (3309) N1_REPLICA_PORT (3310)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=$ROOT/.data
READY_TIMEOUT=60 # seconds, for startup, replication and shutdown each

# name port server_id primary-name ("-" for a primary); primaries first.
INSTANCES=(
	"n0-primary ${N0_PRIMARY_PORT:-3307} 1 -"
	"n1-primary ${N1_PRIMARY_PORT:-3309} 3 -"
	"n0-replica ${N0_REPLICA_PORT:-3308} 2 n0-primary"
	"n1-replica ${N1_REPLICA_PORT:-3310} 4 n1-primary"
)

# Must match between mariadb-install-db and mariadbd.
INNODB_FLAGS=(--innodb-buffer-pool-size=32M --innodb-log-file-size=16M)

log() { printf '%s\n' "$*" >&2; }
die() {
	log "backends: $*"
	exit 1
}

find_bin() {
	local name
	for name in "$@"; do
		if command -v "$name" >/dev/null; then
			command -v "$name"
			return
		fi
		# Non-login root shells may lack sbin on PATH.
		if [[ -x /usr/sbin/$name ]]; then
			echo "/usr/sbin/$name"
			return
		fi
	done
	return 1
}

ensure_mariadb() {
	if ! find_bin mariadbd mysqld >/dev/null; then
		log "mariadbd not found, installing mariadb-server and mariadb-client"
		local sudo=()
		[[ $(id -u) == 0 ]] || sudo=(sudo)
		"${sudo[@]}" apt-get update
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server mariadb-client
	fi
	find_tools
}

find_tools() {
	MARIADBD=$(find_bin mariadbd mysqld) || die "mariadbd not found; run: $0 up"
	INSTALL_DB=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
	CLIENT=$(find_bin mariadb mysql) || die "mariadb client not found"
	ADMIN=$(find_bin mariadb-admin mysqladmin) || die "mariadb-admin not found"
}

# sql PORT QUERY: run QUERY as root over TCP, tab-separated output with a header.
sql() {
	"$CLIENT" --no-defaults -h127.0.0.1 -P"$1" -uroot -B -e "$2"
}

# pid_of NAME: the pid of NAME's mariadbd, if it runs (guards against pid reuse).
pid_of() {
	local dir=$DATA/$1 pid
	pid=$(cat "$dir/mysqld.pid" 2>/dev/null) || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--datadir=$dir/data " || return 1
	echo "$pid"
}

# alive PID: true while PID runs; a zombie (left for an init that may never
# reap it) counts as gone.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [[ -n $state && $state != Z ]]
}

# socket_path NAME PORT: unix sockets are limited to ~107 bytes; deep checkouts fall back to /tmp.
socket_path() {
	local sock=$DATA/$1/mysqld.sock
	((${#sock} <= 100)) || sock=${TMPDIR:-/tmp}/shardproxy-backend-$2.sock
	echo "$sock"
}

log_tail() {
	log "--- last lines of $DATA/$1/error.log ---"
	tail -n 20 "$DATA/$1/error.log" >&2 || true
}

# wait_ready NAME PORT PID: poll a root login until it works or PID dies.
wait_ready() {
	local i
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		if "$ADMIN" --no-defaults -h127.0.0.1 -P"$2" -uroot --connect-timeout=1 ping >/dev/null 2>&1; then
			return
		fi
		if ! alive "$3"; then
			log_tail "$1"
			die "$1 exited during startup"
		fi
		sleep 0.1
	done
	log_tail "$1"
	die "$1 not ready on port $2 after ${READY_TIMEOUT}s"
}

start_instance() {
	local name=$1 port=$2 id=$3 dir=$DATA/$1 pid
	if pid=$(pid_of "$name"); then
		wait_ready "$name" "$port" "$pid"
		log "$name already running on 127.0.0.1:$port"
		return
	fi
	if [[ ! -d $dir/data ]]; then
		log "$name: initialising $dir/data"
		mkdir -p "$dir"
		rm -rf "$dir/data.tmp"
		# normal auth: root@localhost/127.0.0.1 with an empty password, usable over TCP.
		"$INSTALL_DB" --no-defaults --user=root --auth-root-authentication-method=normal \
			--skip-test-db --skip-name-resolve "${INNODB_FLAGS[@]}" \
			--datadir="$dir/data.tmp" >"$dir/install.log" 2>&1 ||
			die "mariadb-install-db failed, see $dir/install.log"
		# Renamed last so a half-initialised datadir is never used.
		mv "$dir/data.tmp" "$dir/data"
	fi
	# setsid: the servers outlive this script and the terminal that ran it;
	# --wait keeps $! alive exactly as long as mariadbd, forked or not.
	setsid --wait "$MARIADBD" --no-defaults --user=root \
		--datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
		--socket="$(socket_path "$name" "$port")" --pid-file="$dir/mysqld.pid" \
		--log-error="$dir/error.log" --server-id="$id" \
		--log-bin=mysql-bin --binlog-format=ROW --log-slave-updates \
		--skip-name-resolve --performance-schema=OFF "${INNODB_FLAGS[@]}" \
		--innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --max-connections=1000 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
		</dev/null >>"$dir/error.log" 2>&1 &
	wait_ready "$name" "$port" "$!"
	log "$name started on 127.0.0.1:$port"
}

# replicate NAME PORT PRIMARY_PORT: configure GTID replication once, then
# wait for both threads (they restart by themselves with the server).
replicate() {
	local name=$1 port=$2 primary_port=$3 i state
	if [[ -z $(sql "$port" "SHOW SLAVE STATUS") ]]; then
		log "$name: replicating from 127.0.0.1:$primary_port"
		sql "$port" "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$primary_port,
			MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos,
			MASTER_CONNECT_RETRY=1; START SLAVE"
	fi
	for ((i = 0; i < READY_TIMEOUT * 10; i++)); do
		state=$(replication_state "$port")
		[[ $state == "IO=Yes SQL=Yes" ]] && return
		sleep 0.1
	done
	die "$name: replication not running: $state"
}

replication_state() {
	sql "$1" "SHOW SLAVE STATUS\G" 2>&1 | awk -F': ' '
		$1 ~ /Slave_IO_Running$/ { io = $2 }
		$1 ~ /Slave_SQL_Running$/ { sq = $2 }
		$1 ~ /Last_(IO|SQL)_Error$/ && $2 != "" { err = err " " substr($0, index($0, ": ") + 2) }
		END { printf "IO=%s SQL=%s%s", io, sq, err }'
}

port_of() {
	local inst name port _
	for inst in "${INSTANCES[@]}"; do
		read -r name port _ <<<"$inst"
		[[ $name == "$1" ]] && echo "$port" && return
	done
	return 1
}

up() {
	ensure_mariadb
	local inst name port id primary
	for inst in "${INSTANCES[@]}"; do
		read -r name port id primary <<<"$inst"
		start_instance "$name" "$port" "$id"
		[[ $primary == - ]] || replicate "$name" "$port" "$(port_of "$primary")"
	done
	log "backends up; logs: $DATA/<name>/error.log"
	status
}

down() {
	local name pid i n
	# Replicas first, so they do not log a vanished primary.
	for ((i = ${#INSTANCES[@]} - 1; i >= 0; i--)); do
		read -r name _ <<<"${INSTANCES[i]}"
		pid=$(pid_of "$name") || continue
		kill -TERM "$pid"
		for ((n = 0; n < READY_TIMEOUT * 10; n++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			log "$name ignored SIGTERM for ${READY_TIMEOUT}s, killing"
			kill -KILL "$pid"
		fi
		log "$name stopped"
	done
}

status() {
	local inst name port id primary pid rc=0 line
	for inst in "${INSTANCES[@]}"; do
		read -r name port id primary <<<"$inst"
		line=$(printf '%-11s 127.0.0.1:%-5s ' "$name" "$port")
		if pid=$(pid_of "$name"); then
			line+="running pid $pid"
			[[ $primary == - ]] || line+=", $(replication_state "$port")"
		else
			line+="stopped"
			rc=1
		fi
		echo "$line"
	done
	return "$rc"
}

case ${1:-} in
up) up ;;
down) down ;;
status)
	find_tools
	status
	;;
*) die "usage: $0 up|down|status" ;;
esac
