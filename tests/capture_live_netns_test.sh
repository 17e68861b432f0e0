#!/usr/bin/env bash
# Live test of `pxeproxy --diagnose IFACE`: in a namespace of its own, a veth
# pair (10.77.6.0/24); one real boot (SeaBIOS + iPXE, reaches the menu) and one
# broken scenario (4011 unanswered) are replayed into one end while pxeproxy
# watches the other. The live report must name both, and the capture saved
# with --diagnose_write must read back offline to the same summary.
# The namespace is named per run (tests/netns/lib.sh): runs at once do not
# meet.
# Usage: capture_live_netns_test.sh PXEPROXY CAPTURE_REPLAY SOURCE_DIR
set -u
PXEPROXY=$1 REPLAY=$2 SRC=$3
# shellcheck source-path=SCRIPTDIR source=netns/lib.sh
. "$(dirname "$0")/netns/lib.sh"

ns_require_root "needs root to create a network namespace"
ns_require ip

ns_init pxd
NS=$NS_RUN-diag
ns_workdir
WATCH_PID=
ns_trap_cleanup

set -e
ns_add $NS
ns_pair $NS $NS pxd-watch pxd-wire 10.77.6.1/24 10.77.6.2/24
set +e

ip netns exec $NS "$PXEPROXY" --diagnose pxd-watch --diagnose_seconds=6 \
  --diagnose_write=$WORK/seen.pcap \
  --menu_url=http://10.231.0.1:8080/menu.ipxe \
  >$WORK/report.txt 2>$WORK/stderr.txt &
WATCH_PID=$!
wait_for_log $WORK/stderr.txt watching
ip netns exec $NS "$REPLAY" pxd-wire \
  "$SRC/tests/fixtures/captures/seabios-ipxe-rom.pcap" 5
ip netns exec $NS "$REPLAY" pxd-wire \
  "$SRC/tests/fixtures/diagnose/binl-unanswered.pcap" 5
wait $WATCH_PID
RC=$?
WATCH_PID=

check() {  # check DESCRIPTION PATTERN FILE
  if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1 (no '$2' in $3)"; fi
}
[ $RC -eq 0 ] && pass "exit code 0" || fail "exit code $RC"
check "watch line names the interface and its address" \
  "watching pxd-watch (10.77.6.1)" $WORK/stderr.txt
check "the live feed shows events as they come" \
  "52:54:00:e2:e0:01  #[0-9]*  4011 REQUEST" $WORK/stderr.txt
check "the iPXE client reached the menu" \
  "reached the menu http://10.231.0.1:8080/menu.ipxe" $WORK/report.txt
check "the EDK2 client is stuck at 4011" "error binl_unanswered" \
  $WORK/report.txt
check "summary" \
  "summary: 2 clients: 1 reached the menu, 1 stopped at address (binl_unanswered)" \
  $WORK/report.txt
"$PXEPROXY" --diagnose $WORK/seen.pcap --diagnose_format=json \
  --menu_url=http://10.231.0.1:8080/menu.ipxe >$WORK/offline.jsonl
check "the saved capture reads back offline" \
  '"type":"summary".*"clients":2,"reached_menu":1' $WORK/offline.jsonl
if [ $FAILS -ne 0 ]; then
  echo "--- stderr"; cat $WORK/stderr.txt; echo "--- report"; cat $WORK/report.txt
  exit 1
fi
exit 0
