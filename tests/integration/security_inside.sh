#!/bin/bash
# Inside the test bed: the README's security promises, checked on a real server.
# 1. A server the harness starts listens on TCP only at 127.0.0.1 and on RDMA only at the
#    test bed's own address, never on a wildcard or a routable address.
# 2. Scenario strings full of shell syntax are data: a run of security.yaml (and drawing
#    its report) creates none of the marker files its strings would create in a shell.
# Usage: security_inside.sh BUILD_DIR SCENARIO
set -u
build=$(cd "$1" && pwd)
scenario=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
harness=$build/harness/valkey-rdma-harness
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/server_lib.sh
. "$here/server_lib.sh"
scratch=$(mktemp -d)
trap 'server_stop; rm -rf "$scratch"' EXIT
# shellcheck source=tests/integration/check_lib.sh
. "$(dirname "$0")/check_lib.sh"

server_start 2 || exit 125
tcp=$(ss -Hltn "( sport = :$server_port )" | awk '{print $4}' | sort -u)
if [ -z "$tcp" ]; then
    fail "no TCP listener on port $server_port"
elif [ "$tcp" != "127.0.0.1:$server_port" ]; then
    fail "TCP listeners on port $server_port: $(echo "$tcp" | tr '\n' ' ')(only 127.0.0.1 allowed)"
else
    echo "ok: TCP listens only at $tcp"
fi
# rdma(8) lists the RDMA CM ids; the server's listening ones must all be bound to the
# test bed's address.
rdma_listen=$(rdma resource show cm_id 2>&1 | grep -w LISTEN | grep -w "pid $server_process")
rdma_sources=$(grep -oE 'src-addr [^ ]+' <<<"$rdma_listen" | awk '{print $2}' | sort -u)
if [ -z "$rdma_sources" ]; then
    fail "no RDMA listener of the server (pid $server_process): $(rdma resource show cm_id 2>&1 | head -5)"
elif [ "$rdma_sources" != "$TESTBED_ADDRESS:$server_port" ]; then
    fail "RDMA listeners at $(echo "$rdma_sources" | tr '\n' ' ')(only $TESTBED_ADDRESS allowed)"
else
    echo "ok: RDMA listens only at $rdma_sources"
fi
server_stop

# The run starts from the scratch folder, so a relative marker would land there; the
# server's own working folder is inside the results; look in both and in /tmp.
results="$scratch/results"
(cd "$scratch" && "$harness" inside run --results "$results" "$scenario") > "$scratch/run.out" 2>&1
status=$?
(cd "$scratch" && "$harness" report "$results"/*/) >> "$scratch/run.out" 2>&1
markers=$(find "$scratch" /tmp -maxdepth 4 -name 'marker-*' 2>/dev/null)
if [ -n "$markers" ]; then
    fail "a scenario string was run as a command: $markers"
fi
# The run itself must have happened (a run that never started proves nothing): its
# summary holds the description as text.
summary=$(ls "$results"/*/summary.json 2>/dev/null | head -1)
if [ -z "$summary" ] || ! grep -qF 'touch marker-backquote' "$summary"; then
    fail "no summary.json with the description (exit $status): $(tail -3 "$scratch/run.out")"
else
    echo "ok: the run (exit $status) kept every shell string as text, no marker file"
fi
[ "$failures" -eq 0 ] && echo "PASS: listeners bound to the test bed only; no string reached a shell"
exit $((failures > 0))
