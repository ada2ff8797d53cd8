#!/usr/bin/env bash
# usage: cpu-per-request.sh PORT PID TEST PIPELINE [N]
# Server CPU (user+system of every thread of PID) per request, in microseconds.
set -euo pipefail
PORT=$1 PID=$2 TEST=$3 P=$4 N=${5:-200000}
ticks() { local sum=0; for t in /proc/"$PID"/task/*/stat; do sum=$((sum + $(awk '{print $14 + $15}' "$t"))); done; echo $sum; }
HZ=$(getconf CLK_TCK)
before=$(ticks)
redis-benchmark -p "$PORT" -t "$TEST" -n "$N" -c 50 -P "$P" -r 100000 -q >/dev/null 2>&1
after=$(ticks)
node -e "console.log('$TEST P=$P: ' + ((($after - $before) / $HZ) * 1e6 / $N).toFixed(2) + ' us/request')"
