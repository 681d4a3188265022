#!/bin/bash
# The single entry point: provisions what this machine lacks (Debian packages), builds
# the harness, and hands every command to it. ./run.sh --help lists the commands.
# All logic that needs tests lives in the harness (C); this file only gets it running.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export VALKEY_RDMA_HARNESS_ROOT=$root

"$root/harness/provision/packages.sh"

build_dir=$root/build/main
mkdir -p "$build_dir"
log=$build_dir/build.log
if ! { cmake -S "$root" -B "$build_dir" -DWITH_TESTS=OFF --log-level=WARNING &&
    cmake --build "$build_dir" -j "$(nproc)"; } > "$log" 2>&1; then
    echo "run.sh: building the harness failed; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 125
fi
exec "$build_dir/harness/valkey-rdma-harness" "$@"
