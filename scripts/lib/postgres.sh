# Shell helpers for a throwaway PostgreSQL 15 cluster (sourced by scripts/run-local and
# tests/pg-fixture). initdb refuses to run as root, so as root everything runs as `postgres`.
# Usage: pg_setup DIR PORT   -> initdb (first time only) and start; socket and data in DIR
#        pg_stop DIR         -> fast shutdown
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints DIR's data directory path. DIR must be traversable by the server's user.
pg_setup() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  if pg_as "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0  # already running
  fi
  pg_as "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=${PG_LISTEN-127.0.0.1} -p $port -k $dir -c max_connections=300 ${PG_EXTRA_OPTS:-}" \
    start >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
}

pg_stop() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    pg_as "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

# True when the server's user can reach DIR (a fresh clone under `mktemp -d` cannot).
pg_can_reach() {
  if [ "$(id -u)" != 0 ]; then return 0; fi
  runuser -u postgres -- test -x "$1"
}
