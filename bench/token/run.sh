#!/usr/bin/env bash
# Benchmark: Docker registry tokens through the gateway (GET /v2/token with HTTP Basic, real
# HTTP keep-alive, gateway -> auth over one gRPC channel), with wrk at concurrency 1, 8 and 32,
# for RS256 and ES256 signing keys:
#   warm        credentials cached, token reuse on (the default configuration)
#   warm-noreuse credentials cached, auth.token.reuse=false: every request signs a new token
#   cold        auth.credential_cache.ttl=0: every request pays bcrypt (cost 10)
# and, in the same run, `openssl speed -seconds 2 rsa2048 ecdsap256` for the single-core sign
# rates the targets are stated in. Results and the reference command: docs/benchmarks.md.
#
#   bench/token/run.sh [BUILD_DIR]        (default BUILD_DIR: build)
#
# Builds nothing: build first   ninja -C build portunus-gateway portunus-auth portunusctl
# Needs wrk, PostgreSQL 15, protoc and /usr/bin/python3 with grpcio (scripts/install-deps). Everything
# runs on free loopback ports from a temporary directory and is removed at the end.
#
# Environment knobs: DURATION (5s) per wrk run; WARMUP (2s); MODES ("warm warm-noreuse cold");
# ALGS ("RS256 ES256"); CONCURRENCY ("1 8 32").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-2s}
MODES=${MODES:-warm warm-noreuse cold}
ALGS=${ALGS:-RS256 ES256}
CONCURRENCY=${CONCURRENCY:-1 8 32}

die() { echo "token bench: $*" >&2; exit 2; }
say() { echo "== $*" >&2; }

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
for bin in services/gateway/portunus-gateway services/auth/portunus-auth cli/portunusctl; do
  [ -x "$BUILD/$bin" ] || die "$BUILD/$bin is missing: build it first (see the header)"
done
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
  die "/usr/bin/python3 lacks grpcio/protobuf (apt-get install python3-grpcio python3-protobuf)"
command -v protoc >/dev/null || die "protoc is not installed (apt-get install protobuf-compiler)"

while read -r var; do unset "$var"; done < <(env | grep -o '^PORTUNUS_[A-Z0-9_]*' || true)
export PORTUNUS_INTERNAL_SECRET=bench-internal-secret-0123456789abcdef
export PORTUNUS_LOG_LEVEL=warn PORTUNUS_LOG_FORMAT=text
export PORTUNUS_REGISTRY_SERVICE=registry.bench
export PORTUNUS_GATEWAY_ACCESS_LOG=false

TMP=$(mktemp -d /tmp/portunus-token-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
PG_DIR=
source "$ROOT/scripts/lib/postgres.sh"
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
wait_ready() {  # wait_ready METRICS_PORT PID NAME
  local deadline=$((SECONDS + 60))
  until curl -s "http://127.0.0.1:$1/metrics" 2>/dev/null | grep -q '^portunus_ready 1'; do
    kill -0 "$2" 2>/dev/null || { tail -20 "$TMP/$3.log" >&2; die "$3 exited"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$TMP/$3.log" >&2; die "$3 not ready in 60 s"; }
    sleep 0.1
  done
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- PostgreSQL, keys, the gateway ----------------------------------------------------------
PG_DIR=$(mktemp -d /tmp/portunus-token-bench-pg.XXXXXX)
PG_PORT=$(free_port)
PG_LISTEN='' PG_EXTRA_OPTS='-c fsync=off' pg_setup "$PG_DIR" "$PG_PORT"
pg_as psql -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -c 'CREATE DATABASE portunus' >/dev/null
export PORTUNUS_DB_HOST=$PG_DIR PORTUNUS_DB_PORT=$PG_PORT PORTUNUS_DB_USERNAME=postgres \
  PORTUNUS_DB_DATABASE=portunus PORTUNUS_DB_SSLMODE=disable
AUTH_PORT=$(free_port)
AUTH_METRICS=$(free_port)
GATEWAY_PORT=$(free_port)
GATEWAY_METRICS=$(free_port)
export PORTUNUS_AUTH_LISTEN=127.0.0.1:$AUTH_PORT PORTUNUS_AUTH_ADDRESS=127.0.0.1:$AUTH_PORT
export PORTUNUS_AUTH_METRICS_LISTEN=127.0.0.1:$AUTH_METRICS
export PORTUNUS_GATEWAY_LISTEN=127.0.0.1:$GATEWAY_PORT
export PORTUNUS_GATEWAY_METRICS_LISTEN=127.0.0.1:$GATEWAY_METRICS
for alg in $ALGS; do
  "$BUILD/cli/portunusctl" keys generate --algorithm "$alg" --dir "$TMP/keys-$alg" >/dev/null
done

"$BUILD/services/gateway/portunus-gateway" 2>"$TMP/gateway.log" &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")
wait_ready "$GATEWAY_METRICS" "$GATEWAY_PID" gateway

# start_auth ALG MODE -> AUTH_PID
start_auth() {
  local env=(PORTUNUS_AUTH_TOKEN_KEYS_DIR="$TMP/keys-$1")
  case $2 in
    warm-noreuse) env+=(PORTUNUS_AUTH_TOKEN_REUSE=false) ;;
    cold) env+=(PORTUNUS_AUTH_CREDENTIAL_CACHE_TTL=0s) ;;
  esac
  env "${env[@]}" "$BUILD/services/auth/portunus-auth" --migrate 2>>"$TMP/auth.log" &
  AUTH_PID=$!
  PIDS+=("$AUTH_PID")
  wait_ready "$AUTH_METRICS" "$AUTH_PID" auth
}

# The account: the first admin, created over gRPC (UserService.Bootstrap).
mkdir -p "$TMP/py"
protoc -I "$ROOT/proto" --python_out="$TMP/py" "$ROOT"/proto/portunus/auth/v1/*.proto \
  "$ROOT"/proto/portunus/common/v1/*.proto
start_auth "${ALGS%% *}" warm
PYTHONPATH=$TMP/py /usr/bin/python3 - "127.0.0.1:$AUTH_PORT" <<'PY'
import sys, grpc
from portunus.auth.v1 import identity_pb2 as pb
bootstrap = grpc.insecure_channel(sys.argv[1]).unary_unary(
    "/portunus.auth.v1.UserService/Bootstrap",
    request_serializer=pb.BootstrapRequest.SerializeToString,
    response_deserializer=pb.CreatedApplicationToken.FromString)
bootstrap(pb.BootstrapRequest(user=pb.BootstrapUser(
    username="bench", email="bench@example.com", password="bench-password-1")), timeout=30)
PY
stop_pid "$AUTH_PID"

AUTH_HEADER="Authorization: Basic $(printf 'bench:bench-password-1' | base64 -w0)"
URL="http://127.0.0.1:$GATEWAY_PORT/v2/token?service=registry.bench&scope=repository:bench/app:pull,push"

# run_wrk CONNECTIONS DURATION -> "req_per_s p50_ms p99_ms non2xx"
run_wrk() {
  local threads=2 out
  [ "$1" -ge 2 ] || threads=1
  out=$(wrk -t"$threads" -c"$1" -d"$2" --latency -H "$AUTH_HEADER" "$URL")
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }' <<<"$out"
}

# ---- openssl speed (single core) ------------------------------------------------------------
say "openssl speed -seconds 2 rsa2048 ecdsap256"
SPEED=$(openssl speed -seconds 2 rsa2048 ecdsap256 2>/dev/null)
RSA_SIGN=$(awk '/^rsa 2048 bits/ { print $(NF-1) }' <<<"$SPEED")
EC_SIGN=$(awk '/256 bits ecdsa \(nistp256\)/ { print $(NF-1) }' <<<"$SPEED")

# ---- load -------------------------------------------------------------------------------------
LINES=()
for alg in $ALGS; do
  for mode in $MODES; do
    start_auth "$alg" "$mode"
    code=$(curl -s -o "$TMP/token.json" -w '%{http_code}' -H "$AUTH_HEADER" "$URL" || true)
    [ "$code" = 200 ] || { cat "$TMP/token.json" >&2; tail -20 "$TMP/auth.log" >&2; die "token request answered $code"; }
    for c in $CONCURRENCY; do
      say "$alg $mode concurrency $c"
      run_wrk "$c" "$WARMUP" >/dev/null
      read -r rps p50 p99 bad <<<"$(run_wrk "$c" "$DURATION")"
      [ "$bad" = 0 ] || say "non-2xx responses: $bad"
      LINES+=("$(printf '  %-6s %-13s c=%-3s %8s tokens/s   p50 %7s ms   p99 %7s ms' "$alg" "$mode" "$c" "$rps" "$p50" "$p99")")
      if [ "$mode" = warm ] && [ "$c" = 32 ]; then
        if [ "$alg" = RS256 ]; then WARM_RS_RPS=$rps; WARM_RS_P99=$p99; fi
        if [ "$alg" = ES256 ]; then WARM_ES_RPS=$rps; WARM_ES_P99=$p99; fi
      fi
    done
    stop_pid "$AUTH_PID"
  done
done

# ---- report -----------------------------------------------------------------------------------
cat <<REPORT

GET /v2/token (Basic, scope repository:bench/app:pull,push) through portunus-gateway -> portunus-auth,
wrk -c1 -t1 / -c8 -t2 / -c32 -t2 -d$DURATION --latency (after a $WARMUP warm-up), $(nproc) cores shared with wrk
$(printf '%s\n' "${LINES[@]}")
openssl speed -seconds 2 (one core): RSA-2048 sign ${RSA_SIGN}/s, ECDSA P-256 sign ${EC_SIGN}/s
REPORT
if [ -n "${WARM_RS_RPS:-}" ] && [ -n "$RSA_SIGN" ]; then
  awk -v r="$WARM_RS_RPS" -v s="$RSA_SIGN" -v p="$WARM_RS_P99" 'BEGIN {
    printf "targets: warm RS256 c=32 %.2f x the RSA-2048 sign rate (target >= 1.0: %s), p99 %s ms (target <= 20: %s)\n",
      r / s, (r / s >= 1.0) ? "meets" : "MISSES", p, (p <= 20) ? "meets" : "MISSES" }'
fi
if [ -n "${WARM_ES_RPS:-}" ]; then
  awk -v r="$WARM_ES_RPS" -v p="$WARM_ES_P99" 'BEGIN {
    printf "targets: warm ES256 c=32 %d tokens/s (target >= 10000: %s), p99 %s ms (target <= 10: %s)\n",
      r, (r >= 10000) ? "meets" : "MISSES", p, (p <= 10) ? "meets" : "MISSES" }'
fi
