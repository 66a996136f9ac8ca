#!/usr/bin/env bash
# Drives `qorgan serve` with wrk: /v1/evaluate (one transaction a request)
# and /v1/evaluate/batch (BATCH transactions a request), printing requests/s,
# transactions/s and latency p50/p90/p99 for each, then the decision log's
# group commits.
#
#   examples/serve/wrk.sh                      # dev profile (dependencies at opt-level 3)
#   PROFILE=release examples/serve/wrk.sh      # release profile (LTO; a long build)
#   PROFILE=profiling examples/serve/wrk.sh    # the profile of docs/performance.md
#   SERVER_CPUS=0 examples/serve/wrk.sh        # serve pinned to core 0 (taskset); wrk is not
#   QORGAN_BIN=target/debug/qorgan examples/serve/wrk.sh   # a binary already built
#   DURATION=30s CONNECTIONS=32 BATCH=100 examples/serve/wrk.sh
#
# Installs wrk (Debian package) if it is missing (needs root). Works on a
# copy of the reference pack in a temporary directory: the source tree is
# not changed.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
PROFILE="${PROFILE:-dev}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
BATCH="${BATCH:-100}"
SERVER_CPUS="${SERVER_CPUS:-}"
target="${CARGO_TARGET_DIR:-$root/target}"

if ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

if [ -n "${QORGAN_BIN:-}" ]; then
    bin="$QORGAN_BIN"
elif [ "$PROFILE" = release ] || [ "$PROFILE" = profiling ]; then
    cargo build -q --profile "$PROFILE" -p qorgan-cli
    bin="$target/$PROFILE/qorgan"
else
    cargo build -q -p qorgan-cli
    bin="$target/debug/qorgan"
fi

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The reference pack, built in a copy whose crate paths point at this tree.
cp -r examples/packs/kz-afm "$work/kz-afm"
sed -i "s#\"../../../plugins/#\"$root/plugins/#" "$work/kz-afm/pack.toml"
"$bin" pack build "$work/kz-afm" >/dev/null

pin=()
if [ -n "$SERVER_CPUS" ]; then pin=(taskset -c "$SERVER_CPUS"); fi
"${pin[@]}" "$bin" serve --pack "$work/kz-afm" --state-dir "$work/state" --listen 127.0.0.1:0 \
    >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 1 600); do
    address="$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$work/stdout")"
    if [ -n "$address" ] && curl -fs "http://$address/readyz" >/dev/null; then break; fi
    sleep 0.1
done
echo "qorgan serve ($PROFILE profile) on $address, cores ${SERVER_CPUS:-all}; wrk -t$THREADS -c$CONNECTIONS -d$DURATION; $(nproc) cores"

# Decisions and commits of the log so far: "decisions commits".
log_counts() {
    curl -fs "http://$address/metrics" |
        awk '/^qorgan_log_decisions_total/ {d=$2} /^qorgan_log_commits_total/ {c=$2} END {print d, c}'
}
# The mean group commit since the counts in $1 $2.
group_since() {
    read -r d c < <(log_counts)
    awk -v d="$((d - $1))" -v c="$((c - $2))" \
        'BEGIN {printf "log: %d decisions in %d commits, %.1f decisions a commit\n", d, c, (c ? d / c : 0)}'
}

echo "== POST /v1/evaluate (1 transaction a request)"
read -r d0 c0 < <(log_counts)
BATCH=1 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s examples/serve/evaluate.lua \
    "http://$address/v1/evaluate" | grep RESULT
group_since "$d0" "$c0"
echo "== POST /v1/evaluate/batch ($BATCH transactions a request)"
read -r d0 c0 < <(log_counts)
BATCH="$BATCH" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s examples/serve/evaluate.lua \
    "http://$address/v1/evaluate/batch" | grep RESULT
group_since "$d0" "$c0"
curl -fs "http://$address/metrics" | grep -E '^qorgan_log_largest_group' || true
kill -TERM "$server"
wait "$server"
server=""
tail -n 1 "$work/stderr"
"$bin" audit verify --log "$work/state/decisions.sqlite"
