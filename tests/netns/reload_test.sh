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
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

ns_require_root
ns_require python3

ns_init pxrl
NS_SRV=$NS_RUN-srv NS_CLI=$NS_RUN-cli
ns_workdir
chmod 755 "$WORK"
ns_trap_cleanup
# wait_for FILE PATTERN [COUNT]: until PATTERN occurs COUNT times (20 s).
wait_for() { wait_for_log "$1" "$2" 20 "${3:-1}"; }

set -e
for n in $NS_SRV $NS_CLI; do ns_add $n; done
ns_pair $NS_SRV $NS_CLI srv0 cli0 $SERVER/24 10.77.5.2/24
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
ns_start $NS_SRV "$WORK/pxeproxy.log" "ready" \
  env NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=4000000 \
  sh -c 'WATCHDOG_PID=$$ exec "$@"' sh \
  "$PXEPROXY" --flagfile="$WORK/pxeproxy.flags" --user=nobody srv0
PXE_PID=$NS_PID

EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap
# reload_expect PATTERN WHAT FAILURE: SIGHUP, then PATTERN in the log within
# 20 s: PASS "WHAT: <the line from PATTERN on>", else FAIL and the log.
reload_expect() {
  kill -HUP $PXE_PID
  if wait_for "$WORK/pxeproxy.log" "$1"; then
    pass "$2: $(grep -m1 -o -- "$1.*" "$WORK/pxeproxy.log")"
  else
    fail "$3"; cat "$WORK/pxeproxy.log"
  fi
}

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
reload_expect "reload: now in effect" "reloaded" "no reload line"
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
reload_expect "reload refused: --tftp_max_blksize='1'" \
  "broken flag file refused" "no refusal line"
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
reload_expect "reload refused: $WORK/rules:1" \
  "broken MAC rules file refused" "broken MAC rules file not refused"
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
