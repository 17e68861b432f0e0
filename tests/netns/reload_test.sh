#!/usr/bin/env bash
# SIGHUP reload against real peers in network namespaces:
#   pxeproxy started with --flagfile and a $NOTIFY_SOCKET (a Python listener
#   standing in for systemd) answers a replayed firmware DISCOVER with the
#   flag file's menu URL and boot file; the flag file changes, SIGHUP, and
#   the same DISCOVERs get the new ones; a flag that needs a restart is named
#   in the log and keeps its value; a broken flag file (and a broken MAC rules
#   file) is refused with a log line and the replies stay; a TFTP transfer
#   held open by a slow client across the reload completes intact; a reload
#   without --menu_url sends iPXE to the embedded menu and TFTP serves it;
#   systemd hears READY=1, STATUS=, RELOADING=1, WATCHDOG=1 and STOPPING=1.
# Usage: reload_test.sh PXEPROXY DHCP_PROBE CAPTURES_DIR
set -u
PXEPROXY=$1 PROBE=$2 CAPS=$3
SERVER=10.77.5.1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: needs root to create network namespaces"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed"; exit 77; }

ns_init pxrl
NS_SRV=$NS_RUN-srv NS_CLI=$NS_RUN-cli
WORK=$(mktemp -d "/tmp/$NS_RUN.XXXXXX")
chmod 755 "$WORK"
cleanup() {
  # shellcheck disable=SC2046
  ns_stop $(jobs -p)
  ns_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# wait_for FILE PATTERN [COUNT]: until PATTERN occurs COUNT times (20 s).
wait_for() {
  local n=${3:-1} c
  for _ in $(seq 200); do
    c=$(grep -c -- "$2" "$1" 2>/dev/null)
    [ "${c:-0}" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}

set -e
for n in $NS_SRV $NS_CLI; do ns_add $n; done
ip -n $NS_SRV link add srv0 type veth peer name cli0 netns $NS_CLI
ip -n $NS_SRV addr add $SERVER/24 dev srv0
ip -n $NS_CLI addr add 10.77.5.2/24 dev cli0
ip -n $NS_SRV link set srv0 up
ip -n $NS_CLI link set cli0 up
set +e

mkdir -p "$WORK/tftp"
head -c 300000 /dev/urandom >"$WORK/tftp/big.bin"
chmod -R a+rX "$WORK/tftp"
cat >"$WORK/pxeproxy.flags" <<EOF
# before the reload
--tftp_root=$WORK/tftp
--menu_url=http://$SERVER/a.ipxe
EOF

# systemd's side of sd_notify: one line per datagram.
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
EOF
for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done

# WATCHDOG_PID must be the daemon's own: the shell that execs it.
ip netns exec $NS_SRV env NOTIFY_SOCKET="$WORK/notify.sock" \
  WATCHDOG_USEC=4000000 sh -c 'WATCHDOG_PID=$$ exec "$@"' sh \
  "$PXEPROXY" --flagfile="$WORK/pxeproxy.flags" --user=nobody srv0 \
  >"$WORK/pxeproxy.log" 2>&1 &
PXE_PID=$!
if ! wait_for "$WORK/pxeproxy.log" "ready"; then
  cat "$WORK/pxeproxy.log"; echo "FAIL: pxeproxy did not start"; exit 1
fi

probe() {  # name, probe args...
  local name=$1; shift
  if ip netns exec $NS_CLI "$PROBE" cli0 "$@" >"$WORK/probe.out" 2>&1; then
    pass "$name"
  else
    fail "$name"; cat "$WORK/probe.out"
  fi
}
EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap

if wait_for "$WORK/notify.log" "READY=1 | STATUS=serving srv0"; then
  pass "READY=1 with STATUS= sent ($(grep -m1 READY "$WORK/notify.log"))"
else
  fail "no READY=1"; cat "$WORK/notify.log"
fi
if wait_for "$WORK/notify.log" "^WATCHDOG=1"; then
  pass "the watchdog is fed while both loops run"
else
  fail "no WATCHDOG=1 within 20 s (WATCHDOG_USEC=4 s)"
fi

probe "before: iPXE gets a.ipxe" $EDK2 264 $SERVER http://$SERVER/a.ipxe
probe "before: EDK2 gets snponly.efi" $EDK2 8 $SERVER snponly.efi

# A transfer in flight: the client holds it after block 3 until GO.
ip netns exec $NS_CLI python3 "$HERE/slow_tftp_get.py" $SERVER big.bin \
  "$WORK/got.bin" "$WORK/progress" "$WORK/go" >"$WORK/slow.out" 2>&1 &
SLOW_PID=$!
wait_for "$WORK/progress" "3" || fail "the slow TFTP client got no block 3"

cat >"$WORK/pxeproxy.flags" <<EOF
# after the reload
--tftp_root=$WORK/tftp
--menu_url=http://$SERVER/b.ipxe
--boot_file_efi_x64=ipxe.efi
--tftp_port=6969
EOF
kill -HUP $PXE_PID
if wait_for "$WORK/pxeproxy.log" "reload: now in effect"; then
  pass "reloaded: $(grep -m1 'reload: now in effect' "$WORK/pxeproxy.log" | sed 's/.*reload/reload/')"
else
  fail "no reload line"; cat "$WORK/pxeproxy.log"
fi
in_flight_at_reload=0
kill -0 $SLOW_PID 2>/dev/null && [ ! -e "$WORK/go" ] && in_flight_at_reload=1
touch "$WORK/go"
if grep -q -- "--tftp_port changed, which needs a restart" "$WORK/pxeproxy.log"; then
  pass "--tftp_port named as needing a restart"
else
  fail "--tftp_port not named"
fi
probe "after: iPXE gets b.ipxe" $EDK2 264 $SERVER http://$SERVER/b.ipxe
probe "after: EDK2 gets ipxe.efi" $EDK2 8 $SERVER ipxe.efi
if wait_for "$WORK/notify.log" "^RELOADING=1" &&
   [ "$(grep -c 'READY=1' "$WORK/notify.log")" -ge 2 ]; then
  pass "RELOADING=1, then READY=1 again"
else
  fail "no RELOADING=1/READY=1 pair"; cat "$WORK/notify.log"
fi

wait $SLOW_PID
slow_rc=$?
if [ $slow_rc -eq 0 ] && [ $in_flight_at_reload -eq 1 ] &&
   cmp -s "$WORK/got.bin" "$WORK/tftp/big.bin"; then
  pass "the transfer in flight across the reload completed intact ($(cat "$WORK/slow.out"))"
else
  fail "transfer across the reload: rc=$slow_rc in_flight=$in_flight_at_reload"
  cat "$WORK/slow.out"
fi

# A broken flag file: refused, the running configuration stays.
cat >"$WORK/pxeproxy.flags" <<EOF
--tftp_root=$WORK/tftp
--menu_url=http://$SERVER/c.ipxe
--tftp_max_blksize=1
EOF
kill -HUP $PXE_PID
if wait_for "$WORK/pxeproxy.log" "reload refused: --tftp_max_blksize='1'"; then
  pass "broken flag file refused: $(grep -m1 'reload refused' "$WORK/pxeproxy.log" | sed 's/.*reload refused/reload refused/')"
else
  fail "no refusal line"; cat "$WORK/pxeproxy.log"
fi
probe "after the refused reload: still b.ipxe" $EDK2 264 $SERVER http://$SERVER/b.ipxe
if wait_for "$WORK/notify.log" "STATUS=reload refused"; then
  pass "STATUS= says the reload was refused"
else
  fail "STATUS= does not say so"
fi

# A broken MAC rules file is refused the same way.
echo "zz:zz boot_file=x.efi" >"$WORK/rules"
cat >"$WORK/pxeproxy.flags" <<EOF
--tftp_root=$WORK/tftp
--menu_url=http://$SERVER/c.ipxe
--mac_rules_file=$WORK/rules
EOF
kill -HUP $PXE_PID
if wait_for "$WORK/pxeproxy.log" "reload refused: $WORK/rules:1"; then
  pass "broken MAC rules file refused"
else
  fail "broken MAC rules file not refused"; tail -5 "$WORK/pxeproxy.log"
fi
probe "still b.ipxe" $EDK2 264 $SERVER http://$SERVER/b.ipxe

# Without --menu_url: iPXE is sent to the embedded menu, which the TFTP
# server serves from then on.
printf -- '--tftp_root=%s\n' "$WORK/tftp" >"$WORK/pxeproxy.flags"
kill -HUP $PXE_PID
wait_for "$WORK/pxeproxy.log" "reload: now in effect: .*--menu_url" 2 ||
  fail "no reload to the embedded menu"
probe "after a reload without --menu_url: the embedded menu" \
  $EDK2 264 $SERVER tftp://$SERVER/pxeproxy-menu.ipxe
if ip netns exec $NS_CLI python3 "$HERE/slow_tftp_get.py" $SERVER \
     pxeproxy-menu.ipxe "$WORK/menu.ipxe" "$WORK/progress2" "$WORK/go" 999 \
     >"$WORK/menu.out" 2>&1 && grep -q '^#!ipxe' "$WORK/menu.ipxe"; then
  pass "the TFTP server now serves the embedded menu ($(cat "$WORK/menu.out"))"
else
  fail "no embedded menu over TFTP"; cat "$WORK/menu.out"
fi

kill -TERM $PXE_PID
wait $PXE_PID
rc=$?
if [ $rc -eq 0 ] && grep -q "stopping: received=" "$WORK/pxeproxy.log"; then
  pass "SIGTERM: clean exit 0"
else
  fail "exit status $rc"; tail -5 "$WORK/pxeproxy.log"
fi
grep -q "STOPPING=1" "$WORK/notify.log" && pass "STOPPING=1 sent" || fail "no STOPPING=1"

if [ $FAILS -gt 0 ]; then
  echo "--- pxeproxy log"; cat "$WORK/pxeproxy.log"
  echo "--- notify"; cat "$WORK/notify.log"
  echo "FAILED: $FAILS"; exit 1
fi
echo "OK: reload"
