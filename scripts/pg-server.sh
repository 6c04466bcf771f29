#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and examples (issue 17).
#
#   scripts/pg-server.sh start         initdb in a fresh folder, start on a free loopback port, and
#                                      print two lines: the URL, then the folder (give it to `stop`)
#   scripts/pg-server.sh stop FOLDER   stop that server and remove its folder
#   scripts/pg-server.sh bindir        print the folder of initdb and pg_ctl, or fail saying what to install
#
# With NERVE_PG_WATCH_PID set, `start` also leaves a watchdog that stops the server once that
# process has ended (the vitest global setup uses it: a killed test run leaves no server behind).
#
# The server refuses to run as root: as root, initdb and pg_ctl run as the `postgres` user
# (`runuser -u postgres --`) and the folder belongs to that user; as anyone else they run as the
# caller. The folder is made under $NERVE_PG_PARENT (default /tmp), never under $TMPDIR: the tests
# check that their TMPDIR is left empty, and the postgres user must be able to reach the folder.
# Authentication is `trust` on 127.0.0.1 only; the superuser is `nerve`; fsync stays on.
set -euo pipefail

die() { echo "pg-server: $*" >&2; exit 1; }

bindir() {
  local dir=""
  if command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir 2>/dev/null || true); fi
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    # Debian keeps the server's binaries off PATH, one folder per major version; take the newest.
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  fi
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ] || [ ! -x "$dir/pg_ctl" ]; then
    die "no PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin); install them with: apt-get install -y postgresql-15"
  fi
  echo "$dir"
}

# Runs a server binary as the user the server may run as.
as_server_user() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A watchdog in its own session: once process $1 is gone (or a zombie), stop the server in $2.
# It is started here, not by the caller, so a caller killed while the server starts is covered.
watch_owner() {
  local self
  self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
  setsid sh -c 'while s=$(ps -o stat= -p "$1") && [ "${s#Z}" = "$s" ]; do sleep 1; done; exec "$2" stop "$3"' \
    pg-watchdog "$1" "$self" "$2" </dev/null >/dev/null 2>&1 &
}

start() {
  local bin folder port attempt
  bin=$(bindir)
  if [ "$(id -u)" = "0" ] && ! id postgres >/dev/null 2>&1; then
    die "running as root needs a 'postgres' user to run the server (apt-get install -y postgresql-15 creates it)"
  fi
  folder=$(mktemp -d -p "${NERVE_PG_PARENT:-/tmp}" nerve-pg.XXXXXX)
  # Anything failing from here on removes the folder (and a half-started server).
  trap 'stop "$folder" >/dev/null 2>&1 || true' ERR
  mkdir -p "$folder/data" "$folder/sock"
  if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$folder"; fi
  chmod 0700 "$folder"
  as_server_user "$bin/initdb" -D "$folder/data" -A trust -U nerve -E UTF8 --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 ||
    { cat "$folder/initdb.log" >&2; false; }
  # A free port can be taken by someone else before the server binds it: try a few.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_server_user "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
      -o "-p $port -k $folder/sock -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null 2>&1; then
      trap - ERR
      if [ -n "${NERVE_PG_WATCH_PID:-}" ]; then watch_owner "$NERVE_PG_WATCH_PID" "$folder"; fi
      echo "postgres://nerve@127.0.0.1:$port/postgres"
      echo "$folder"
      return 0
    fi
  done
  tail -20 "$folder/server.log" >&2 || true
  false
}

stop() {
  local folder="${1:-}"
  [ -n "$folder" ] || die "usage: pg-server.sh stop FOLDER"
  case "$(basename "$folder")" in nerve-pg.*) ;; *) die "not a folder this script made: $folder" ;; esac
  if [ -f "$folder/data/postmaster.pid" ]; then
    as_server_user "$(bindir)/pg_ctl" -D "$folder/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_server_user "$(bindir)/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$folder"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  bindir) bindir ;;
  *) die "usage: pg-server.sh start | stop FOLDER | bindir" ;;
esac
