# Shared by bench/http.sh and bench/memory.sh: building the example programs, starting one on a
# loopback port, and a signed 1 KiB delivery. Sourced, not run.

# The secret every server is started with; nothing leaves 127.0.0.1.
BENCH_SECRET=${BENCH_SECRET:-bench-secret}

# Servers started by start_server, stopped on exit.
SERVER_PIDS=()

stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SERVER_PIDS=()
}

# build_examples NAME...: builds the examples in release, quietly.
build_examples() {
    local args=() name
    for name in "$@"; do
        args+=(--example "$name")
    done
    cargo build --release --quiet "${args[@]}"
}

# start_server EXAMPLE [ARG...]: starts target/release/examples/EXAMPLE on a free loopback
# port; sets SERVER_PID, and SERVER_ADDR (host:port from its `listening on http://ADDR` line).
start_server() {
    local example=$1
    shift
    local out
    out=$(mktemp)
    FLOWTRIQ_WEBHOOK_SECRET=$BENCH_SECRET FLOWTRIQ_LISTEN=127.0.0.1:0 RUST_LOG=${RUST_LOG:-info} \
        "target/release/examples/$example" "$@" >"$out" 2>/dev/null &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    local line="" tries=0
    while [[ -z $line ]]; do
        line=$(grep -m1 '^listening on http://' "$out" || true)
        if [[ -z $line ]]; then
            if ((++tries > 200)) || ! kill -0 "$SERVER_PID" 2>/dev/null; then
                echo "$example did not print 'listening on http://ADDR'" >&2
                exit 1
            fi
            sleep 0.1
        fi
    done
    rm -f "$out"
    SERVER_ADDR=${line#listening on http://}
}

# make_delivery FILE: writes a valid 1 KiB attack_start event to FILE (the shape of the
# in-process benchmarks' body) and prints its X-Flowtriq-Signature value.
make_delivery() {
    local file=$1
    local head='{"event_type":"attack_start","timestamp":"2025-03-10T14:22:00Z","incident":{"id":147,"uuid":"d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70","title":"UDP Flood on web-prod-1","attack_family":"udp_flood","severity":"critical","peak_pps":2450000,"peak_bps":1547000000,"source_ip_count":8429,"started_at":"2025-03-10T14:22:00Z","ai_summary":"A large 1.4 Gbps UDP flood from 8,429 source IPs...","dashboard_url":"https://flowtriq.com/dashboard/incident?id=147"},"node":{"id":1,"name":"web-prod-1","ip_address":"203.0.113.10"},"pad":"'
    local tail='"}'
    local pad=$((1024 - ${#head} - ${#tail}))
    {
        printf '%s' "$head"
        head -c "$pad" /dev/zero | tr '\0' x
        printf '%s' "$tail"
    } >"$file"
    printf 'sha256=%s\n' "$(openssl dgst -sha256 -hmac "$BENCH_SECRET" -r "$file" | cut -d' ' -f1)"
}

# vm_hwm PID: the process's peak resident set in KiB.
vm_hwm() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
