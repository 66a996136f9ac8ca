#!/usr/bin/env bash
# The cluster's throughput, from one run: the single-node service (SQLite
# log), then 1, 2 and 3 replicas on one PostgreSQL (`serve --journal`), each
# under the same wrk load (examples/serve/evaluate.lua, batches of BATCH
# transactions, one wrk per replica), with the journal round trip's p50 and
# p99 read from each replica's qorgan_journal_round_trip_seconds histogram.
# Transactions/s count decisions committed to the log (acknowledged), summed
# over the replicas.
#
#   examples/cluster/bench.sh
#   DURATION=30s CONNECTIONS=16 BATCH=100 examples/cluster/bench.sh
#   QORGAN_BIN=target/debug/qorgan examples/cluster/bench.sh
#
# Installs wrk and postgresql (Debian packages) if missing (needs root);
# PostgreSQL runs as the postgres user on a temporary directory and a free
# port, and is removed at the end.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-12}"
BATCH="${BATCH:-100}"
target="${CARGO_TARGET_DIR:-$root/target}"

need=()
command -v wrk >/dev/null || need+=(wrk)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"

if [ -n "${QORGAN_BIN:-}" ]; then
    bin="$QORGAN_BIN"
else
    cargo build -q -p qorgan-cli
    bin="$target/debug/qorgan"
fi

work="$(mktemp -d)"
chmod 755 "$work"
servers=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -f "$work/pg/data/postmaster.pid" ]; then
        as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The reference pack, built in a copy whose crate paths point at this tree.
cp -r examples/packs/kz-afm "$work/kz-afm"
sed -i "s#\"../../../plugins/#\"$root/plugins/#" "$work/kz-afm/pack.toml"
"$bin" pack build "$work/kz-afm" >/dev/null

# PostgreSQL on a free port.
mkdir -p "$work/pg"
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$work/pg"; fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_postgres "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null

# Starts `qorgan serve ARGS…` in the background; prints its address.
start() {
    local name="$1"; shift
    "$bin" serve --pack "$work/kz-afm" --state-dir "$work/state-$name" --listen 127.0.0.1:0 "$@" \
        >"$work/stdout-$name" 2>"$work/stderr-$name" &
    servers+=($!)
    local address=""
    for _ in $(seq 1 600); do
        address="$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$work/stdout-$name")"
        if [ -n "$address" ] && curl -fs "http://$address/readyz" >/dev/null; then break; fi
        sleep 0.1
    done
    echo "$address"
}
stop_all() {
    for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
    servers=()
}
decisions() { curl -fs "http://$1/metrics" | awk '/^qorgan_log_decisions_total/ {print $2}'; }
seconds() { echo "${DURATION%s}"; }

# Drives the addresses given at once, one wrk each; prints transactions/s
# (decisions committed) and, for replicas, the round trip's p50 and p99.
drive() {
    local key="$1" label="$2"; shift 2
    local before=() i=0 pids=()
    for a in "$@"; do before+=("$(decisions "$a")"); done
    local per=$(( CONNECTIONS / $# )); [ "$per" -ge 1 ] || per=1
    for a in "$@"; do
        PREFIX="$key-$i-" BATCH="$BATCH" wrk -t1 -c"$per" -d"$DURATION" -s examples/serve/evaluate.lua \
            "http://$a/v1/evaluate/batch" >"$work/wrk-$key-$i" &
        pids+=($!)
        i=$((i + 1))
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    local total=0 j=0
    for a in "$@"; do
        total=$(( total + $(decisions "$a") - ${before[$j]} ))
        j=$((j + 1))
    done
    local trips=""
    local first; first="$(curl -fs "http://$1/metrics")"
    if grep -q '^qorgan_journal_round_trip_seconds_count' <<<"$first"; then
        trips="$(for a in "$@"; do curl -fs "http://$a/metrics"; done | python3 -c '
import sys, collections
buckets = collections.defaultdict(float)
for line in sys.stdin:
    if line.startswith("qorgan_journal_round_trip_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets[float("inf") if le == "+Inf" else float(le)] += float(line.split()[-1])
bounds = sorted(buckets)
total = buckets[bounds[-1]]
def q(p):
    rank, prev_b, prev_c = p * total, 0.0, 0.0
    for b in bounds:
        c = buckets[b]
        if c >= rank:
            if b == float("inf"): return prev_b
            return prev_b + (b - prev_b) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 1)
        prev_b, prev_c = b, c
    return prev_b
print("%.2f ms | %.2f ms | %d" % (q(0.5) * 1000, q(0.99) * 1000, total))
')"
    fi
    printf '| %s | %d | %s |\n' "$label" "$(( total / $(seconds) ))" "${trips:-– | – | –}"
}

echo "qorgan $("$bin" --version 2>/dev/null | head -n 1) on $(nproc) cores; PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'); wrk -c$CONNECTIONS -d$DURATION, batches of $BATCH"
echo
echo "| setup | tx/s | round trip p50 | round trip p99 | round trips |"
echo "|---|---|---|---|---|"
a="$(start single)"
drive single "single node (SQLite)" "$a"
stop_all
for n in 1 2 3; do
    db="cluster$n"
    as_postgres "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $db" >/dev/null
    url="postgres://postgres@127.0.0.1:$port/$db"
    addresses=()
    for r in $(seq 1 "$n"); do addresses+=("$(start "c$n-r$r" --journal "$url" --replica "r$r")"); done
    drive "c$n" "$n replica$([ "$n" = 1 ] || echo s) (PostgreSQL)" "${addresses[@]}"
    stop_all
    "$bin" audit verify --log "$url" >"$work/verify-$n" 2>&1 || { cat "$work/verify-$n"; exit 1; }
done
