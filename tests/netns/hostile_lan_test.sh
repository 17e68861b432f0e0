#!/usr/bin/env bash
# Hostile LAN, proxyDHCP side, against the real daemon: a second
# host on the segment forges frames (tests/tools/frame_inject) and pxeproxy
# must refuse them, count them, and log each reason once, while real clients
# are still answered. Each check failed on the code before Decide.
#   - reflection: a 4011 REQUEST "from" 127.0.0.1:5514, from our own address,
#     from broadcast/multicast/0.0.0.0/240.0.0.1; a relay giaddr of
#     127.0.0.1, ours, multicast, broadcast; a source routed via another
#     interface (reverse path)
#   - checksums: a corrupted DISCOVER is not answered with its corrupted MAC;
#     UDP checksum 0 (a Raspberry Pi ROM) still is
#   - reply size: 960 bytes of option 97 do not grow the OFFER past 576
#   - netlink overflow: 20,000 address events while the daemon is stopped,
#     then the next OFFER carries the current address, and one log line
#   - log floods: 2000 hostile frames, a handful of log lines, exact counters
#   - several addresses: a broadcast DISCOVER is answered from the address
#     on the client's subnet
# Usage: hostile_lan_test.sh PXEPROXY FRAME_INJECT DHCP_PROBE CAPTURES_DIR
set -u
PXEPROXY=$1 INJECT=$2 PROBE=$3 CAPS=$4
EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap
SERVER=10.77.2.1

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ns_require_root
ns_require ip tcpdump

# Names unique per run: two runs at once must not collide.
ns_init pxh
NS_SRV=$NS_RUN-srv NS_CLI=$NS_RUN-cli
ns_workdir
ns_trap_cleanup  # a daemon left stopped (kill -STOP) is continued

set -e
ns_add $NS_SRV; ns_add $NS_CLI
ns_pair $NS_SRV $NS_CLI srv0 cli0 $SERVER/24 10.77.2.50/24
# A second interface on the server, for the reverse-path check.
ip -n $NS_SRV link add dum0 type veth peer name dum1  # no dummy module here
ip -n $NS_SRV addr add 10.88.0.1/24 dev dum0
ip -n $NS_SRV link set dum0 up
set +e
SRV_MAC=$(ip -n $NS_SRV -o link show srv0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)

mkdir -p $WORK/tftp
ns_start $NS_SRV $WORK/pxeproxy.log "ready" "$PXEPROXY" --user=nobody \
  --tftp=false --menu_url=http://$SERVER/menu.ipxe srv0
PXE_PID=$NS_PID

# Everything that reaches the server's loopback: a reply reflected into this
# host's own services would show here.
ip netns exec $NS_SRV tcpdump -i lo -n -U -w $WORK/lo.pcap udp >/dev/null 2>$WORK/lo.err &
LO_PID=$!
wait_for_log $WORK/lo.err listening

inject() {  # frame, options... ; prints the tool's summary line
  ip netns exec $NS_CLI "$INJECT" cli0 $EDK2 "$@" 2>&1 | tail -1
}
expect_refused() {  # description, frame, options...
  local what=$1; shift
  local out
  out=$(inject "$@" --listen_ms=600)
  if echo "$out" | grep -q "replies=0"; then
    pass "$what: no reply ($out)"
  else
    fail "$what: $out"
  fi
}
# Frame 18 is EDK2's 4011 REQUEST (10.231.0.141 -> proxy:4011), frame 8 its
# DISCOVER: re-addressed to this segment.
BINL=(18 --dst="$SERVER" --dst_mac="$SRV_MAC" --ciaddr=10.77.2.50)

# --- 1. reflection into the server host, and martian sources ---
expect_refused "4011 REQUEST from 127.0.0.1:5514" "${BINL[@]}" --src=127.0.0.1 --sport=5514
expect_refused "4011 REQUEST from our own address" "${BINL[@]}" --src=$SERVER
expect_refused "4011 REQUEST from our other interface's address" "${BINL[@]}" --src=10.88.0.1
expect_refused "4011 REQUEST from 255.255.255.255" "${BINL[@]}" --src=255.255.255.255
expect_refused "4011 REQUEST from multicast 224.0.0.251" "${BINL[@]}" --src=224.0.0.251
expect_refused "4011 REQUEST from 0.0.0.0" "${BINL[@]}" --src=0.0.0.0
expect_refused "4011 REQUEST from 240.0.0.1" "${BINL[@]}" --src=240.0.0.1
expect_refused "4011 REQUEST from 10.88.0.9 (routes back via dum0)" "${BINL[@]}" --src=10.88.0.9
expect_refused "DISCOVER relayed with giaddr 127.0.0.1" 8 --giaddr=127.0.0.1
expect_refused "DISCOVER relayed with giaddr = our address" 8 --giaddr=$SERVER
expect_refused "DISCOVER relayed with giaddr 224.0.0.1" 8 --giaddr=224.0.0.1
expect_refused "DISCOVER relayed with giaddr 255.255.255.255" 8 --giaddr=255.255.255.255
expect_refused "DISCOVER relayed with giaddr 10.77.2.255 (our subnet's broadcast)" 8 --giaddr=10.77.2.255
expect_refused "4011 REQUEST to 127.0.0.1 (not an address of srv0)" "${BINL[@]}" --src=10.77.2.50 --dst=127.0.0.1
out=$(inject "${BINL[@]}" --src=10.77.2.50)
echo "$out" | grep -q "replies=1" && pass "a real 4011 REQUEST is still answered ($out)" ||
  fail "a real 4011 REQUEST: $out"
sleep 0.3
kill $LO_PID; wait $LO_PID 2>/dev/null
lo=$(tcpdump -n -r $WORK/lo.pcap 2>/dev/null | wc -l)
if [ "$lo" -eq 0 ]; then
  pass "nothing was sent into the server's loopback"
else
  fail "$lo packets reached the server's loopback:"; tcpdump -n -r $WORK/lo.pcap 2>/dev/null | head
fi

# --- 2. checksums ---
expect_refused "DISCOVER with a corrupted UDP checksum" 8 --bad_udp_csum
expect_refused "DISCOVER with a corrupted IPv4 header checksum" 8 --bad_ip_csum
out=$(inject 8 --zero_udp_csum)
echo "$out" | grep -q "replies=1" && pass "UDP checksum 0 (none) is answered ($out)" ||
  fail "UDP checksum 0: $out"

# --- 3. reply size ---
out=$(inject 8 --opt97=960 --no57)
len=$(echo "$out" | sed -n 's/.*max_ip_len=\([0-9]*\).*/\1/p')
if echo "$out" | grep -q "replies=1" && [ "${len:-9999}" -le 576 ] && echo "$out" | grep -q "opt97=0"; then
  pass "960 bytes of option 97: the OFFER stays within 576 bytes, 97 not echoed ($out)"
else
  fail "960 bytes of option 97: $out"
fi
# A frame longer than a receive-ring slot (2 KiB; jumbo frames on this
# link): cut by the kernel, so never decided on, only counted (truncated=).
ip -n $NS_SRV link set srv0 mtu 9000; ip -n $NS_CLI link set cli0 mtu 9000
expect_refused "a 3 KiB DISCOVER (over a ring slot)" 8 --opt97=3000
ip -n $NS_SRV link set srv0 mtu 1500; ip -n $NS_CLI link set cli0 mtu 1500
out=$(inject 8 --opt82=200)
echo "$out" | grep -q "replies=1.*opt82=1" &&
  pass "option 82 from a snooping switch (giaddr 0) is echoed ($out)" ||
  fail "option 82 with giaddr 0: $out"

# --- 8. log floods: 2000 hostile frames, few lines, exact counters ---
before=$(wc -l <$WORK/pxeproxy.log)
inject 8 --giaddr=255.255.255.255 --count=1000 --xid=100000 --listen_ms=300 >/dev/null
inject "${BINL[@]}" --src=127.0.0.1 --count=1000 --xid=200000 --listen_ms=300 >/dev/null
sleep 0.5
lines=$(($(wc -l <$WORK/pxeproxy.log) - before))
if [ "$lines" -le 4 ]; then
  pass "2000 hostile frames wrote $lines log lines"
else
  fail "2000 hostile frames wrote $lines log lines"; tail -5 $WORK/pxeproxy.log
fi

# --- 10. several addresses: the one on the client's subnet answers ---
ip -n $NS_SRV addr flush dev srv0
ip -n $NS_SRV addr add 10.77.40.1/24 dev srv0
ip -n $NS_SRV addr add $SERVER/24 dev srv0
sleep 0.5
out=$(inject 8 --opt50=10.77.2.50)
echo "$out" | grep -q "replies=1.*server_id=$SERVER " &&
  pass "two subnets on srv0: a client asking for 10.77.2.50 is answered from $SERVER ($out)" ||
  fail "two subnets on srv0: $out"
ip -n $NS_SRV addr del 10.77.40.1/24 dev srv0

# --- 7. netlink overflow: events lost while the daemon is stopped ---
# While pxeproxy is stopped: 10.77.2.8 is added to srv0 (queued), 16,000
# events overflow the queue, then 10.77.2.8 is deleted and the server's
# address changes (lost). On waking, a daemon that replayed what was still
# queued after re-reading everything would think 10.77.2.8 is still its own
# (refusing a client that now has it) and a daemon that did not re-read
# would still offer the deleted 10.77.2.1.
serving_before=$(grep -c "serving srv0" $WORK/pxeproxy.log)
kill -STOP $PXE_PID
{
  echo "addr add 10.77.2.8/32 dev srv0"
  for i in $(seq 0 31); do for j in $(seq 1 250); do
    echo "addr add 10.200.$i.$j/32 dev dum0"; done; done
  for i in $(seq 0 31); do for j in $(seq 1 250); do
    echo "addr del 10.200.$i.$j/32 dev dum0"; done; done
  echo "addr del 10.77.2.8/32 dev srv0"
  echo "addr del $SERVER/24 dev srv0"
  echo "addr add 10.77.2.9/24 dev srv0"
  for i in $(seq 0 19); do for j in $(seq 1 250); do
    echo "addr add 10.201.$i.$j/32 dev dum0"; done; done
  for i in $(seq 0 19); do for j in $(seq 1 250); do
    echo "addr del 10.201.$i.$j/32 dev dum0"; done; done
} >$WORK/burst.batch
ip -n $NS_SRV -batch $WORK/burst.batch
kill -CONT $PXE_PID
sleep 2
if grep -q "notifications lost" $WORK/pxeproxy.log; then
  pass "the netlink queue overflowed and was noticed"
else
  fail "the netlink queue did not overflow: the checks below prove nothing"
fi
out=$(inject 8)
echo "$out" | grep -q "replies=1.*server_id=10.77.2.9 " &&
  pass "after 26,004 address events while stopped, the OFFER carries the current address ($out)" ||
  fail "after the netlink burst the OFFER carries a stale address: $out"
ip -n $NS_CLI addr add 10.77.2.8/24 dev cli0
out=$(inject "${BINL[@]}" --dst=10.77.2.9 --src=10.77.2.8 --ciaddr=10.77.2.8)
echo "$out" | grep -q "replies=1" &&
  pass "10.77.2.8, deleted while events were lost, is not taken for ours again ($out)" ||
  fail "10.77.2.8 deleted during the overflow is still taken for ours: $out"
ip -n $NS_CLI addr del 10.77.2.8/24 dev cli0
serving=$(($(grep -c "serving srv0" $WORK/pxeproxy.log) - serving_before))
[ "$serving" -le 2 ] && pass "the burst logged $serving 'serving' lines" ||
  fail "the burst logged $serving 'serving' lines"

# --- 10. a re-created interface keeps the deep receive queue ---
# After the privilege drop SO_RCVBUFFORCE is refused: a new socket would get
# at most net.core.rmem_max; the same socket, bound again, keeps its 4 MiB.
# (Where rmem_max is 4 MiB or more a new socket would get as much, so the
# check is that the socket is the same one: its inode.)
ino_before=$(ip netns exec $NS_SRV ss -0 -e -p | grep pxeproxy | grep -o 'ino:[0-9]*' | head -1)
ip -n $NS_SRV link del srv0
ns_pair $NS_SRV $NS_CLI srv0 cli0 10.77.2.9/24 10.77.2.50/24
wait_for_log $WORK/pxeproxy.log "listening again" 3
sleep 0.5
rb=$(ip netns exec $NS_SRV ss -0 -m -p | grep pxeproxy | grep -o 'rb[0-9]*' | head -1 | tr -d rb)
ino_after=$(ip netns exec $NS_SRV ss -0 -e -p | grep pxeproxy | grep -o 'ino:[0-9]*' | head -1)
if [ "${rb:-0}" -ge 4194304 ] && [ -n "$ino_before" ] && [ "$ino_before" = "$ino_after" ]; then
  pass "re-created srv0: the same socket ($ino_after), bound again, with its ${rb}-byte receive queue"
else
  fail "re-created srv0: receive queue ${rb:-unknown} bytes, socket $ino_before -> $ino_after"
fi
out=$(inject 8)
echo "$out" | grep -q "replies=1.*server_id=10.77.2.9 " &&
  pass "re-created srv0 is served ($out)" || fail "re-created srv0: $out"

# --- clean stop: counters ---
kill -TERM $PXE_PID
wait $PXE_PID; rc=$?
[ $rc -eq 0 ] && pass "SIGTERM: clean exit" || fail "SIGTERM: exit code $rc"
stop=$(grep "stopping:" $WORK/pxeproxy.log)
echo "  $stop"
for want in "bad_source=1007" "bad_relay_address=1005" "reverse_path=1" "bad_checksum=2" "truncated=1"; do
  echo "$stop" | grep -q "$want" && pass "counter $want" || fail "counter $want missing"
done

echo "---- pxeproxy log (last lines)"; tail -25 $WORK/pxeproxy.log | sed 's/^/  /'
[ $FAILS -eq 0 ] && echo "all checks passed" || echo "$FAILS checks failed"
[ $FAILS -eq 0 ]
