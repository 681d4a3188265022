#!/bin/bash
# Inside the test bed: the main job's smoke check against the server under test: it
# starts with RDMA and io-threads 4 and answers PING over RDMA (valkey-cli --rdma) and TCP.
set -u
harness=$1
output=$("$harness" inside smoke 2>&1)
status=$?
echo "$output"
if [ "$status" -ne 0 ]; then
    echo "FAIL: the smoke job exited $status"
    exit 1
fi
grep -q 'PING over RDMA:  PONG' <<<"$output" || { echo "FAIL: no PONG over RDMA"; exit 1; }
grep -q 'PING over TCP:   PONG' <<<"$output" || { echo "FAIL: no PONG over TCP"; exit 1; }
echo "PASS: the server under test answered over RDMA and TCP"
