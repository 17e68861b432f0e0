# shellcheck shell=bash
# Network namespaces for the namespace tests and benchmarks, so that two
# runs at once never meet and nothing outlives a run.
#
#   ns_init PREFIX      NS_RUN=PREFIX<pid><random>, unique per run (names of
#                       namespaces and of files in /run or /var/lib/dhcp are
#                       built from it); prints "ns: run NS_RUN"
#   ns_add NAME         creates the namespace NAME (lo up) and records it
#   ns_stop PID...      TERM (and CONT, for a stopped one), KILL after 2 s
#   ns_cleanup          for every recorded namespace: TERM whatever still runs
#                       in it (a dhclient that forked into the background, a
#                       dnsmasq, nginx workers), KILL it after 2 s, delete the
#                       namespace
#
# Interface names stay per namespace (srv0, cli0...), they never clash
# between namespaces; only namespace names are global. Processes a script
# starts are also its own to stop by PID: ns_cleanup is the net for what
# forks away from those PIDs.
#
# What every test script does around them:
#
#   ns_skip REASON...   prints "SKIPPED: REASON" and exits 77 (ctest: skipped)
#   ns_require_root [REASON]
#                       ns_skip unless root (REASON: "needs root to create
#                       network namespaces")
#   ns_require TOOL...  ns_skip "TOOL is not installed" for the first missing
#   ns_pair NS1 NS2 IF1 IF2 ADDR1 ADDR2
#                       a veth IF1 in NS1 <-> IF2 in NS2, ADDRn (a/len, or ""
#                       for none) on each end, both ends up; fails (status 1)
#                       when the pair cannot be made
#   ns_workdir [DIR]    WORK=DIR/NS_RUN.XXXXXX (DIR: /tmp), made now and
#                       removed by ns_trap_cleanup's trap (kept with KEEP=1)
#   ns_trap_cleanup [COMMAND...]
#                       at exit: COMMAND (if any), then every background job
#                       of the script stopped by PID (ns_stop) and waited for,
#                       ns_cleanup, WORK removed
#   wait_for_log FILE PATTERN [SECONDS [COUNT]]
#                       until PATTERN (grep) occurs COUNT times (1) in FILE;
#                       status 1 after SECONDS (5)
#   ns_start NS LOG PATTERN COMMAND...
#                       COMMAND in NS in the background, stdout and stderr to
#                       LOG, NS_PID its PID ("ip netns exec" execs it: the PID
#                       is the daemon's own); waits up to 10 s for PATTERN in
#                       LOG (as long as it runs), else prints LOG and
#                       "FAIL: pxeproxy did not start" and exits 1
#   pass MESSAGE / fail MESSAGE
#                       "PASS: MESSAGE" / "FAIL: MESSAGE", counted in PASSES /
#                       FAILS; ok counts a pass without a line (for checks run
#                       by the hundred)
#   same NAME FILE GOT  ok when GOT is FILE byte for byte, else
#                       FAIL "NAME: <GOT's size> bytes, want <FILE's size>"
#   probe NAME ARGS...  the DHCP tests' dhcp_probe ($PROBE) on cli0 in $NS_CLI
#                       with ARGS: PASS NAME when it exits 0, else FAIL NAME
#                       and its output ($WORK/probe.out)

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

# ns_stop PID...: TERM, then KILL those still there after 2 s. A stopped
# process gets its TERM on the CONT.
ns_stop() {
  local p alive
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  kill -CONT "$@" 2>/dev/null || true
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

ns_skip() {
  echo "SKIPPED: $*"
  exit 77
}

ns_require_root() {
  [ "$(id -u)" -eq 0 ] || ns_skip "${1:-needs root to create network namespaces}"
}

ns_require() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || ns_skip "$t is not installed"
  done
}

ns_pair() {
  ip -n "$1" link add "$3" type veth peer name "$4" netns "$2" || return 1
  if [ -n "$5" ]; then ip -n "$1" addr add "$5" dev "$3" || return 1; fi
  if [ -n "$6" ]; then ip -n "$2" addr add "$6" dev "$4" || return 1; fi
  ip -n "$1" link set "$3" up && ip -n "$2" link set "$4" up
}

WORK=
ns_workdir() {
  WORK=$(mktemp -d "${1:-/tmp}/$NS_RUN.XXXXXX")
}

NS_AT_EXIT=()
ns_trap_cleanup() {
  NS_AT_EXIT=("$@")
  trap ns_exit_cleanup EXIT
}
ns_exit_cleanup() {
  local jobs_left
  [ ${#NS_AT_EXIT[@]} -eq 0 ] || "${NS_AT_EXIT[@]}" || true
  jobs_left=$(jobs -p)
  # shellcheck disable=SC2086
  ns_stop $jobs_left
  # shellcheck disable=SC2086
  [ -z "$jobs_left" ] || wait $jobs_left 2>/dev/null || true
  ns_cleanup
  if [ -n "${WORK:-}" ]; then
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  return 0
}

wait_for_log() {
  local n=${4:-1} c
  for _ in $(seq $((${3:-5} * 10))); do
    c=$(grep -c -- "$2" "$1" 2>/dev/null || true)
    [ "${c:-0}" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}

NS_PID=
ns_start() {
  local ns=$1 log=$2 pattern=$3
  shift 3
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  NS_PID=$!
  for _ in $(seq 100); do
    grep -q -- "$pattern" "$log" && return 0
    kill -0 "$NS_PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q -- "$pattern" "$log" && return 0
  cat "$log"
  echo "FAIL: pxeproxy did not start"
  exit 1
}

FAILS=0 PASSES=0
pass() {
  PASSES=$((PASSES + 1))
  echo "PASS: $*"
}
fail() {
  FAILS=$((FAILS + 1))
  echo "FAIL: $*"
}
ok() { PASSES=$((PASSES + 1)); }
same() {
  if [ -f "$3" ] && cmp -s "$2" "$3"; then
    ok
  else
    fail "$1: $(stat -c %s "$3" 2>/dev/null || echo missing) bytes, want $(stat -c %s "$2")"
  fi
}

probe() {
  local name=$1
  shift
  if ip netns exec "$NS_CLI" "$PROBE" cli0 "$@" >"$WORK/probe.out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    cat "$WORK/probe.out"
  fi
}
