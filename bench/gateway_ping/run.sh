#!/usr/bin/env bash
# Benchmark: GET /api/v1/_ping through portunus-gateway against nginx (one worker, `return 200`)
# in the same run, with the same load generator, plus the idle resident memory of every
# Portunus service binary. Results and the reference command: docs/benchmarks.md.
#
#   bench/gateway_ping/run.sh [BUILD_DIR]        (default BUILD_DIR: build)
#
# Builds nothing: build the service binaries first
#   ninja -C build portunus-gateway portunus-auth portunus-catalog portunus-scanner portunus-health \
#     portunusctl
# Needs wrk and nginx (Debian packages `wrk`, `nginx-light` or `nginx`). Everything runs on free
# loopback ports from a temporary directory and is stopped and removed at the end; nginx runs in
# the foreground from its own config, not as a system service.
#
# Environment knobs: ROUNDS (3) measured rounds per server, the median is reported;
# DURATION (10s) per wrk run; WRK_THREADS (2); WRK_CONNECTIONS (32); WARMUP (3s);
# SKIP_RSS=1 skips the idle-memory part (which needs PostgreSQL 15 for the services that have a
# database).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
SERVICES=(gateway auth catalog scanner health)

die() { echo "gateway_ping: $*" >&2; exit 2; }
say() { echo "== $*" >&2; }

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] || die "nginx is not installed (apt-get install nginx-light)"
for svc in "${SERVICES[@]}"; do
  [ -x "$BUILD/services/$svc/portunus-$svc" ] ||
    die "$BUILD/services/$svc/portunus-$svc is missing: build it first (see the header)"
done

# Only the settings below reach the services: drop the caller's PORTUNUS_* and PORTUNUS_CONFIG.
while read -r var; do unset "$var"; done < <(env | grep -o '^PORTUNUS_[A-Z0-9_]*' || true)
export PORTUNUS_INTERNAL_SECRET=bench-internal-secret-0123456789abcdef
export PORTUNUS_LOG_LEVEL=warn PORTUNUS_LOG_FORMAT=text

TMP=$(mktemp -d /tmp/portunus-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
PG_DIR=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DIR" ]; then pg_stop "$PG_DIR"; rm -rf "$PG_DIR"; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: polls until URL answers 200.
wait_http() {
  local deadline=$((SECONDS + $2))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

# ---- servers ----------------------------------------------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;  # like the gateway: connections stay open for the whole run
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 200; }
  }
}
NGINX
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/logs/stderr.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
NGINX_URL=http://127.0.0.1:$NGINX_PORT/api/v1/_ping

# start_gateway ACCESS_LOG -> sets GATEWAY_PID and GATEWAY_URL
start_gateway() {
  local port metrics
  port=$(free_port)
  metrics=$(free_port)
  PORTUNUS_GATEWAY_LISTEN=127.0.0.1:$port PORTUNUS_GATEWAY_METRICS_LISTEN=127.0.0.1:$metrics \
    PORTUNUS_GATEWAY_ACCESS_LOG=$1 \
    "$BUILD/services/gateway/portunus-gateway" 2>>"$TMP/gateway.log" &
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
  GATEWAY_URL=http://127.0.0.1:$port/api/v1/_ping
  wait_http "$GATEWAY_URL" 30 || { cat "$TMP/gateway.log" >&2; die "the gateway did not start"; }
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

start_gateway off
wait_http "$NGINX_URL" 30 || { cat "$TMP/nginx/logs/"* >&2; die "nginx did not start"; }

# ---- load -------------------------------------------------------------------------------------
# cpu_ticks PID... -> utime + stime (clock ticks) of the processes and their children's threads
cpu_ticks() {
  local total=0 pid t
  for pid in "$@"; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}
TICKS_PER_S=$(getconf CLK_TCK)

# run_wrk URL DURATION [PID...] -> "req_per_s p50_ms p99_ms server_cpu_us_per_request"
run_wrk() {
  local url=$1 duration=$2 before after out
  shift 2
  before=$(cpu_ticks "$@")
  out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$duration" --latency "$url")
  after=$(cpu_ticks "$@")
  awk -v ticks=$((after - before)) -v hz="$TICKS_PER_S" -v d="${duration%s}" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses/ { bad = $NF }
    /Socket errors/ { errors = $0 }
    END { if (bad != "") print "non-2xx responses: " bad > "/dev/stderr"
          if (errors != "") print errors > "/dev/stderr"
          cpu = (rps > 0) ? ticks / hz * 1e6 / (rps * d) : 0
          printf "%.0f %.2f %.2f %.1f\n", rps, p50, p99, cpu }' <<<"$out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

NGINX_PIDS=("$NGINX_PID" $(pgrep -P "$NGINX_PID" || true))
say "warm-up ($WARMUP each)"
run_wrk "$NGINX_URL" "$WARMUP" >/dev/null
run_wrk "$GATEWAY_URL" "$WARMUP" >/dev/null

: >"$TMP/nginx.txt"
: >"$TMP/gateway.txt"
for round in $(seq "$ROUNDS"); do
  say "round $round/$ROUNDS: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$DURATION --latency"
  run_wrk "$NGINX_URL" "$DURATION" "${NGINX_PIDS[@]}" | tee -a "$TMP/nginx.txt" |
    sed 's/^/   nginx:   /' >&2
  run_wrk "$GATEWAY_URL" "$DURATION" "$GATEWAY_PID" | tee -a "$TMP/gateway.txt" |
    sed 's/^/   gateway: /' >&2
done
NGINX_RPS=$(cut -d' ' -f1 "$TMP/nginx.txt" | median)
GATEWAY_RPS=$(cut -d' ' -f1 "$TMP/gateway.txt" | median)
NGINX_P99=$(cut -d' ' -f3 "$TMP/nginx.txt" | median)
GATEWAY_P99=$(cut -d' ' -f3 "$TMP/gateway.txt" | median)
NGINX_CPU=$(cut -d' ' -f4 "$TMP/nginx.txt" | median)
GATEWAY_CPU=$(cut -d' ' -f4 "$TMP/gateway.txt" | median)
GATEWAY_HWM=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$GATEWAY_PID/status")
stop_pid "$GATEWAY_PID"

say "gateway with its access log on (one line per request to a file), one run"
start_gateway on
LOGGED=$(run_wrk "$GATEWAY_URL" "$DURATION" "$GATEWAY_PID")
stop_pid "$GATEWAY_PID"
read -r LOGGED_RPS _ _ LOGGED_CPU <<<"$LOGGED"

RATIO=$(awk -v g="$GATEWAY_RPS" -v n="$NGINX_RPS" 'BEGIN { printf "%.2f", g / n }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.7) ? "meets" : "MISSES" }')

# ---- idle memory ------------------------------------------------------------------------------
RSS_LINES=()
if [ "${SKIP_RSS:-0}" != 1 ]; then
  say "idle RSS: starting every service (with a throwaway PostgreSQL for the database ones)"
  source "$ROOT/scripts/lib/postgres.sh"
  PG_DIR=$(mktemp -d /tmp/portunus-bench-pg.XXXXXX)
  PG_PORT=$(free_port)
  PG_LISTEN='' PG_EXTRA_OPTS='-c fsync=off' pg_setup "$PG_DIR" "$PG_PORT"
  pg_as psql -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -c 'CREATE DATABASE portunus' >/dev/null
  export PORTUNUS_DB_HOST=$PG_DIR PORTUNUS_DB_PORT=$PG_PORT PORTUNUS_DB_USERNAME=postgres \
    PORTUNUS_DB_DATABASE=portunus PORTUNUS_DB_SSLMODE=disable
  # auth reports ready only with a token signing key (nothing is signed here).
  "$BUILD/cli/portunusctl" keys generate --algorithm ES256 --dir "$TMP/keys" >/dev/null
  export PORTUNUS_AUTH_TOKEN_KEYS_DIR=$TMP/keys
  declare -A METRICS_PORT=() PID=() READY=()
  for svc in "${SERVICES[@]}"; do
    up=${svc^^}
    METRICS_PORT[$svc]=$(free_port)
    export "PORTUNUS_${up}_METRICS_LISTEN=127.0.0.1:${METRICS_PORT[$svc]}"
    if [ "$svc" = gateway ]; then
      export PORTUNUS_GATEWAY_LISTEN=127.0.0.1:$(free_port)
    else
      export "PORTUNUS_${up}_LISTEN=127.0.0.1:$(free_port)"
    fi
  done
  for svc in "${SERVICES[@]}"; do
    args=()
    [ "$svc" = gateway ] || args=(--migrate)
    "$BUILD/services/$svc/portunus-$svc" "${args[@]}" 2>"$TMP/$svc.log" &
    PID[$svc]=$!
    PIDS+=("${PID[$svc]}")
  done
  for svc in "${SERVICES[@]}"; do
    url=http://127.0.0.1:${METRICS_PORT[$svc]}/metrics
    deadline=$((SECONDS + 60))
    READY[$svc]=1
    until curl -s "$url" 2>/dev/null | grep -q '^portunus_ready 1'; do
      if ! kill -0 "${PID[$svc]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        echo "portunus-$svc did not become ready; its log:" >&2
        tail -5 "$TMP/$svc.log" >&2
        READY[$svc]=0
        break
      fi
      sleep 0.1
    done
  done
  sleep 3  # let start-up work (migrations, first health probes) settle: measure idle
  for svc in "${SERVICES[@]}"; do
    if [ "${READY[$svc]}" != 1 ]; then
      RSS_LINES+=("$(printf '  %-18s not ready (see above): not measured' "portunus-$svc")")
    elif kill -0 "${PID[$svc]}" 2>/dev/null; then
      rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/${PID[$svc]}/status")
      ok=$(awk -v r="$rss" 'BEGIN { print (r <= 30) ? "meets" : "MISSES" }')
      RSS_LINES+=("$(printf '  %-18s %6s MiB   (%s the 30 MiB target)' "portunus-$svc" "$rss" "$ok")")
    else
      RSS_LINES+=("$(printf '  %-18s exited (see above)' "portunus-$svc")")
    fi
  done
fi

# ---- report -----------------------------------------------------------------------------------
cat <<REPORT

GET /api/v1/_ping, wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$DURATION --latency, median of $ROUNDS rounds
  nginx (1 worker, return 200)   $(printf '%8s' "$NGINX_RPS") req/s   p99 ${NGINX_P99} ms   server CPU ${NGINX_CPU} us/req
  portunus-gateway (1 io thread) $(printf '%8s' "$GATEWAY_RPS") req/s   p99 ${GATEWAY_P99} ms   server CPU ${GATEWAY_CPU} us/req   peak RSS ${GATEWAY_HWM} MiB
  ratio gateway / nginx          $RATIO   ($VERDICT the 0.70 target)
  gateway with access log on     $(printf '%8s' "$LOGGED_RPS") req/s   server CPU ${LOGGED_CPU} us/req   (one run)
REPORT
if [ ${#RSS_LINES[@]} -gt 0 ]; then
  echo "Idle RSS (VmRSS) of each service, started idle and ready:"
  printf '%s\n' "${RSS_LINES[@]}"
fi
