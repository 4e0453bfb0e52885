#!/usr/bin/env bash
# Installs what the tests run besides Go, from Debian's packages, when it is
# missing: MariaDB (the tests start their own servers from it) and the
# Flask + SQLAlchemy + PyMySQL stack of the example microservice test,
# MySQLdb (libmariadb's mysql_change_user) for the COM_CHANGE_USER test and,
# with Django, for the Django test, Java with MariaDB Connector/J for the JDBC
# test, and PHP with mysqlnd (PDO, mysqli) for the PHP test.
set -euo pipefail
missing=()
if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
	missing+=(mariadb-server mariadb-client)
fi
if ! /usr/bin/python3 -c 'import flask_sqlalchemy, pymysql' 2>/dev/null; then
	missing+=(python3-flask-sqlalchemy python3-pymysql)
fi
if ! /usr/bin/python3 -c 'import MySQLdb' 2>/dev/null; then
	missing+=(python3-mysqldb)
fi
if ! /usr/bin/python3 -c 'import django' 2>/dev/null; then
	missing+=(python3-django)
fi
if ! command -v javac >/dev/null; then
	missing+=(default-jdk-headless) # java runs the test source file: needs the compiler
fi
if [[ ! -f /usr/share/java/mariadb-java-client.jar ]]; then
	missing+=(libmariadb-java)
fi
if ! command -v php >/dev/null || ! php -m 2>/dev/null | grep -qx pdo_mysql; then
	missing+=(php-cli php-mysql)
fi
if ((${#missing[@]} == 0)); then
	exit 0
fi
echo "installing with apt-get: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
