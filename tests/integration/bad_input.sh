#!/bin/bash
# Host side: bad input is refused with one line and the documented exit code, and no
# broken cache entry is left behind.
set -u
root=$1
failures=0
expect() { # EXPECTED_CODE EXPECTED_TEXT ARGS...
    local code=$1 text=$2
    shift 2
    local output status
    output=$("$root/run.sh" "$@" 2>&1)
    status=$?
    local lines
    lines=$(printf '%s\n' "$output" | grep -c .)
    if [ "$status" -ne "$code" ] || ! grep -qF -- "$text" <<<"$output" || [ "$lines" -ne 1 ]; then
        echo "FAIL: run.sh $* gave exit $status and $lines line(s): $output"
        echo "      expected exit $code and one line with: $text"
        failures=$((failures + 1))
    else
        echo "ok: run.sh $* -> $code: $output"
    fi
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '#!/bin/sh\necho "Redis server v=7.2.4 sha=0"\n' > "$scratch/redis-server"
chmod +x "$scratch/redis-server"
printf '#!/bin/sh\necho "Valkey server v=9.1.2 sha=0"\n' > "$scratch/valkey-server"
chmod +x "$scratch/valkey-server"
mkdir -p "$scratch/not-valkey"
expect 2 'unknown command "frobnicate"' frobnicate
expect 2 'unknown option "--frob"' --frob
expect 2 '--testbed must be native, vm or auto' --testbed cloud
expect 2 "--server $scratch/missing: no such file" --server "$scratch/missing"
expect 2 'not a Valkey server' --server "$scratch/redis-server"
expect 2 "--rdma-module $scratch/none.so: no such file" --server "$scratch/valkey-server" --rdma-module "$scratch/none.so"
expect 2 'is not a Valkey source tree' --cache "$scratch/cache" --valkey-src "$scratch/not-valkey"
# A bad scenario: file:line:col, exit 2, nothing run (no test bed is brought up).
expect 2 "tests/data/scenarios/bad/duplicate-key.yaml:4:3: duplicate key 'connections' in client" \
    run "$root/tests/data/scenarios/bad/duplicate-key.yaml"
expect 2 '--case nope: no such case in the given scenarios' run --case nope "$root/scenarios/busy-loop.yaml"
expect 2 'run needs at least one scenario file' run
# --results: a folder that cannot be made is the environment's fault; one the VM cannot
# share (its path goes on the kernel command line) is a usage error. Nothing is run.
expect 125 "--results $scratch/redis-server/results: cannot create the results folder: Not a directory" \
    run --results "$scratch/redis-server/results" "$root/scenarios/busy-loop.yaml"
expect 2 'the test bed cannot share a path holding a space' \
    run --results "$scratch/two words" "$root/scenarios/busy-loop.yaml"
# A test bed that cannot come up is an environment error. Only where native RDMA is
# impossible (no device, no rdma_rxe), as on this project's CI host.
if [ ! -d /sys/class/infiniband ] && ! modprobe --dry-run --quiet rdma_rxe 2>/dev/null; then
    expect 125 '--testbed native: no RDMA device here' exec --testbed native -- true
else
    echo "note: native RDMA is possible here; the refused-test-bed check does not apply"
fi
# A source tree that fails to build: an environment error, and no trusted build left.
mkdir -p "$scratch/broken/src"
echo '#error this tree is broken on purpose' > "$scratch/broken/src/server.h"
printf 'all:\n\t@echo broken on purpose >&2; exit 1\n' > "$scratch/broken/Makefile"
# It uses the normal cache (the default build is there already); its entry is keyed by
# the tree's path, as harness/provision/valkey.sh does, and removed afterwards.
cache=${VALKEY_RDMA_HARNESS_CACHE:-$HOME/.cache/valkey-rdma-harness}
entry="$cache/valkey-src/$(printf '%s' "$scratch/broken" | sha256sum | cut -c1-16)"
output=$("$root/run.sh" --valkey-src "$scratch/broken" 2>&1)
status=$?
if [ "$status" -ne 125 ] || ! grep -q 'provisioning Valkey failed' <<<"$output"; then
    echo "FAIL: a failing --valkey-src build gave exit $status: $output"
    failures=$((failures + 1))
elif [ -e "$entry/build/complete" ]; then
    echo "FAIL: a failed build left a cache entry marked complete"
    failures=$((failures + 1))
else
    echo "ok: a failing --valkey-src build -> 125, no complete cache entry"
fi
rm -rf "$entry"
[ "$failures" -eq 0 ] && echo "PASS: every bad input refused as documented"
exit $((failures > 0))
