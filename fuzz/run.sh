#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60), one after the other, and
# prints for each the executions libFuzzer counted and whether it crashed.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# cargo-fuzz needs a nightly compiler; on a stable toolchain this script
# sets RUSTC_BOOTSTRAP=1. Targets are built without a sanitizer (`-s none`):
# the library forbids unsafe code, and the build of wasmtime with ASan is
# several times slower. New corpus entries go to $FUZZ_WORK (default
# target/fuzz-work under this directory), so the committed seeds in
# corpus/<target>/ stay small. The full log of each run is kept there too.
set -u
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(transaction_json pack_manifest archive_extract signature_verify)
fi
work="${FUZZ_WORK:-$PWD/target/fuzz-work}"
export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
    nice -n 10 cargo fuzz build -s none "$target" || exit 2
done
status=0
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus/$target"
    log="$work/$target.log"
    nice -n 10 cargo fuzz run -s none "$target" "$work/corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
    code=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [ "$code" -eq 0 ]; then
        verdict="no crash"
    else
        verdict="CRASHED (exit $code; see $log and artifacts/$target)"
        status=1
    fi
    printf '%-18s %6ss  %12s executions  %s\n' "$target" "$seconds" "${execs:-?}" "$verdict"
done
exit "$status"
