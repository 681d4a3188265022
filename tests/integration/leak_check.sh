#!/bin/bash
# Inside the test bed: LeakSanitizer is on for the sanitizer build, and a full scenario run
# by that build's harness leaks nothing.
#  1. The harness under test carries AddressSanitizer (and with it LeakSanitizer).
#  2. lsan_canary, built the same way, leaks 4242 bytes on purpose: LeakSanitizer must
#     report them and fail it here, in the test bed, with the options the tests run with.
#  3. The harness runs a real RDMA scenario (leak-check.yaml); it must pass with no report
#     from any sanitizer. A leak anywhere on that path makes it exit non-zero.
# Usage: leak_check.sh HARNESS LSAN_CANARY SCENARIO
set -u
harness=$1 canary=$2 scenario=$3
# Leak checking is the default of ASan on Linux; say so explicitly, keeping what the
# caller set, so that an inherited detect_leaks=0 cannot turn this test into a no-op.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# shellcheck source=tests/integration/check_lib.sh
. "$(dirname "$0")/check_lib.sh"

if ASAN_OPTIONS=$ASAN_OPTIONS:help=1 "$harness" --help 2>&1 | grep -q 'Available flags for AddressSanitizer'; then
    echo "ok: $harness is built with AddressSanitizer"
else
    fail "$harness is not built with AddressSanitizer: nothing here checks it for leaks"
fi

"$canary" > "$scratch/canary.out" 2>&1
status=$?
if [ "$status" -ne 0 ] && grep -q 'ERROR: LeakSanitizer: detected memory leaks' "$scratch/canary.out" &&
    grep -q '4242 byte(s) leaked in 1 allocation(s)' "$scratch/canary.out"; then
    echo "ok: a planted leak of 4242 bytes is reported by LeakSanitizer here (exit $status)"
else
    fail "LeakSanitizer did not catch the canary's planted leak (exit $status):"
    cat "$scratch/canary.out"
fi

started=$(date +%s%N)
"$harness" inside run "$scenario" > "$scratch/run.out" 2>&1
status=$?
took_ms=$((($(date +%s%N) - started) / 1000000))
if [ "$status" -ne 0 ] || grep -q 'Sanitizer' "$scratch/run.out"; then
    fail "the harness's run of $scenario exited $status after ${took_ms} ms:"
    cat "$scratch/run.out"
else
    echo "ok: the sanitizer build ran $scenario (PASS) in ${took_ms} ms with no leak and no report"
    grep -E '^(results|leak-check)' "$scratch/run.out" | head -3
fi
[ "$failures" -eq 0 ] && echo "PASS: LeakSanitizer is on in the test bed and the scenario run leaked nothing" && exit 0
exit 1
