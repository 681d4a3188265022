# Shared by the integration scripts that start a server of their own inside the test bed.
# It starts the server under test ($VALKEY_SERVER, $VALKEY_RDMA_MODULE) the way its
# version wants, through the harness (`inside serve`), never through a shell string.
server_port=6379
server_pid=
server_dir=

host_for() { # TRANSPORT
    if [ "$1" = rdma ]; then echo "$TESTBED_ADDRESS"; else echo 127.0.0.1; fi
}

server_start() { # IO_THREADS [active|lazy]
    server_dir=$(mktemp -d)
    # inside serve IO_THREADS PORT DIR [active|lazy]: starts it (IO threads forced active
    # unless lazy), prints "ready pid=N", holds it until SIGTERM, then stops and reaps it.
    "$build/harness/valkey-rdma-harness" inside serve "$1" "$server_port" "$server_dir" ${2:+"$2"} \
        > "$server_dir/serve.out" 2>&1 &
    server_pid=$!
    local waited=0
    until grep -q '^ready' "$server_dir/serve.out" 2>/dev/null; do
        if ! kill -0 "$server_pid" 2>/dev/null || [ "$waited" -ge 600 ]; then
            echo "cannot start the server under test:"
            cat "$server_dir/serve.out"
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    server_process=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$server_dir/serve.out")
}

server_stop() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null
        local waited=0
        while kill -0 "$server_pid" 2>/dev/null && [ "$waited" -lt 150 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
    fi
    [ -n "$server_dir" ] && rm -rf "$server_dir"
}
