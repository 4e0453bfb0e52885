#!/usr/bin/env bash
# Installs MariaDB from Debian's packages when mariadbd is missing; tests start
# their own servers from it.
set -euo pipefail
if command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; then
	exit 0
fi
echo "mariadbd not found: installing mariadb-server with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq mariadb-server mariadb-client >/dev/null
