#!/usr/bin/env bash
# The TFTP side of "hostile LAN" on a real wire, in network
# namespaces: a host flooding RRQs (timeout=255) does not keep another host
# from being served at once (--tftp_max_sessions_per_host); port 69 answers
# only on the served interface unless --tftp_listen_all; and the
# amplification factor (IP bytes sent to a victim per IP byte the attacker
# sent) of a spoofed RRQ plus blind ACKs, measured in both modes, stays under
# a bound. Real clients still download exactly in single-port mode with
# windowsize 4 (what EDK2 asks).
#
# Usage: tftp_hostile_test.sh PXEPROXY_BINARY
# SECTIONS="cap iface amp single" (the default) picks parts, e.g. to measure
# the amplification of an older binary alone.
# Needs root; prints "SKIPPED: reason" and exits 77 otherwise. Prints the
# measured factors ("amplification ...: N.Nx").
set -uo pipefail

PXEPROXY=${1:?usage: $0 PXEPROXY_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
SPOOF=$HERE/tftp_spoof.py
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
ns_require_root "needs root for network namespaces"
ns_require ip curl atftp python3 iptables sha256sum

ns_init pxth
S=$NS_RUN-s C=$NS_RUN-c VS=pxh$$a VC=pxh$$b VS2=pxh$$x VC2=pxh$$y
SIP=10.79.1.1 CIP=10.79.1.2 CIP2=10.79.1.3 OSIP=10.79.2.1 OCIP=10.79.2.2
ns_workdir
ROOT=$WORK/root OUT=$WORK/out
PIDS=()  # the servers (stop_server: the newest) and the flood
ns_trap_cleanup

ns_add "$S" 2>/dev/null || ns_skip "cannot create network namespaces"
ns_add "$C"
ns_pair "$S" "$C" "$VS" "$VC" "$SIP/24" "$CIP/24" ||
  ns_skip "cannot create a veth pair"
ip -n "$C" addr add "$CIP2/24" dev "$VC"
ns_pair "$S" "$C" "$VS2" "$VC2" "$OSIP/24" "$OCIP/24"
inc() { ip netns exec "$C" "$@"; }
ins() { ip netns exec "$S" "$@"; }

mkdir -p "$ROOT" "$OUT"
head -c 41943040 /dev/urandom >"$ROOT/f40M"
head -c 1048576 /dev/urandom >"$ROOT/f1M"
head -c 513 /dev/urandom >"$ROOT/f513"

start_server() {  # start_server LOG ARGS...
  local log=$1
  shift
  # ip netns exec execs the binary: $! is pxeproxy itself (a shell
  # function here would leave it running when the subshell is killed).
  ns_start "$S" "$log" "tftp: serving" "$PXEPROXY" --user= --v=1 \
    --menu_url=http://x/ "$@" "$VS"
  PIDS+=("$NS_PID")
}
stop_server() {  # stop_server LOG: SIGTERM the newest server, wait for its line
  local pid=${PIDS[-1]}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset 'PIDS[-1]'
  grep "tftp: stopping" "$1"
}
# counter LOG SECTION NAME: a refused:/dropped: count from the stop line
counter() {
  grep "tftp: stopping" "$1" | sed -n "s/.* $2:\(.*\)/\1/p" |
    grep -o "$3=[0-9]*" | head -1 | cut -d= -f2
}

SECTIONS=${SECTIONS:-cap iface amp single}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

if want cap; then
echo "== per-host cap: one host floods 300 RRQs (timeout=255), another is served"
LOG=$WORK/cap.log
start_server "$LOG" --tftp_root="$ROOT" --tftp_max_sessions=100
cat >"$WORK/flood.py" <<PY
import socket, time
socks = []
for i in range(300):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("$CIP", 0))
    s.sendto(b"\x00\x01f40M\x00octet\x00timeout\x00255\x00", ("$SIP", 69))
    socks.append(s)
print("flooded", flush=True)
time.sleep(120)  # hold the ports: the server's answers find them open
PY
ip netns exec "$C" python3 "$WORK/flood.py" >"$WORK/flood.out" 2>&1 &
PIDS+=($!)
FLOOD=${PIDS[-1]}
wait_for_log "$WORK/flood.out" flooded 10
sleep 1  # the server reads the whole burst
inc curl -sS --max-time 20 --interface "$CIP2" "tftp://$SIP/f1M" \
  >"$OUT/other" 2>"$WORK/curl.err"
same "another host during the flood" "$ROOT/f1M" "$OUT/other"
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null
unset 'PIDS[-1]' 
stop_server "$LOG" >/dev/null
n=$(counter "$LOG" dropped max_sessions_per_host)
[ "${n:-0}" = 268 ] && ok || fail "max_sessions_per_host drops: '${n:-}', want 268"

fi

if want iface; then
echo "== port 69 answers on the served interface only"
LOG=$WORK/iface.log
start_server "$LOG" --tftp_root="$ROOT"
inc curl -sS --max-time 8 "tftp://$OSIP/f513" >"$OUT/unserved" 2>/dev/null &&
  fail "answered on an interface not served" || ok
inc curl -sS --max-time 20 "tftp://$SIP/f513" >"$OUT/served" 2>/dev/null
same "served interface" "$ROOT/f513" "$OUT/served"
stop_server "$LOG" >/dev/null
n=$(counter "$LOG" dropped not_served_interface)
[ "${n:-0}" -ge 1 ] && ok || fail "no not_served_interface drop counted"
LOG=$WORK/all.log
start_server "$LOG" --tftp_root="$ROOT" --tftp_listen_all
inc curl -sS --max-time 20 "tftp://$OSIP/f513" >"$OUT/all" 2>/dev/null
same "--tftp_listen_all" "$ROOT/f513" "$OUT/all"
stop_server "$LOG" >/dev/null

fi

if want amp; then
echo "== amplification: spoofed RRQ + blind ACKs, IP bytes to the victim per byte in"
# Victims: addresses nobody has, whose frames the server sends to C (a
# static neighbour entry), where nothing answers. Each scenario has its own
# victim and iptables counters in the server's namespace.
MAC=$(ip -n "$C" -o link show "$VC" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
ins iptables -N PXTIN 2>/dev/null
ins iptables -N PXTOUT 2>/dev/null
ins iptables -I INPUT -j PXTIN
ins iptables -I OUTPUT -j PXTOUT
victim() {  # victim N: set up 10.79.1.(100+N)
  local v=10.79.1.$((100 + $1))
  ins ip neigh replace "$v" lladdr "$MAC" dev "$VS" nud permanent
  ins iptables -A PXTIN -s "$v" -p udp
  ins iptables -A PXTOUT -d "$v" -p udp
  echo "$v"
}
bytes() {  # bytes CHAIN ADDR
  ins iptables -nvxL "$1" | awk -v a="$2" '$7 == a || $8 == a {print $2}' | head -1
}
# attack N PORT WINDOW ACKS OPTIONS...: one spoofed transfer, in background
attack() {
  local v
  v=$(victim "$1")
  local port=$2 window=$3 acks=$4
  shift 4
  ip netns exec "$C" python3 "$SPOOF" "$v" 40000 "$SIP" "$port" f40M \
    "$acks" "$window" 5 "$@" >/dev/null &
  SPOOFERS+=($!)
}
factor() {  # factor N: out/in for victim N
  local v=10.79.1.$((100 + $1)) in out
  in=$(bytes PXTIN "$v")
  out=$(bytes PXTOUT "$v")
  awk -v i="${in:-0}" -v o="${out:-0}" 'BEGIN {printf "%.1f", i ? o / i : 0}'
}
SPOOFERS=()
start_server "$WORK/amp.log" --tftp_root="$ROOT"
start_server "$WORK/amp1.log" --tftp_root="$ROOT" --tftp_port=6969 \
  --tftp_single_port
# Default mode: the TID is a fresh port the attacker cannot see, so blind
# ACKs can only go to port 69.
attack 1 69 1 0
attack 2 69 64 200 blksize=1468 windowsize=64
# Single-port mode: blind ACKs reach the transfer. The attacker ACKs each
# window it expects: 64 if the server grants it, 4 if capped.
attack 3 6969 1 200
attack 4 6969 64 200 blksize=1468 windowsize=64
attack 5 6969 4 200 blksize=1468 windowsize=64
# One blind ACK 0, then silence: the server's own retransmissions.
attack 6 6969 64 1 blksize=1468 windowsize=64
for p in "${SPOOFERS[@]}"; do wait "$p"; done
# Every retransmission counts: wait until the spoofed transfers gave up,
# that is until nothing went to any victim for 10 s (retransmissions are at
# most 8 s apart).
last="" still=0
for _ in $(seq 120); do
  now=$(ins iptables -nvxL PXTOUT | awk 'NR > 2 {s += $2} END {print s}')
  if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; fi
  last=$now
  [ "$still" -ge 10 ] && break
  sleep 1
done
F1=$(factor 1) F2=$(factor 2) F3=$(factor 3) F4=$(factor 4) F5=$(factor 5)
F6=$(factor 6)
echo "amplification default mode, RRQ alone: ${F1}x"
echo "amplification default mode, RRQ blksize 1468 windowsize 64 + 200 blind ACKs to port 69: ${F2}x"
echo "amplification single-port, RRQ + 200 blind lock-step ACKs: ${F3}x"
echo "amplification single-port, RRQ windowsize 64 + 200 blind ACKs per 64 blocks: ${F4}x"
echo "amplification single-port, RRQ windowsize 64 + 200 blind ACKs per 4 blocks: ${F5}x"
echo "amplification single-port, RRQ windowsize 64 + one blind ACK 0, then retransmissions: ${F6}x"
under() { awk -v f="$1" -v m="$2" 'BEGIN {exit !(f <= m)}'; }
under "$F1" 30 && ok || fail "default mode RRQ factor ${F1}x > 30x"
under "$F2" 30 && ok || fail "default mode blind ACK factor ${F2}x > 30x"
for f in "$F3" "$F4" "$F5" "$F6"; do
  under "$f" 250 && ok || fail "single-port factor ${f}x > 250x"
done
stop_server "$WORK/amp1.log" >/dev/null
stop_server "$WORK/amp.log" >/dev/null
ins iptables -D INPUT -j PXTIN
ins iptables -D OUTPUT -j PXTOUT

fi

if want single; then
echo "== real clients in single-port mode still download exactly"
start_server "$WORK/sp.log" --tftp_root="$ROOT" --tftp_port=6969 \
  --tftp_single_port
inc timeout 60 atftp --get -r f1M -l "$OUT/sp.atftp" --option "blksize 1468" \
  --option "windowsize 4" "$SIP" 6969 >/dev/null 2>&1
same "atftp windowsize 4, single port" "$ROOT/f1M" "$OUT/sp.atftp"
inc curl -sS --max-time 60 "tftp://$SIP:6969/f1M" >"$OUT/sp.curl" 2>/dev/null
same "curl, single port" "$ROOT/f1M" "$OUT/sp.curl"
grep -q "sent 'f1M'.*windowsize=4" "$WORK/sp.log" && ok ||
  fail "no windowsize 4 transfer logged"
stop_server "$WORK/sp.log" >/dev/null
fi

echo "passed $PASSES checks, failed $FAILS"
[ "$FAILS" = 0 ]
