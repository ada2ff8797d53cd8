#!/usr/bin/env bash
# CPU per replicated write and throughput of a 3-node group, Strata or Redis.
#
#   bench/replication-group.sh strata|redis [TESTS] [PIPELINES] [N]
#     e.g. bench/replication-group.sh strata set,incr 1,16 400000
#
# strata: three nodes (npm run build first) on ports 7301-7303, each with the
#         other two as --peers; redis-benchmark writes to 7301.
# redis:  a redis-server primary on 7301 and two replicas (--replicaof) on
#         7302-7303: the same shape with Redis's own replication, for the
#         ratio "group / alone" that this machine allows at all.
# Each test runs once alone (a single node, no peers or replicas) and once
# in the group. Printed per run: requests/s, and each process's CPU
# (user+system, /proc) per request in microseconds, measured until the last
# replica stops working on the backlog. Compare ratios, not absolute numbers.
set -euo pipefail
KIND=${1:?strata or redis}; TESTS=${2:-set,get,incr}; PIPES=${3:-1,16}; N=${4:-400000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d); PORTS=(7301 7302 7303)
TICK=$(getconf CLK_TCK)

stop_all() {
  for p in "${PORTS[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  sleep 0.5
}
trap 'stop_all; rm -rf "$DIR"' EXIT

start_node() { # port, peers ('' alone; for redis: the primary's port)
  local port=$1 peers=$2
  if [ "$KIND" = strata ]; then
    local flags=(--port "$port" --save '')
    [ -n "$peers" ] && flags+=(--peers "$peers")
    node --max-semi-space-size=64 "$ROOT/dist/src/bin/strata-server.js" "${flags[@]}" >"$DIR/$port.log" 2>&1 &
    echo $! >"$DIR/$port.pid"
  else
    local flags=(--port "$port" --save '' --appendonly no --daemonize yes --dir "$DIR" --dbfilename "$port.rdb" --logfile "$DIR/$port.log" --pidfile "$DIR/$port.pid")
    [ -n "$peers" ] && flags+=(--replicaof 127.0.0.1 "$peers")
    redis-server "${flags[@]}" >/dev/null
  fi
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && [ -s "$DIR/$port.pid" ] && return; sleep 0.1; done
  echo "node on $port did not start" >&2; exit 1
}

start_group() { # alone|group
  stop_all
  if [ "$1" = alone ]; then start_node 7301 ''; return; fi
  for p in "${PORTS[@]}"; do
    local peers=""
    if [ "$KIND" = strata ]; then for q in "${PORTS[@]}"; do [ "$q" != "$p" ] && peers+="127.0.0.1:$q,"; done; peers=${peers%,}
    elif [ "$p" != 7301 ]; then peers=7301; fi
    start_node "$p" "$peers"
  done
  sleep 2
}

cpu_ticks() { # port -> utime+stime of its process (0 when not running)
  local pidfile="$DIR/$1.pid"
  [ -s "$pidfile" ] && [ -r "/proc/$(cat "$pidfile")/stat" ] && awk '{print $14+$15}' "/proc/$(cat "$pidfile")/stat" || echo 0
}

run() { # mode test pipeline
  local before=() after=() rps
  for p in "${PORTS[@]}"; do before+=("$(cpu_ticks "$p")"); done
  rps=$(redis-benchmark -p 7301 -t "$2" -P "$3" -n "$N" -r 100000 -c 50 -q 2>/dev/null | tr '\r' '\n' | grep -i 'requests per second' | tail -1 | awk '{print $2}')
  # The replicas may still be applying the backlog: wait until the last one's CPU stands still.
  local last=-1 now
  for _ in $(seq 200); do now=$(cpu_ticks 7303); [ "$now" = "$last" ] && break; last=$now; sleep 0.3; done
  for p in "${PORTS[@]}"; do after+=("$(cpu_ticks "$p")"); done
  local line
  line=$(printf '%s %-5s P=%-3s %10s req/s' "$KIND" "$2" "$3" "$rps")
  for i in 0 1 2; do
    line+=$(awk -v a="${before[$i]}" -v b="${after[$i]}" -v n="$N" -v t="$TICK" -v p="${PORTS[$i]}" 'BEGIN { if (b > 0) printf "  %s %.2f us", p, (b - a) * 1e6 / t / n }')
  done
  echo "$1: $line"
}

for mode in alone group; do
  start_group "$mode"
  for t in ${TESTS//,/ }; do for P in ${PIPES//,/ }; do run "$mode" "$t" "$P"; done; done
done
