#!/bin/bash
# fuzz.sh [TARGET] [SECONDS]: builds the libFuzzer targets (clang, ASan, UBSan) in
# build/fuzz and runs TARGET (default: all of them, one after another) for SECONDS each
# (default 60).
#
# Each target starts from its seeds in tests/fuzz/corpus/<target>/ and the inputs that
# once crashed it (tests/fuzz/regressions/<target>/), copied into a scratch corpus under
# build/fuzz/corpus/ that grows from run to run without bloating the repository.
# A crashing, leaking or hanging input is written to results/fuzz/<target>/.
#
# Exit status: 0 when no target crashed, 1 when one did, 2 for bad arguments,
# 125 when the fuzzers cannot be built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
targets=(resp rdma_wire rdma_peer scenario)
default_seconds=60
# One input taking longer than this is a hang, reported like a crash.
input_timeout_seconds=10
# A run whose memory grows past this is reported as a leak or an allocation bug.
rss_limit_mb=2048

usage() {
    local IFS='|'
    echo "usage: fuzz.sh [all|${targets[*]}] [SECONDS]" >&2
    exit 2
}

chosen=all
seconds=$default_seconds
if [[ $# -gt 2 ]]; then
    usage
fi
if [[ $# -ge 1 ]]; then
    chosen=$1
fi
if [[ $# -ge 2 ]]; then
    seconds=$2
fi
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: SECONDS must be a positive whole number, not \"$seconds\"" >&2
    exit 2
fi
if [[ $chosen == all ]]; then
    run_targets=("${targets[@]}")
else
    run_targets=()
    for target in "${targets[@]}"; do
        if [[ $target == "$chosen" ]]; then
            run_targets=("$target")
        fi
    done
    if [[ ${#run_targets[@]} -eq 0 ]]; then
        echo "fuzz.sh: unknown target \"$chosen\"; the targets are: ${targets[*]}" >&2
        exit 2
    fi
fi

if ! command -v clang > /dev/null; then
    echo "fuzz.sh: clang is not installed; libFuzzer needs it" >&2
    exit 125
fi

build_dir=$root/build/fuzz
mkdir -p "$build_dir"
log=$build_dir/build.log
# Unit tests stay in the gcc build; this one holds only the instrumented fuzzers.
if ! { CC=clang cmake -S "$root" -B "$build_dir" -DWITH_FUZZERS=ON -DWITH_TESTS=OFF \
    --log-level=WARNING && cmake --build "$build_dir" -j 2; } > "$log" 2>&1; then
    echo "fuzz.sh: building the fuzzers failed; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 125
fi

# Targets that crashed, leaked, hung or could not start.
crashed=()
for target in "${run_targets[@]}"; do
    binary=$build_dir/tests/fuzz/fuzz_$target
    corpus=$build_dir/corpus/$target
    artifacts=$root/results/fuzz/$target
    mkdir -p "$corpus" "$artifacts"
    # -n: keep what earlier runs found; add seeds and regressions that are new.
    cp -n "$root/tests/fuzz/corpus/$target/"* "$corpus/"
    if [[ -d $root/tests/fuzz/regressions/$target ]]; then
        cp -n "$root/tests/fuzz/regressions/$target/"* "$corpus/" 2> /dev/null || true
    fi
    options=(-max_total_time="$seconds" -timeout="$input_timeout_seconds"
        -rss_limit_mb="$rss_limit_mb" -artifact_prefix="$artifacts/" -print_final_stats=1)
    dictionary=$root/tests/fuzz/$target.dict
    if [[ -f $dictionary ]]; then
        options+=(-dict="$dictionary")
    fi
    run_log=$artifacts/last-run.log
    echo "fuzz.sh: $target for ${seconds} s (log: $run_log)"
    status=0
    nice -n 19 "$binary" "${options[@]}" "$corpus" > "$run_log" 2>&1 || status=$?
    # The last status line: "#N DONE cov: C ft: F corp: ..." (or the line before a crash).
    last=$(grep -E '^#[0-9]+' "$run_log" | tail -n 1 || true)
    executions=$(grep -E '^stat::number_of_executed_units:' "$run_log" | awk '{print $2}' || true)
    echo "fuzz.sh: $target: ${executions:-?} executions; ${last:-no status line}"
    if [[ $status -ne 0 ]]; then
        crashed+=("$target")
        echo "fuzz.sh: $target FAILED (exit $status):" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$run_log" >&2 || true
    fi
done

if [[ ${#crashed[@]} -gt 0 ]]; then
    echo "fuzz.sh: failed: ${crashed[*]}; crashing inputs and logs are in $root/results/fuzz/" >&2
    exit 1
fi
echo "fuzz.sh: no crashes"
