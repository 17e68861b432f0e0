#!/usr/bin/env bash
# Namespace test of --metrics_address and the boot log against real peers:
# pxeproxy serves srv0 in one namespace with /metrics on its namespace
# address; from a client namespace, real firmware packets (dhcp_probe: an
# EDK2 DISCOVER, its port 4011 REQUEST, then iPXE's DISCOVER; a UEFI HTTP
# Boot DISCOVER) and a real TFTP client (curl) walk one machine to the menu
# and leave another stalled. curl scrapes /metrics before and after: every
# counter the boot touches moved by exactly what was sent; the log has the
# boot line and the stall line with --diagnose's stage names; promtool
# (Debian package prometheus) accepts the exposition; the HTTP thread holds
# no capability beyond CAP_NET_RAW, like the serving threads.
# Usage: metrics_test.sh PXEPROXY DHCP_PROBE CAPTURES_DIR
set -u
PXEPROXY=$1 PROBE=$2 CAPS=$3
SERVER=10.77.3.1 CLIENT=10.77.3.200 PORT=9467
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ns_require_root
ns_require ip curl

ns_init pxmt
NS_SRV=$NS_RUN-srv NS_CLI=$NS_RUN-cli
ns_workdir
ns_trap_cleanup

set -e
ns_add $NS_SRV
ns_add $NS_CLI
ns_pair $NS_SRV $NS_CLI srv0 cli0 $SERVER/24 $CLIENT/24
set +e

mkdir -p $WORK/tftp
head -c 150000 /dev/urandom >$WORK/tftp/snponly.efi
chmod -R a+rX $WORK
ns_start $NS_SRV $WORK/pxeproxy.log "ready" "$PXEPROXY" --user=nobody \
  --tftp_root=$WORK/tftp --menu_url=http://$SERVER/menu.ipxe \
  --http_boot_url=http://$SERVER/ipxe.efi \
  --metrics_address=$SERVER:$PORT --boot_stall_seconds=5 srv0
PXE_PID=$NS_PID

scrape() {  # FILE: /metrics from the client namespace, over the veth
  ip netns exec $NS_CLI curl -sf --max-time 5 http://$SERVER:$PORT/metrics \
    >"$1"
}
# value FILE SERIES: the sample of one series (0 when absent).
value() {
  awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}
# moved NAME SERIES DELTA: the series grew by exactly DELTA between scrapes.
moved() {
  local before after
  before=$(value $WORK/before.txt "$2")
  after=$(value $WORK/after.txt "$2")
  if [ "$(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')" = "$3" ]; then
    pass "$1 ($2: $before -> $after)"
  else
    fail "$1 ($2: $before -> $after, want +$3)"
  fi
}

if scrape $WORK/before.txt && grep -q '^pxeproxy_build_info{version="' $WORK/before.txt; then
  pass "/metrics answers from the client namespace"
else
  fail "/metrics does not answer"; cat $WORK/before.txt
fi

EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap
HTTPB=$CAPS/ovmf-uefi-http-boot.pcap
# One machine (52:54:00:e2:e0:01) to the menu: offer, 4011, TFTP, iPXE.
probe "EDK2 DISCOVER gets snponly.efi" $EDK2 8 $SERVER snponly.efi --wait_ms=800
probe "a REQUEST on port 67 gets nothing" $EDK2 14 $SERVER none --wait_ms=800
probe "EDK2 REQUEST on 4011 gets an ACK" $EDK2 18 $SERVER snponly.efi \
  --binl_from=$CLIENT --wait_ms=800
if ip netns exec $NS_CLI curl -sf --max-time 20 tftp://$SERVER/snponly.efi \
     -o $WORK/got.efi && cmp -s $WORK/got.efi $WORK/tftp/snponly.efi; then
  pass "curl downloads snponly.efi over TFTP"
else
  fail "curl could not download snponly.efi"
fi
ip netns exec $NS_CLI curl -s --max-time 5 tftp://$SERVER/missing.efi \
  -o /dev/null
probe "iPXE's DISCOVER gets the menu" $EDK2 264 $SERVER \
  http://$SERVER/menu.ipxe --wait_ms=800
# Another machine (52:54:00:e2:e0:04) offered HTTP Boot, never heard again.
probe "HTTP Boot DISCOVER gets the URL" $HTTPB 9 $SERVER \
  http://$SERVER/ipxe.efi --wait_ms=800

# --- the boot log ---
BOOT_RE='boot mac=52:54:00:e2:e0:01 arch=efi-x64\(7\) offer \+0\.0s, 4011 \+[0-9.]+s, snponly\.efi 150000 B in [0-9]+ ms, iPXE menu \+[0-9.]+s'
if grep -Eq "$BOOT_RE" $WORK/pxeproxy.log; then
  pass "boot line: $(grep -Eo 'boot mac=52:54:00:e2:e0:01.*' $WORK/pxeproxy.log | head -1)"
else
  fail "no boot line matching $BOOT_RE"
fi
STALL='boot stalled mac=52:54:00:e2:e0:04 arch=http-x64 stage=offered'
if wait_for_log $WORK/pxeproxy.log "$STALL" 15; then
  pass "stall line: $(grep -o 'boot stalled mac=52:54:00:e2:e0:04.*' $WORK/pxeproxy.log)"
else
  fail "no stall line for the HTTP Boot client"
fi

# --- the counters moved by what was sent ---
scrape $WORK/after.txt || fail "second scrape"
R=pxeproxy_dhcp_replies_total
moved "the EDK2 offer" "$R{type=\"offer\",arch=\"efi_x64\",kind=\"pxe\"}" 1
moved "the 4011 ACK" "$R{type=\"ack\",arch=\"efi_x64\",kind=\"pxe\"}" 1
moved "the menu offer to iPXE" "$R{type=\"offer\",arch=\"efi_x64\",kind=\"ipxe\"}" 1
moved "the HTTP Boot offer" "$R{type=\"offer\",arch=\"efi_x64\",kind=\"httpboot\"}" 1
moved "replies to BIOS: none" "$R{type=\"offer\",arch=\"bios\",kind=\"pxe\"}" 0
moved "the REQUEST on 67 ignored" 'pxeproxy_dhcp_ignored_total{reason="request_on_port_67"}' 1
moved "frames received" pxeproxy_dhcp_received_total 5
moved "reply latencies observed" pxeproxy_dhcp_reply_latency_seconds_count 4
moved "transfer started" pxeproxy_tftp_transfers_started_total 1
moved "transfer completed" pxeproxy_tftp_transfers_completed_total 1
moved "its duration observed" pxeproxy_tftp_transfer_duration_seconds_count 1
moved "the missing file refused" 'pxeproxy_tftp_ignored_total{reason="not_found"}' 1
moved "no transfer in flight" pxeproxy_tftp_transfers_in_flight 0
moved "stage offered (EDK2, HTTP Boot)" 'pxeproxy_boot_stage_total{stage="offered"}' 2
moved "stage binl" 'pxeproxy_boot_stage_total{stage="binl"}' 1
moved "stage boot_file" 'pxeproxy_boot_stage_total{stage="boot_file"}' 1
moved "stage menu_offered" 'pxeproxy_boot_stage_total{stage="menu_offered"}' 1
# At least the HTTP Boot client's (a loaded machine may also see the EDK2
# boot pause for 5 s between steps: no timing assertion).
stalls=$(value $WORK/after.txt pxeproxy_boot_stalls_total)
[ "$stalls" -ge 1 ] && pass "stalls counted: $stalls" ||
  fail "pxeproxy_boot_stalls_total is $stalls"
sent=$(value $WORK/after.txt pxeproxy_tftp_sent_bytes_total)
if [ "$sent" -ge 150000 ]; then
  pass "TFTP bytes sent: $sent (the file is 150000)"
else
  fail "TFTP bytes sent: $sent, want at least 150000"
fi

# --- the exposition format ---
if command -v promtool >/dev/null; then
  if promtool check metrics <$WORK/after.txt >$WORK/promtool.out 2>&1; then
    pass "promtool check metrics accepts the exposition"
  else
    fail "promtool check metrics:"; cat $WORK/promtool.out
  fi
else
  echo "SKIP: promtool check metrics (promtool is not installed: Debian package prometheus)"
fi
ctype=$(ip netns exec $NS_CLI curl -s -o /dev/null -w '%{content_type}' \
  http://$SERVER:$PORT/metrics)
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] &&
  pass "Content-Type: $ctype" || fail "Content-Type: $ctype"
code=$(ip netns exec $NS_CLI curl -s -o /dev/null -w '%{http_code}' -X POST \
  http://$SERVER:$PORT/metrics)
[ "$code" = 405 ] && pass "POST /metrics: 405" || fail "POST /metrics: $code"
code=$(ip netns exec $NS_CLI curl -s -o /dev/null -w '%{http_code}' \
  http://$SERVER:$PORT/nope)
[ "$code" = 404 ] && pass "GET /nope: 404" || fail "GET /nope: $code"

# --- privileges: every thread, the HTTP one included, dropped root ---
bad=0
for st in /proc/$PXE_PID/task/*/status; do
  uid=$(awk '/^Uid:/ { print $3 }' "$st")
  cap=$(awk '/^CapEff:/ { print $2 }' "$st")
  if [ "$uid" = 0 ] || [ "$cap" != 0000000000002000 ]; then
    bad=1; echo "  $(awk '/^Name:/ { print $2 }' "$st"): uid=$uid CapEff=$cap"
  fi
done
ntask=$(ls /proc/$PXE_PID/task | wc -l)
[ "$bad" = 0 ] && pass "all $ntask threads run as nobody with CapEff=cap_net_raw" ||
  fail "a thread kept privileges"

ns_stop $PXE_PID
if grep -q "stopping:" $WORK/pxeproxy.log; then
  pass "pxeproxy stopped cleanly"
else
  fail "pxeproxy did not log its stop"; tail -5 $WORK/pxeproxy.log
fi
if [ $FAILS -ne 0 ]; then
  echo "--- pxeproxy log"; cat $WORK/pxeproxy.log
  echo "FAILED: $FAILS"; exit 1
fi
echo "PASSED"
