#!/usr/bin/env bash
# An RRQ flood from many source addresses and ports (floods): the
# caps hold, memory stays bounded, and a legitimate transfer from another
# host still completes, byte-exact. Counts, RSS and throughput are printed;
# nothing is asserted on time (shared machines), only on bytes, caps,
# counters and a generous memory bound.
#
#   flood host (F) ── veth ── server (S) ── veth ── legitimate host (L)
#
# F sends forged RRQs (tests/tools/rrq_flood, raw socket) from
# 10.82.128.0/17, routed back through F, where nothing answers: every
# transfer the server starts waits for an ACK that never comes, the worst
# case for its session slots. Two phases, each against a fresh daemon:
#
#  A. 16 addresses x 4000 ports, a mix of RRQs (octet with timeout=255 and
#     windowsize 16, netascii, no options, missing file, malformed, WRQ),
#     ~8000/s for ~8 s, while L downloads with curl (lock-step) and atftp
#     (windowsize 16). The per-host cap (32) keeps the flood to 16 x 32
#     slots of the 1000: L is served at once.
#  B. 3000 addresses x 1 RRQ (timeout=255): the global cap (1000) fills, L
#     is served once the oldest un-acknowledged transfer is a second old:
#     a full server evicts it for the new request (evicted_unheard; before
#     that, L waited for the 60 s stall budget). The cap
#     holds, and slots come back.
#
# The server runs with --tftp_max_sessions=1000 (the default is 10000) so
# that 3000 addresses overflow it.
# Usage: tftp_flood_test.sh PXEPROXY_BINARY RRQ_FLOOD_BINARY
#   PHASES="A B" (the default) picks phases.
# Needs root; prints "SKIPPED: reason" and exits 77 otherwise.
set -uo pipefail

PXEPROXY=${1:?usage: $0 PXEPROXY_BINARY RRQ_FLOOD_BINARY}
FLOOD=${2:?usage: $0 PXEPROXY_BINARY RRQ_FLOOD_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
ns_require_root "needs root for network namespaces"
ns_require ip curl atftp sha256sum timeout
[ -x "$FLOOD" ] || ns_skip "no rrq_flood binary at $FLOOD"

ns_init pxq
S=$NS_RUN-s F=$NS_RUN-f L=$NS_RUN-l
SFIP=10.82.1.1 FIP=10.82.1.2 SLIP=10.82.2.1 LIP=10.82.2.2
SPOOF_BASE=10.82.128.1
ns_workdir
ROOT=$WORK/root OUT=$WORK/out
SERVER="" SAMPLER=""
T0=$(date +%s)
ns_trap_cleanup

ns_add "$S" 2>/dev/null || ns_skip "cannot create network namespaces"
ns_add "$F"
ns_add "$L"
ns_pair "$S" "$F" sf0 ff0 "$SFIP/24" "$FIP/24" ||
  ns_skip "cannot create a veth pair"
ns_pair "$S" "$L" sl0 lf0 "$SLIP/24" "$LIP/24"
# Replies to the forged sources go to F, which does not forward: dropped
# there without a word, as for hosts that never asked.
ip -n "$S" route add 10.82.128.0/17 via "$FIP"
inl() { ip netns exec "$L" "$@"; }


mkdir -p "$ROOT" "$OUT"
head -c $((8 << 20)) /dev/urandom >"$ROOT/big"    # what the flood asks for
LEGIT_MIB=32
head -c $((LEGIT_MIB << 20)) /dev/urandom >"$ROOT/legit"  # what L downloads

start_server() {  # start_server LOG
  ns_start "$S" "$1" "tftp: serving" "$PXEPROXY" --user= --v=1 \
    --menu_url=http://x/ --tftp_root="$ROOT" --tftp_max_sessions=1000 sf0 sl0
  SERVER=$NS_PID
  sleep 0.3
  BASE_SOCKETS=$(sockets)
  RSS_BEFORE=$(rss)
}
stop_server() {  # stop_server LOG
  kill -TERM "$SERVER" 2>/dev/null
  wait "$SERVER" 2>/dev/null
  SERVER=""
  grep -q "tftp: stopping" "$1" && ok || fail "no clean TFTP stop on SIGTERM"
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status" 2>/dev/null; }
sockets() { find "/proc/$SERVER/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
# Transfer sockets (one per session) and RSS every 0.2 s, until stopped.
start_sampler() {  # start_sampler FILE
  (
    while kill -0 "$SERVER" 2>/dev/null; do
      echo "$(($(sockets) - BASE_SOCKETS)) $(rss)"
      sleep 0.2
    done
  ) >"$1" &
  SAMPLER=$!
}
stop_sampler() {
  kill "$SAMPLER" 2>/dev/null
  wait "$SAMPLER" 2>/dev/null
  SAMPLER=""
}
peak() { awk -v c="$2" '$c > m {m = $c} END {print m + 0}' "$1"; }  # peak FILE COLUMN
# counter LOG NAME: a count from the "tftp: stopping" line
counter() {
  grep "tftp: stopping" "$1" | grep -o "[ :]$2=[0-9]*" | head -1 | cut -d= -f2
}
udp_drops() {  # the server namespace's UDP receive-buffer drops
  ip netns exec "$S" awk '/^Udp:/ && $2 ~ /^[0-9]/ {print $6}' /proc/net/snmp
}
# legit NAME CLIENT BUDGET: one download from L; prints "SECONDS" or "failed"
legit() {
  local out=$OUT/$1 t0 t1 rc
  rm -f "$out"
  t0=$(date +%s.%N)
  case $2 in
    curl) inl timeout -k 2 "$3" curl -sS --max-time "$3" --tftp-blksize 1468 \
      "tftp://$SLIP/legit" -o "$out" 2>"$out.err" ;;
    atftp) inl timeout -k 2 "$3" atftp --get -r legit -l "$out" \
      --option "blksize 1468" --option "windowsize 16" "$SLIP" >"$out.err" 2>&1 ;;
  esac
  rc=$?
  t1=$(date +%s.%N)
  if [ $rc = 0 ]; then
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b - a}'
  else
    echo failed
  fi
}
# phase_start PHASE: a fresh server (LOG=$WORK/phase.log), its sessions and
# RSS sampled to phase.samples, the kernel's UDP drops counted from now.
phase_start() {
  LOG=$WORK/${1,,}.log
  start_server "$LOG"
  DROPS0=$(udp_drops)
  start_sampler "$WORK/${1,,}.samples"
}
# phase_end PHASE: sampler and server stopped; RSS_AFTER, DROPS, PEAK
# (sessions at once) and RSS_PEAK set; memory and drops printed, the
# memory bound checked.
phase_end() {
  stop_sampler
  RSS_AFTER=$(rss)
  stop_server "$LOG"
  DROPS=$(($(udp_drops) - DROPS0))
  PEAK=$(peak "$WORK/${1,,}.samples" 1)
  RSS_PEAK=$(peak "$WORK/${1,,}.samples" 2)
  echo "  VmRSS: before $RSS_BEFORE KiB, peak $RSS_PEAK KiB, after $RSS_AFTER KiB"
  grep "tftp: stopping" "$LOG" | sed 's/^.*tftp: /  server: /'
  echo "  kernel UDP receive-buffer drops in the server namespace: $DROPS"
  [ $((RSS_PEAK - RSS_BEFORE)) -lt $((200 << 10)) ] && ok ||
    fail "phase $1: VmRSS grew by $(((RSS_PEAK - RSS_BEFORE) >> 10)) MiB"
}
mibs() {  # mibs SECONDS: MiB/s for L's file
  case $1 in
    failed) echo "-" ;;
    *) awk -v s="$1" -v m="$LEGIT_MIB" 'BEGIN {printf "%.1f", (s > 0 ? m / s : 0)}' ;;
  esac
}

PHASES=${PHASES:-A B}
declare -A BASE
echo "== baseline: L downloads $LEGIT_MIB MiB with no flood"
start_server "$WORK/base.log"
for c in curl atftp; do
  BASE[$c]=$(legit "base.$c" "$c" 60)
  same "baseline $c" "$ROOT/legit" "$OUT/base.$c"
  echo "  $c: ${BASE[$c]} s ($(mibs "${BASE[$c]}") MiB/s)"
done
stop_server "$WORK/base.log"

if [[ " $PHASES " == *" A "* ]]; then
  echo "== A: 16 addresses x 4000 ports, mixed RRQs, ~8000/s; L downloads meanwhile"
  phase_start A
  ip netns exec "$F" "$FLOOD" --dst="$SFIP" --src="$SPOOF_BASE" --hosts=16 \
    --ports=4000 --pps=8000 --mix --file=big >"$WORK/a.flood" 2>&1 &
  FPID=$!
  sleep 1
  declare -A UNDER
  for c in curl atftp; do
    UNDER[$c]=$(legit "a.$c" "$c" 60)
    same "phase A: $c from another host during the flood" "$ROOT/legit" "$OUT/a.$c"
  done
  FLOOD_RUNNING=no
  kill -0 "$FPID" 2>/dev/null && FLOOD_RUNNING=yes
  wait "$FPID"
  sleep 1
  kill -0 "$SERVER" 2>/dev/null && ok || fail "phase A: the daemon died"
  phase_end A
  echo "  flood: $(cat "$WORK/a.flood")"
  echo "  flood still running when L's downloads ended: $FLOOD_RUNNING"
  for c in curl atftp; do
    echo "  L $c $LEGIT_MIB MiB: ${UNDER[$c]} s under flood vs ${BASE[$c]} s without ($(mibs "${UNDER[$c]}") vs $(mibs "${BASE[$c]}") MiB/s; throughput under flood / without: $(
      awk -v u="${UNDER[$c]}" -v b="${BASE[$c]}" 'BEGIN {if (u + 0 > 0) printf "%.2f", b / u; else print "-"}'))"
  done
  echo "  sessions (transfer sockets): peak $PEAK; cap: 16 hosts x 32 = 512 (+2 for L), global 1000"
  SENT=$(grep -o "sent=[0-9]*" "$WORK/a.flood" | cut -d= -f2)
  REQ=$(counter "$LOG" requests)
  PH=$(counter "$LOG" max_sessions_per_host)
  MS=$(counter "$LOG" max_sessions)
  echo "  accounted: flood sent ${SENT:-?} + L's requests; daemon counted requests=${REQ:-?}, kernel dropped $DROPS"
  [ "$PEAK" -le 514 ] && ok || fail "phase A: $PEAK sessions at once, the per-host cap allows 514"
  [ "${PH:-0}" -gt 0 ] && ok || fail "phase A: no max_sessions_per_host drop counted"
  [ "${MS:-0}" = 0 ] && ok || fail "phase A: the global cap was reached ($MS max_sessions drops)"
  # Every request the flood sent reached the daemon and was counted (or
  # the kernel dropped it, counted above); L's own requests come on top.
  [ $(( ${REQ:-0} + DROPS )) -ge "${SENT:-1}" ] && ok ||
    fail "phase A: requests=${REQ:-?} + kernel drops $DROPS < ${SENT:-?} sent"
fi

if [[ " $PHASES " == *" B "* ]]; then
  echo "== B: 3000 addresses x 1 RRQ (timeout=255): the global cap fills"
  phase_start B
  ip netns exec "$F" "$FLOOD" --dst="$SFIP" --src="$SPOOF_BASE" --hosts=3000 \
    --ports=1 --pps=3000 --file=big >"$WORK/b.flood" 2>&1
  sleep 1
  # L's RRQ finds the server full: the oldest forged transfer (a second
  # old, never answered) is evicted for it.
  WAITED=$(legit b.curl curl 100)
  same "phase B: curl from another host once the cap frees" "$ROOT/legit" "$OUT/b.curl"
  phase_end B
  MS=$(counter "$LOG" max_sessions)
  EV=$(counter "$LOG" evicted_unheard)
  echo "  flood: $(cat "$WORK/b.flood")"
  echo "  L curl $LEGIT_MIB MiB: done $WAITED s after the flood (a full server evicts the oldest unanswered transfer for it)"
  echo "  sessions (transfer sockets): peak $PEAK; global cap 1000"
  [ "$PEAK" -le 1000 ] && ok || fail "phase B: $PEAK sessions at once, over the cap of 1000"
  [ "${MS:-0}" -ge $((2000 - DROPS)) ] && ok ||
    fail "phase B: ${MS:-0} max_sessions drops, want >= $((2000 - DROPS))"
  [ "${EV:-0}" -ge 1 ] && ok ||
    fail "phase B: no forged transfer was evicted for the real client"
fi

echo "run time $(($(date +%s) - T0)) s"
echo "passed $PASSES checks, failed $FAILS"
[ "$FAILS" = 0 ]
