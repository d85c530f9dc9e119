#!/usr/bin/env bash
# A 100 MiB chunked upload to each receiver example must not grow its peak resident set
# (VmHWM in /proc/PID/status) by more than 4 MiB: the adapters refuse the body at the 1 MiB
# limit instead of buffering it.
#
#   bench/memory.sh
#   UPLOAD_MIB=200 LIMIT_KIB=4096 bench/memory.sh
#
# The upload goes to 127.0.0.1 only, with curl streaming /dev/zero (`Transfer-Encoding:
# chunked`, no Content-Length), signed with a valid-looking header so the body is what is
# refused. Exits non-zero when a receiver grows by more than LIMIT_KIB.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

UPLOAD_MIB=${UPLOAD_MIB:-100}
LIMIT_KIB=${LIMIT_KIB:-4096}
RECEIVERS=${RECEIVERS:-axum_receiver actix_receiver warp_receiver}

work=$(mktemp -d)
trap 'stop_servers; rm -rf "$work"' EXIT
signature=$(make_delivery "$work/body.json")

echo "building the examples in release..." >&2
# shellcheck disable=SC2086
build_examples $RECEIVERS

echo "$(uptime)"
echo "upload: ${UPLOAD_MIB} MiB, chunked; allowed growth of VmHWM: ${LIMIT_KIB} KiB"
echo
printf '%-15s %8s %14s %14s %14s %8s\n' receiver answer "before (KiB)" "after (KiB)" "growth (KiB)" verdict
failed=0
for receiver in $RECEIVERS; do
    start_server "$receiver"
    url="http://$SERVER_ADDR/webhook"
    # One valid delivery first, so that what a first request sets up is in "before".
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "X-Flowtriq-Signature: $signature" --data-binary "@$work/body.json" "$url")
    if [[ $code != 200 ]]; then
        echo "$receiver answered $code to a valid delivery" >&2
        exit 1
    fi
    before=$(vm_hwm "$SERVER_PID")
    # The server answers 413 and may close the connection while curl is still sending: a
    # failed send is expected, only the server's memory matters.
    answer=$(head -c $((UPLOAD_MIB * 1024 * 1024)) /dev/zero |
        curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -X POST -T - -H 'Expect:' \
            -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
            -H "X-Flowtriq-Signature: $signature" "$url" 2>/dev/null || true)
    sleep 0.5
    after=$(vm_hwm "$SERVER_PID")
    growth=$((after - before))
    verdict=ok
    if ((growth > LIMIT_KIB)); then
        verdict=FAILED
        failed=1
    fi
    printf '%-15s %8s %14d %14d %14d %8s\n' "$receiver" "${answer:-none}" "$before" "$after" "$growth" "$verdict"
    stop_servers
done
exit "$failed"
