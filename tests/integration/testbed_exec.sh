#!/bin/bash
# Host side: ./run.sh exec brings a test bed up with an RDMA device, returns the
# command's exit status, and lets the command write under results/. One boot checks all
# three, so the test costs one VM start.
set -u
root=$1
probe="$root/results/.testbed-exec-probe.$$"
rm -f "$probe"
"$root/run.sh" exec -- bash -c '
    ibv_devices | grep -q "rxe\|mlx\|irdma\|bnxt" || { echo "no RDMA device listed" >&2; exit 3; }
    [ "$(ulimit -l)" = unlimited ] || { echo "memlock is $(ulimit -l)" >&2; exit 4; }
    [ -n "$TESTBED_ADDRESS" ] || { echo "TESTBED_ADDRESS unset" >&2; exit 5; }
    echo "written inside" > "$1"
    exit 7' exec-probe "$probe"
status=$?
if [ "$status" -ne 7 ]; then
    echo "FAIL: exec returned $status, expected the command's own 7"
    exit 1
fi
if [ "$(cat "$probe" 2>/dev/null)" != "written inside" ]; then
    echo "FAIL: the file written inside the test bed is not on the host"
    exit 1
fi
rm -f "$probe"
echo "PASS: exec ran in the test bed, returned 7 and left the file on the host"
