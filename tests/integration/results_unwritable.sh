#!/bin/bash
# Inside the test bed (root, so folder permissions mean nothing: a read-only mount and a
# full one are what stop a write): results that cannot be written.
#  1. --results on a read-only tmpfs: exit 125 before anything starts, one line on
#     stderr naming the folder and the reason, no server started.
#  2. --results on a 1 MiB tmpfs, filled up once the first of two cases is recorded: the
#     second case's first failed write ends the run: exit 125, exactly one line on stderr
#     naming the file and "No space left on device", summary.json still whole and holding
#     the first case only, no temporary or half-written file of ours left, no server left.
# Usage: results_unwritable.sh HARNESS SCENARIO (two TCP cases, the second a long one)
set -u
harness=$1
scenario=$2
mounts=$(mktemp -d)
harness_pid=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    [ -n "$harness_pid" ] && kill -KILL "$harness_pid" 2>/dev/null
    umount "$mounts/ro" "$mounts/small" 2>/dev/null
    rm -rf "$mounts"
}
trap cleanup EXIT
# shellcheck source=tests/integration/check_lib.sh
. "$(dirname "$0")/check_lib.sh"
no_server_left() {
    if pgrep -x valkey-server > /dev/null; then
        fail "$1: a valkey-server is still running"
        pkill -KILL -x valkey-server
    fi
}

# 1. Read-only.
mkdir -p "$mounts/ro" "$mounts/small"
mount -t tmpfs -o size=1m,ro tmpfs "$mounts/ro" || exit 125
"$harness" inside run --results "$mounts/ro/results" "$scenario" > "$mounts/ro.out" 2> "$mounts/ro.err"
status=$?
lines=$(grep -c . "$mounts/ro.err")
if [ "$status" -eq 125 ] && [ "$lines" -eq 1 ] &&
    grep -qF "$mounts/ro/results: cannot create the results folder: Read-only file system" "$mounts/ro.err"; then
    echo "ok: read-only results: exit 125: $(cat "$mounts/ro.err")"
else
    fail "read-only results: exit $status, $lines line(s) on stderr: $(cat "$mounts/ro.err")"
fi
no_server_left "read-only results"

# 2. Disk full between the first case and the second.
mount -t tmpfs -o size=1m tmpfs "$mounts/small" || exit 125
"$harness" inside run --results "$mounts/small" "$scenario" > "$mounts/full.out" 2> "$mounts/full.err" &
harness_pid=$!
summary="$mounts/small/latest/summary.json"
recorded=0
for _ in $(seq 1 1200); do
    recorded=$(jq '.cases | length' "$summary" 2>/dev/null || echo 0)
    [ "$recorded" -ge 1 ] && break
    kill -0 "$harness_pid" 2>/dev/null || break
    sleep 0.1
done
if [ "$recorded" != 1 ]; then
    fail "not exactly the first case recorded ($recorded): $(cat "$mounts/full.out" "$mounts/full.err")"
    exit 1
fi
first_case=$(jq -r '.cases[0].name' "$summary")
dd if=/dev/zero of="$mounts/small/filler" bs=64k > /dev/null 2>&1
echo "disk filled after '$first_case': $(df -k "$mounts/small" | tail -1)"
status=
for _ in $(seq 1 900); do
    if ! kill -0 "$harness_pid" 2>/dev/null; then
        wait "$harness_pid"
        status=$?
        harness_pid=
        break
    fi
    sleep 0.1
done
cat "$mounts/full.out"
if [ -z "$status" ]; then
    fail "the harness still ran 90 s after the disk filled up"
    exit 1
fi
run_folder=$(readlink -f "$mounts/small/latest")
lines=$(grep -c . "$mounts/full.err")
if [ "$status" -eq 125 ] && [ "$lines" -eq 1 ] &&
    grep -qE "^run.sh: $run_folder/[a-z._-]+: cannot write: No space left on device$" "$mounts/full.err"; then
    echo "ok: disk full: exit 125: $(cat "$mounts/full.err")"
else
    fail "disk full: exit $status, $lines line(s) on stderr: $(cat "$mounts/full.err")"
fi
if jq -e --arg name "$first_case" '(.cases | length) == 1 and .cases[0].name == $name' \
    "$run_folder/summary.json" > /dev/null 2>&1; then
    echo "ok: summary.json parses and holds the first case only"
else
    fail "summary.json is not the first case's: $(head -c 300 "$run_folder/summary.json")"
fi
leftovers=$(find "$run_folder" -name '.*' -o -name '*.tmp' | grep -v "^$run_folder$")
[ -z "$leftovers" ] || fail "files left behind: $leftovers"
no_server_left "disk full"
[ "$failures" -eq 0 ] && echo "PASS: unwritable results end the run cleanly with one line and exit 125"
exit $((failures > 0))
