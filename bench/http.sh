#!/usr/bin/env bash
# A signed 1 KiB delivery over real HTTP on 127.0.0.1, for each framework: our adapter's route
# beside an unverified route in the same process (examples/bench_server.rs), then the receiver
# example as shipped. Prints requests/s and latency percentiles side by side with the ratio.
#
#   bench/http.sh                  # 3 rounds of 5 s per route, 32 connections, wrk 1 thread
#   ROUNDS=1 DURATION=5 CONNECTIONS=64 bench/http.sh
#
# The two routes of a server are driven in alternation, ROUNDS times each, so that a change of
# the machine's load during the run weighs on both alike; req/s is the mean over the rounds,
# p50 and p99 the median of the rounds'. Load is bounded: every run lasts DURATION seconds,
# loopback only. Uses wrk (Debian) or, when
# wrk cannot be installed, oha (crates.io).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
FRAMEWORKS=${FRAMEWORKS:-axum actix warp}
# The log filters bench_server runs with: the receivers' default, the same with our delivery
# span switched on (a DEBUG span, whose fields the fmt subscriber formats on every delivery),
# and none.
LOGS=${LOGS:-info info,flowtriq_webhook=debug off}

# The load generator: wrk, installed from Debian when missing; oha from crates.io otherwise.
if command -v wrk >/dev/null; then
    TOOL=wrk
elif command -v apt-get >/dev/null && { apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; }; }; then
    TOOL=wrk
elif command -v oha >/dev/null || cargo install oha --locked --quiet; then
    TOOL=oha
else
    echo "neither wrk nor oha could be installed" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'stop_servers; rm -rf "$work"' EXIT
SIGNATURE=$(make_delivery "$work/body.json")
export BODY_FILE="$work/body.json" SIGNATURE
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Flowtriq-Signature"] = os.getenv("SIGNATURE")
LUA

# A duration as wrk or oha prints it, in microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /m$/) print n * 60e6; else print n * 1e6 }'
}

# load URL SECONDS: drives URL; prints "req/s p50_us p99_us". Fails on any non-2xx answer.
load() {
    local url=$1 seconds=$2 out
    if [[ $TOOL == wrk ]]; then
        out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --latency -s "$work/post.lua" "$url")
        if grep -q 'Non-2xx' <<<"$out" || grep -q 'Socket errors' <<<"$out"; then
            echo "errors while loading $url:" >&2
            echo "$out" >&2
            exit 1
        fi
        local rps p50 p99
        rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        echo "$rps $(to_us "$p50") $(to_us "$p99")"
    else
        out=$(oha --no-tui -z "${seconds}s" -c "$CONNECTIONS" -m POST \
            -H "Content-Type: application/json" -H "X-Flowtriq-Signature: $SIGNATURE" \
            -D "$BODY_FILE" "$url")
        if ! grep -q 'Success rate:.*100' <<<"$out" || grep -A20 'Status code distribution' <<<"$out" | grep -qv '\[2[0-9][0-9]\]\|Status code\|^$'; then
            echo "errors while loading $url:" >&2
            echo "$out" >&2
            exit 1
        fi
        local rps p50 p99
        rps=$(awk '/Requests\/sec:/ { print $2 }' <<<"$out")
        p50=$(awk '$1 == "50.00%" && $2 == "in" { print $3 }' <<<"$out")
        p99=$(awk '$1 == "99.00%" && $2 == "in" { print $3 }' <<<"$out")
        echo "$rps $(to_us "$p50") $(to_us "$p99")"
    fi
}

# rounds URL...: drives each URL for DURATION seconds, in turn, ROUNDS times; prints one line
# per URL: "mean_req/s median_p50_us median_p99_us".
rounds() {
    local round url i
    local -a rps p50 p99
    for ((round = 0; round < ROUNDS; round++)); do
        i=0
        for url in "$@"; do
            local result r a b
            result=$(load "$url" "$DURATION")
            read -r r a b <<<"$result"
            rps[i]+="$r "
            p50[i]+="$a "
            p99[i]+="$b "
            i=$((i + 1))
        done
    done
    for ((i = 0; i < $#; i++)); do
        echo "$(mean ${rps[i]}) $(median ${p50[i]}) $(median ${p99[i]})"
    done
}

mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { print s / NR }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "building the examples in release..." >&2
build_examples bench_server axum_receiver actix_receiver warp_receiver

echo "$(uptime)"
echo "tool: $TOOL, $CONNECTIONS connections, $THREADS thread(s), $ROUNDS rounds of ${DURATION} s per route after ${WARMUP} s of warm-up"
echo
printf '%-7s %-28s %-24s %8s %9s %9s %12s\n' \
    framework RUST_LOG route "req/s" "p50 (us)" "p99 (us)" "vs baseline"
row() {
    printf '%-7s %-28s %-24s %8.0f %9.0f %9.0f %12s\n' "$@"
}
for framework in $FRAMEWORKS; do
    first=yes
    for log in $LOGS; do
        RUST_LOG=$log start_server bench_server "$framework"
        base="http://$SERVER_ADDR"
        urls=("$base/baseline" "$base/webhook")
        # With the first filter, the receiver example as shipped joins the rounds, so that it
        # is compared with a baseline measured under the same load.
        if [[ $first == yes ]]; then
            RUST_LOG=$log start_server "${framework}_receiver"
            urls+=("http://$SERVER_ADDR/webhook")
        fi
        for url in "${urls[@]}"; do
            load "$url" "$WARMUP" >/dev/null
        done
        result=$(rounds "${urls[@]}")
        stop_servers
        read -r b_rps b_p50 b_p99 v_rps v_p50 v_p99 r_rps r_p50 r_p99 <<<"$(tr '\n' ' ' <<<"$result")"
        row "$framework" "$log" "bench_server /baseline" "$b_rps" "$b_p50" "$b_p99" "1.000"
        row "$framework" "$log" "bench_server /webhook" "$v_rps" "$v_p50" "$v_p99" \
            "$(ratio "$v_rps" "$b_rps")"
        if [[ $first == yes ]]; then
            row "$framework" "$log" "${framework}_receiver /webhook" "$r_rps" "$r_p50" "$r_p99" \
                "$(ratio "$r_rps" "$b_rps")"
            first=no
        fi
    done
done
echo
echo "$(uptime)"
echo "vs baseline: requests/s of the route over requests/s of /baseline in the same server with"
echo "the same RUST_LOG, driven in the same rounds. Target: >= 0.90."
