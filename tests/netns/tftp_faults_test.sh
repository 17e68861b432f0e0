#!/usr/bin/env bash
# TFTP under loss, duplication and reordering (faults), with the
# real clients (curl, tftp-hpa, atftp, busybox) and windowsize 1, 4 and 16:
# every transfer ends byte-exact or with a clear error, never corrupt, never
# beyond its budget. Prints the matrix (result, seconds, throughput, the
# server's retransmissions per transfer) and which combinations cannot be
# run, and why.
#
#   client ns (C) ── veth ── bridge ns (R) ── veth ── server ns (S)
#                            udp_reorder
#
# The kernel has no sch_netem, so: loss is iptables' statistic match
# (DROP on INPUT on both ends: a DROP on OUTPUT would fail the sender's
# sendto() with EPERM, which no wire does), duplication is TEE (a clone
# routed to the destination itself), and reordering is tests/tools/
# udp_reorder, a user-space bridge in R that holds back every N-th UDP frame
# each way and sends it after the next frame of its flow (or after a hold
# time, when the flow sends nothing more: in lock-step, with a hold longer
# than the server's 1 s timeout, the late frame follows its own
# retransmission). The server's veth gets gso_max_segs 1 so that a window
# sent with UDP GSO crosses the bridge as single frames (the bridge counts
# "oversize" frames: there must be none).
#
# tests/tftp_netns_test.sh already covers loss + duplication with small
# lock-step files and one atftp windowsize 8; this test adds reordering,
# windowsize 1/4/16 and a profile with all three faults at once.
#
# Usage: tftp_faults_test.sh PXEPROXY_BINARY UDP_REORDER_BINARY
#   PROFILES="loss dup reorder all" (the default) picks profiles;
#   LOSS_P, DUP_P (0.03, 0.05) and BUDGET (100 s per transfer) change them;
#   ALLOW_WINDOW_DUP=1 only reports the window duplication check below.
# Needs root; prints "SKIPPED: reason" and exits 77 otherwise.
set -uo pipefail

PXEPROXY=${1:?usage: $0 PXEPROXY_BINARY UDP_REORDER_BINARY}
REORDER=${2:?usage: $0 PXEPROXY_BINARY UDP_REORDER_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
ns_require_root "needs root for network namespaces"
ns_require ip iptables curl tftp atftp busybox sha256sum timeout
[ -x "$REORDER" ] || ns_skip "no udp_reorder binary at $REORDER"

ns_init pxf
S=$NS_RUN-s R=$NS_RUN-r C=$NS_RUN-c
SIP=10.81.1.1 CIP=10.81.1.2
ns_workdir
ROOT=$WORK/root OUT=$WORK/out
SERVER="" BRIDGE=""
T0=$(date +%s)
ns_trap_cleanup

ns_add "$S" 2>/dev/null || ns_skip "cannot create network namespaces"
ns_add "$R"
ns_add "$C"
ip netns exec "$R" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ns_pair "$S" "$R" fs0 ra "$SIP/24" "" || ns_skip "cannot create a veth pair"
ns_pair "$R" "$C" rb fc0 "" "$CIP/24"
# Windows sent with UDP_SEGMENT leave fs0 as single frames (software
# GSO), so the bridge, and the drops behind it, see every DATA packet.
ip -n "$S" link set fs0 gso_max_segs 1 ||
  ns_skip "ip link cannot set gso_max_segs"
ins() { ip netns exec "$S" "$@"; }
inc() { ip netns exec "$C" "$@"; }
inc iptables -L INPUT >/dev/null 2>&1 || ns_skip "no iptables in a namespace"

mkdir -p "$ROOT" "$OUT"
LOG=$WORK/server.log
ns_start "$S" "$LOG" "tftp: serving" "$PXEPROXY" --user= --v=1 \
  --menu_url=http://x/ --tftp_root="$ROOT" fs0
SERVER=$NS_PID

# The bridge, restarted per profile: udp_reorder ARGS...
start_bridge() {
  ip netns exec "$R" "$REORDER" ra rb "$@" >"$WORK/bridge.$PROFILE" 2>&1 &
  BRIDGE=$!
  wait_for_log "$WORK/bridge.$PROFILE" bridging 3 && return 0
  cat "$WORK/bridge.$PROFILE"
  echo "FAIL: udp_reorder did not start"
  exit 1
}
stop_bridge() {
  kill -TERM "$BRIDGE" 2>/dev/null
  wait "$BRIDGE" 2>/dev/null
  BRIDGE=""
  grep "^udp_reorder .*>" "$WORK/bridge.$PROFILE" | sed 's/^/  /'
  local o
  o=$(grep -o "oversize=[0-9]*" "$WORK/bridge.$PROFILE" |
    awk -F= '{s += $2} END {print s + 0}')
  [ "$o" = 0 ] && ok || fail "$PROFILE: $o GSO super-frames crossed the bridge unsegmented"
}
loss() {  # loss P: drop P of the UDP packets arriving at each end
  local ns
  for ns in "$S" "$C"; do
    ip netns exec "$ns" iptables -A INPUT -p udp -m statistic \
      --mode random --probability "$1" -j DROP
  done
}
dup() {  # dup P: duplicate P of the UDP packets each way
  ins iptables -t mangle -A POSTROUTING -p udp -d "$CIP" \
    -m statistic --mode random --probability "$1" -j TEE --gateway "$CIP"
  inc iptables -t mangle -A POSTROUTING -p udp -d "$SIP" \
    -m statistic --mode random --probability "$1" -j TEE --gateway "$SIP"
}
clear_faults() {
  local ns
  for ns in "$S" "$C"; do
    ip netns exec "$ns" iptables -F INPUT
    ip netns exec "$ns" iptables -t mangle -F POSTROUTING
  done
}

# The combinations. Windowsize is an RFC 7440 option only atftp sends.
COMBOS="curl/1 hpa/1 busybox/1 atftp/1 atftp/4 atftp/16"
echo "== not possible with these clients (they run with windowsize 1 only):"
echo "  curl 4, 16: curl $(curl -V | head -1 | cut -d' ' -f2) has no windowsize option (--tftp-blksize and --tftp-no-options only)"
echo "  tftp-hpa 4, 16: its client sends no option at all (RFC 1350: 512-byte blocks, lock-step)"
echo "  busybox 4, 16: busybox tftp has -b BLKSIZE only"

BUDGET=${BUDGET:-100}  # seconds per transfer; beyond it, a hang
# fetch CLIENT WS NAME OUTFILE: one download; its exit status
fetch() {
  local c=$1 ws=$2 name=$3 out=$4
  case $c in
    curl) inc timeout -k 2 "$BUDGET" curl -sS --max-time "$BUDGET" \
      --tftp-blksize 1468 "tftp://$SIP/$name" -o "$out" ;;
    hpa) inc timeout -k 2 "$BUDGET" tftp -m binary "$SIP" -c get "$name" "$out" ;;
    busybox) inc timeout -k 2 "$BUDGET" busybox tftp -g -r "$name" -l "$out" \
      -b 1468 "$SIP" ;;
    atftp) inc timeout -k 2 "$BUDGET" atftp --get -r "$name" -l "$out" \
      --option "blksize 1468" --option "windowsize $ws" "$SIP" ;;
  esac
}
# one CLIENT WS NAME: runs a download, writes "rc seconds" to its .res
one() {
  local c=$1 ws=$2 name=$3 t0 t1 rc
  t0=$(date +%s.%N)
  fetch "$c" "$ws" "$name" "$OUT/$name" >"$OUT/$name.msg" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  echo "$rc $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')" \
    >"$OUT/$name.res"
}

# run_profile NAME LOCKSTEP_BYTES WINDOWED_BYTES: every combination at
# once, then the verdicts.
ERRORS=0 EXACT=0 CORRUPT=0 HANGS=0
run_profile() {
  local prof=$1 lbytes=$2 wbytes=$3 combo c ws name bytes pids=() t0
  echo "== $prof: $PROFILE_DESC"
  t0=$(date +%s)
  for combo in $COMBOS; do
    c=${combo%/*} ws=${combo#*/}
    name=$prof.$c.ws$ws
    bytes=$lbytes
    [ "$ws" -gt 1 ] && bytes=$wbytes
    head -c "$bytes" /dev/urandom >"$ROOT/$name"
    one "$c" "$ws" "$name" &
    pids+=($!)
  done
  wait "${pids[@]}"
  echo "  (all $(echo $COMBOS | wc -w) transfers at once: $(($(date +%s) - t0)) s)"
  local rc secs verdict size got rt msg
  for combo in $COMBOS; do
    c=${combo%/*} ws=${combo#*/}
    name=$prof.$c.ws$ws
    read -r rc secs <"$OUT/$name.res"
    size=$(stat -c %s "$ROOT/$name")
    got=$(stat -c %s "$OUT/$name" 2>/dev/null || echo missing)
    # the server's retransmissions for this transfer (its "sent" line)
    rt=$(grep "sent '$name'" "$LOG" | grep -o "retransmits=[0-9]*" |
      cut -d= -f2 | awk '{s += $1; n++} END {if (n) print s}')
    # the client's last words (atftp's reason comes before its "aborting")
    msg=$(grep -i "unexpected\|error" "$OUT/$name.msg" | tail -1)
    [ -n "$msg" ] ||
      msg=$(grep -v '^ *$' "$OUT/$name.msg" | grep -v "^Option\|%" | tail -1)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ] || { [ "$c" = curl ] && [ "$rc" = 28 ]; }; then
      verdict=HANG
      HANGS=$((HANGS + 1))
      fail "$prof $c windowsize $ws: still running after its ${BUDGET}s budget"
    elif [ "$rc" = 0 ] && [ -f "$OUT/$name" ] &&
      cmp -s "$ROOT/$name" "$OUT/$name"; then
      verdict=exact
      EXACT=$((EXACT + 1))
      ok
    elif [ "$rc" = 0 ]; then
      verdict=CORRUPT
      CORRUPT=$((CORRUPT + 1))
      fail "$prof $c windowsize $ws: exit 0 but $got bytes differ from the $size sent"
    else
      verdict="error(rc=$rc)"
      ERRORS=$((ERRORS + 1))
      # A clear error is allowed by the contract; which ones are expected is
      # decided below.
      echo "  $prof $c windowsize $ws ended with an error: $msg"
      ERROR_LIST+=("$prof $c $ws: $msg")
    fi
    local kibs=-
    [ "$verdict" = exact ] &&
      kibs=$(awk -v b="$size" -v s="$secs" 'BEGIN {printf "%.0f", (s > 0 ? b / 1024 / s : 0)}')
    printf '  %-8s ws=%-3s %-14s %7.2fs %8s bytes %8s KiB/s  server retransmits=%s\n' \
      "$c" "$ws" "$verdict" "$secs" "$size" "$kibs" "${rt:-none}"
    # Retransmissions stay in proportion: in lock-step only the timer
    # resends (a duplicate ACK answered would double every later packet,
    # RFC 1123 4.2.3.1, the Sorcerer's Apprentice); in a window, an ACK
    # short of the window resends it once per ACK value, so at most about
    # windowsize blocks per block (go-back-N under heavy reordering gets
    # near that: atftp ACKs at once on every out-of-order block).
    local blk=1468 blocks
    [ "$c" = hpa ] && blk=512
    blocks=$((size / blk + 1))
    if [ "$ws" = 1 ] && [ "${rt:-0}" -gt $((blocks / 4 + 10)) ]; then
      fail "$prof $c: $rt retransmissions for $blocks lock-step blocks"
    elif [ "$ws" -gt 1 ] && [ "${rt:-0}" -gt $((blocks * ws + 100)) ]; then
      fail "$prof $c windowsize $ws: $rt retransmissions for $blocks blocks"
    else
      ok
    fi
    # Duplication alone: a correct sender resends one window per duplicate
    # that looks like a loss, a few percent of the blocks. Today a duplicate
    # ACK (or atftp's ACK on a duplicated block) is answered with the next
    # window again, the client ACKs that window's copies at once, and every
    # later window goes out twice: the Sorcerer's Apprentice of RFC 1123
    # 4.2.3.1 with windows (one duplicate at 0.2% sends ~85% of a 4 MiB file
    # twice). Fixed (duplicate ACKs are never answered): a failure now.
    if [ "$prof" = dup ] && [ "$ws" -gt 1 ] && [ "${rt:-0}" -gt $((blocks / 2)) ]; then
      if [ -z "${ALLOW_WINDOW_DUP:-}" ]; then
        fail "dup $c windowsize $ws: $rt retransmissions for $blocks blocks"
      else
        echo "  FINDING: dup atftp windowsize $ws: $rt retransmissions for $blocks blocks (every window after a duplicate sent twice)"
      fi
    fi
    if [ "$verdict" = exact ] && [ "$ws" -gt 1 ]; then
      if grep -q "sent '$name'.*windowsize=$ws " "$LOG"; then
        ok
      elif [ "$prof" = loss ] || [ "$prof" = all ]; then
        # The server logs "sent" when the last block is acknowledged; under
        # loss the client's final ACK can be the packet dropped (a few
        # percent of runs), and atftp has exited by then. The lossless
        # profiles check the line.
        echo "  note: $prof: no 'sent' line for $name (its final ACK was dropped)"
      else
        fail "$prof: atftp asked windowsize $ws, the server did not log it"
      fi
    fi
  done
}
ERROR_LIST=()

PROFILES=${PROFILES:-loss dup reorder all}
for PROFILE in $PROFILES; do
  case $PROFILE in
    loss)
      PROFILE_DESC="3% of UDP packets dropped at each end"
      start_bridge --every=0
      loss "${LOSS_P:-0.03}"
      run_profile loss 262144 2097152
      ;;
    dup)
      PROFILE_DESC="5% of UDP packets duplicated each way (TEE; a GSO window is cloned whole)"
      start_bridge --every=0
      dup "${DUP_P:-0.05}"
      run_profile dup 1048576 4194304
      ;;
    reorder)
      PROFILE_DESC="every 8th UDP frame of each flow sent after the flow's next one (held at most 100 ms)"
      start_bridge --every=8 --hold_ms=100
      run_profile reorder 524288 2097152
      ;;
    all)
      PROFILE_DESC="2% loss, 3% duplication, every 32nd frame of each flow after the flow's next one or 1.2 s late (after the server's retransmission)"
      start_bridge --every=32 --hold_ms=1200
      loss 0.02
      dup 0.03
      run_profile all 262144 1048576
      ;;
    *) fail "unknown profile $PROFILE" ;;
  esac
  clear_faults
  stop_bridge
done

kill -TERM "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
SERVER=""
grep "tftp: stopping" "$LOG" | sed 's/^.*tftp: /server: /'
grep -q "tftp: stopping" "$LOG" && ok || fail "no clean TFTP stop on SIGTERM"
# Known client limitation: atftp 0.8 aborts with "unexpected OACK" when a
# second OACK arrives (duplicated, or resent because the ACK of block 0
# was lost). Any other error is the server's doing, or a client's that
# this test must name.
for e in "${ERROR_LIST[@]}"; do
  case $e in
    *atftp*"unexpected OACK"*) echo "known: $e" ;;
    *) fail "unexpected error: $e" ;;
  esac
done
echo "matrix: $EXACT exact, $ERRORS with an error, $CORRUPT corrupt, $HANGS over budget; run time $(($(date +%s) - T0)) s"
echo "passed $PASSES checks, failed $FAILS"
[ "$FAILS" = 0 ]
