#!/usr/bin/env bash
# Authorize decisions per second over gRPC, with the in-memory authorization cache on and off.
#
#   ninja -C build portunus-auth authorize_load portunusctl
#   bench/auth_authorize/run.sh [BUILD_DIR]
#
# Starts a throwaway PostgreSQL, migrates the auth schema, seeds 10,000 users (each with the
# personal team and private personal namespace every person has), 1,000 teams with ~30,000
# memberships of all three roles and 5,000 team namespaces (private, protected and public in
# turn), then for each mode (auth.authorization_cache.enabled true, then false) starts
# portunus-auth, warms up, and runs authorize_load (CONCURRENCY calls in flight over CHANNELS
# connections, one scope "repository:ns-<k>/app:pull,push" per call for a random user) ROUNDS
# times for DURATION seconds each. Prints the median decisions/s per mode, the auth process's CPU
# time per decision, and the ratio. Knobs: ROUNDS (3), DURATION (10), WARMUP (3), CONCURRENCY
# (64), CHANNELS (2). Results and the command: docs/benchmarks.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-64}
CHANNELS=${CHANNELS:-2}
USERS=10000
TEAMS=1000
NAMESPACES=5000

die() { echo "auth_authorize: $*" >&2; exit 2; }
say() { echo "== $*" >&2; }

AUTH=$BUILD/services/auth/portunus-auth
LOAD=$BUILD/bench/authorize_load
CTL=$BUILD/cli/portunusctl
[ -x "$AUTH" ] || die "$AUTH is missing: build it first (see the header)"
[ -x "$LOAD" ] || die "$LOAD is missing: build it first (see the header)"
[ -x "$CTL" ] || die "$CTL is missing: build it first (see the header)"

while read -r var; do unset "$var"; done < <(env | grep -o '^PORTUNUS_[A-Z0-9_]*' || true)
export PORTUNUS_INTERNAL_SECRET=bench-internal-secret-0123456789abcdef
export PORTUNUS_LOG_LEVEL=warn PORTUNUS_LOG_FORMAT=text

TMP=$(mktemp -d /tmp/portunus-bench-authz.XXXXXX)
chmod 755 "$TMP"
PG_DIR=
AUTH_PID=
cleanup() {
  if [ -n "$AUTH_PID" ]; then kill -TERM "$AUTH_PID" 2>/dev/null || true; wait "$AUTH_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DIR" ]; then pg_stop "$PG_DIR"; rm -rf "$PG_DIR"; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

source "$ROOT/scripts/lib/postgres.sh"
say "PostgreSQL and the auth schema"
PG_DIR=$(mktemp -d /tmp/portunus-bench-pg.XXXXXX)
PG_PORT=$(free_port)
PG_LISTEN='' PG_EXTRA_OPTS='-c fsync=off' pg_setup "$PG_DIR" "$PG_PORT"
psql_db() { pg_as psql -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres "$@"; }
psql_db -c 'CREATE DATABASE portunus' >/dev/null
export PORTUNUS_DB_HOST=$PG_DIR PORTUNUS_DB_PORT=$PG_PORT PORTUNUS_DB_USERNAME=postgres \
  PORTUNUS_DB_DATABASE=portunus PORTUNUS_DB_SSLMODE=disable
# auth reports ready only with a token signing key (the benchmark never signs).
"$CTL" keys generate --algorithm ES256 --dir "$TMP/keys" >/dev/null
export PORTUNUS_AUTH_TOKEN_KEYS_DIR=$TMP/keys
AUTH_PORT=$(free_port)
METRICS_PORT=$(free_port)
export PORTUNUS_AUTH_LISTEN=127.0.0.1:$AUTH_PORT PORTUNUS_AUTH_METRICS_LISTEN=127.0.0.1:$METRICS_PORT

start_auth() {  # $1: true|false (the authorization cache)
  PORTUNUS_AUTH_AUTHORIZATION_CACHE_ENABLED=$1 "$AUTH" --migrate 2>>"$TMP/auth.log" &
  AUTH_PID=$!
  local deadline=$((SECONDS + 120))
  until curl -s "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null | grep -q '^portunus_ready 1'; do
    if ! kill -0 "$AUTH_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      tail -20 "$TMP/auth.log" >&2
      die "portunus-auth did not become ready"
    fi
    sleep 0.1
  done
}
stop_auth() { kill -TERM "$AUTH_PID" 2>/dev/null || true; wait "$AUTH_PID" 2>/dev/null || true; AUTH_PID=; }

start_auth true  # migrates
stop_auth

say "seeding $USERS users, $TEAMS teams, $NAMESPACES namespaces"
psql_db -d portunus <<SQL
SET search_path = auth;
BEGIN;
-- People with a bcrypt-shaped hash nobody can log in with (the benchmark never authenticates).
INSERT INTO users (id, username, email, password_hash)
  SELECT g, 'user' || g, 'user' || g || '@bench.local', '\$2b\$10\$' || repeat('x', 53)
  FROM generate_series(1, $USERS) g;
SELECT setval('users_id_seq', $USERS);
INSERT INTO teams (name, kind, owner_user_id)
  SELECT 'user' || g, 'personal', g FROM generate_series(1, $USERS) g;
INSERT INTO team_members (team_id, user_id, role)
  SELECT id, owner_user_id, 'owner' FROM teams WHERE kind = 'personal';
INSERT INTO namespaces (name, team_id, visibility, kind)
  SELECT name, id, 'private', 'personal' FROM teams WHERE kind = 'personal';
INSERT INTO teams (name, description)
  SELECT 'team-' || g, 'bench team ' || g FROM generate_series(1, $TEAMS) g;
-- Three memberships per user, roles in turn.
INSERT INTO team_members (team_id, user_id, role)
  SELECT t.id, u.g, (ARRAY['viewer', 'contributor', 'owner'])[1 + (u.g + k) % 3]
  FROM generate_series(1, $USERS) u(g)
  CROSS JOIN generate_series(0, 2) k
  JOIN teams t ON t.name = 'team-' || (1 + (u.g * (7 + 6 * k) + 131 * k) % $TEAMS)
  ON CONFLICT DO NOTHING;
-- Namespace k belongs to team 1 + k % TEAMS; visibility private, protected, public in turn.
INSERT INTO namespaces (name, description, team_id, visibility)
  SELECT 'ns-' || g, 'bench namespace ' || g, t.id, (ARRAY['private', 'protected', 'public'])[1 + g % 3]
  FROM generate_series(1, $NAMESPACES) g
  JOIN teams t ON t.name = 'team-' || (1 + g % $TEAMS);
COMMIT;
ANALYZE;
SQL
COUNTS=$(psql_db -d portunus -At -c "SELECT (SELECT count(*) FROM auth.users) || ' users, ' ||
  (SELECT count(*) FROM auth.teams WHERE kind = 'team') || ' teams, ' ||
  (SELECT count(*) FROM auth.team_members tm JOIN auth.teams t ON t.id = tm.team_id WHERE t.kind = 'team') || ' memberships, ' ||
  (SELECT count(*) FROM auth.namespaces WHERE kind = 'team') || ' team namespaces (+ ' ||
  (SELECT count(*) FROM auth.namespaces WHERE kind = 'personal') || ' personal)'")
say "$COUNTS"

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
TICKS_PER_S=$(getconf CLK_TCK)
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

measure() {  # $1: true|false
  start_auth "$1"
  "$LOAD" --target="127.0.0.1:$AUTH_PORT" --duration="$WARMUP" --concurrency="$CONCURRENCY" \
    --channels="$CHANNELS" --users=$USERS --namespaces=$NAMESPACES >/dev/null || die "warm-up failed (cache $1)"
  : >"$TMP/rates.$1"
  : >"$TMP/cpu.$1"
  for round in $(seq "$ROUNDS"); do
    before=$(cpu_ticks "$AUTH_PID")
    line=$("$LOAD" --target="127.0.0.1:$AUTH_PORT" --duration="$DURATION" --concurrency="$CONCURRENCY" \
             --channels="$CHANNELS" --users=$USERS --namespaces=$NAMESPACES --seed="$round") ||
      die "round $round failed (cache $1): $line"
    after=$(cpu_ticks "$AUTH_PID")
    cpu=$(echo "$line" | field decisions | awk -v t=$((after - before)) -v hz="$TICKS_PER_S" \
            '{ printf "%.1f", ($1 > 0) ? t / hz * 1e6 / $1 : 0 }')
    echo "   cache $1, round $round: $line auth_cpu_us_per_decision=$cpu" >&2
    echo "$line" | field rate >>"$TMP/rates.$1"
    echo "$cpu" >>"$TMP/cpu.$1"
    echo "$line" >"$TMP/last.$1"
  done
  RSS[$1]=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$AUTH_PID/status")
  stop_auth
}

declare -A RSS=()
say "cache on: $ROUNDS rounds of ${DURATION}s, $CONCURRENCY calls in flight"
measure true
say "cache off: $ROUNDS rounds of ${DURATION}s, $CONCURRENCY calls in flight"
measure false
ON=$(median <"$TMP/rates.true")
OFF=$(median <"$TMP/rates.false")
RATIO=$(awk -v a="$ON" -v b="$OFF" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')
TARGET=$(awk -v a="$ON" 'BEGIN { print (a >= 20000) ? "meets" : "MISSES" }')

cat <<REPORT

Authorize over gRPC ($COUNTS), one scope per call,
$CONCURRENCY calls in flight over $CHANNELS connections, median of $ROUNDS rounds of ${DURATION}s
  cache on   $(printf '%8s' "$ON") decisions/s ($TARGET the 20,000/s target)  auth CPU $(median <"$TMP/cpu.true") us/decision  p50 $(field p50_us <"$TMP/last.true") us  p99 $(field p99_us <"$TMP/last.true") us  auth RSS ${RSS[true]} MiB
  cache off  $(printf '%8s' "$OFF") decisions/s                               auth CPU $(median <"$TMP/cpu.false") us/decision  p50 $(field p50_us <"$TMP/last.false") us  p99 $(field p99_us <"$TMP/last.false") us  auth RSS ${RSS[false]} MiB
  ratio on/off: ${RATIO}x
  last round (cache on):  $(cat "$TMP/last.true")
  last round (cache off): $(cat "$TMP/last.false")
REPORT
