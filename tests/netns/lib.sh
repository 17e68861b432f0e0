# shellcheck shell=bash
# Network namespaces for the namespace tests and benchmarks, so that two
# runs at once never meet and nothing outlives a run.
#
#   ns_init PREFIX      NS_RUN=PREFIX<pid><random>, unique per run (names of
#                       namespaces and of files in /run or /var/lib/dhcp are
#                       built from it); prints "ns: run NS_RUN"
#   ns_add NAME         creates the namespace NAME (lo up) and records it
#   ns_cleanup          for every recorded namespace: TERM whatever still runs
#                       in it (a dhclient that forked into the background, a
#                       dnsmasq, nginx workers), KILL it after 2 s, delete the
#                       namespace
#
# Interface names stay per namespace (srv0, cli0...), they never clash
# between namespaces; only namespace names are global. Processes a script
# starts are also its own to stop by PID: ns_cleanup is the net for what
# forks away from those PIDs.

NS_LIST=()

ns_init() {
  NS_RUN=$(printf '%s%x%04x' "$1" $$ $((RANDOM % 65536)))
  echo "ns: run $NS_RUN"
}

ns_add() {
  ip netns add "$1" || return 1
  NS_LIST+=("$1")
  ip -n "$1" link set lo up
}

# ns_stop PID...: TERM, then KILL those still there after 2 s.
ns_stop() {
  local p alive
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 20); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
  return 0
}

ns_cleanup() {
  local ns pids
  for ns in "${NS_LIST[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    # shellcheck disable=SC2086
    [ -z "$pids" ] || ns_stop $pids
  done
  for ns in "${NS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  NS_LIST=()
  return 0
}
