#!/usr/bin/env bash
# Namespace integration test of the proxyDHCP daemon against real peers:
#   pxeproxy and a dnsmasq DHCP server bound to :67 share one namespace (the
#   "same host" case); real firmware packets from the captures are replayed
#   from a client namespace and the replies checked field by field; a real
#   busybox udhcpc and ISC dhclient get addresses from dnsmasq and never a
#   packet from pxeproxy.
#   Namespaces and files are named per run (tests/netns/lib.sh), so that runs
#   at once do not meet; every process started, dhclient's background one
#   included, is stopped at the end.
# Usage: proxydhcp_test.sh PXEPROXY DHCP_PROBE CAPTURES_DIR
set -u
PXEPROXY=$1 PROBE=$2 CAPS=$3
SERVER=10.77.1.1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ns_require_root
ns_require ip dnsmasq busybox dhclient tcpdump

ns_init pxpi
NS_BR=$NS_RUN-br NS_SRV=$NS_RUN-srv NS_CLI=$NS_RUN-cli
# Where Debian's AppArmor profile for dhclient allows its pid and leases.
DHCLIENT_PID=/run/dhclient.$NS_RUN.pid
DHCLIENT_LEASES=/var/lib/dhcp/dhclient.$NS_RUN.leases
ns_workdir
ns_trap_cleanup rm -f "$DHCLIENT_PID" "$DHCLIENT_LEASES"

# --- topology: a bridge namespace, a server and a client namespace ---
set -e
for n in $NS_BR $NS_SRV $NS_CLI; do ns_add $n; done
ip -n $NS_BR link add br0 type bridge
ip -n $NS_BR link set br0 up
ip -n $NS_SRV link add srv0 type veth peer name p-srv netns $NS_BR
ip -n $NS_CLI link add cli0 type veth peer name p-cli netns $NS_BR
for p in p-srv p-cli; do ip -n $NS_BR link set $p master br0 up; done
ip -n $NS_SRV addr add $SERVER/24 dev srv0
ip -n $NS_SRV link set srv0 up
ip -n $NS_CLI link set cli0 up
set +e
CLI_MAC=$(ip -n $NS_CLI -o link show cli0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)

# --- the corporate DHCP server, bound to 0.0.0.0:67 in pxeproxy's namespace ---
ip netns exec $NS_SRV dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
  --dhcp-range=10.77.1.100,10.77.1.150,255.255.255.0,1h --no-ping \
  --dhcp-authoritative --dhcp-leasefile=$WORK/leases --log-dhcp \
  --log-facility=$WORK/dnsmasq.log &
DNSMASQ_PID=$!
mkdir -p $WORK/tftp
ns_start $NS_SRV $WORK/pxeproxy.log "ready" "$PXEPROXY" --v=1 --user=nobody \
  --tftp_root=$WORK/tftp --menu_url=http://$SERVER/menu.ipxe \
  --http_boot_url=http://$SERVER/ipxe.efi srv0
PXE_PID=$NS_PID
if ip netns exec $NS_SRV ss -ulpn | grep -q 'dnsmasq' &&
   ip netns exec $NS_SRV ss -ulpn | grep ':67 ' | grep -q dnsmasq; then
  pass "dnsmasq holds UDP port 67 in pxeproxy's namespace"
else
  fail "dnsmasq is not bound to port 67"; ip netns exec $NS_SRV ss -ulpn
fi

EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap
SEABIOS=$CAPS/seabios-ipxe-rom.pcap
HTTPB=$CAPS/ovmf-uefi-http-boot.pcap

probe "EDK2 UEFI DISCOVER gets snponly.efi; dnsmasq offers an address too" \
  $EDK2 8 $SERVER snponly.efi --corporate
probe "broken packets are dropped, the next real DISCOVER is answered" \
  $EDK2 8 $SERVER snponly.efi --mutate
probe "SeaBIOS iPXE ROM gets the menu URL" \
  $SEABIOS 9 $SERVER http://$SERVER/menu.ipxe --corporate
probe "iPXE EFI (chainloaded) gets the menu URL, no loop" \
  $EDK2 264 $SERVER http://$SERVER/menu.ipxe --corporate
probe "UEFI HTTP Boot gets the HTTP URL" \
  $HTTPB 9 $SERVER http://$SERVER/ipxe.efi --corporate
probe "a REQUEST on port 67 gets nothing from the proxy" \
  $EDK2 14 $SERVER none --wait_ms=1500
ip -n $NS_CLI addr add 10.77.1.200/24 dev cli0
probe "EDK2 REQUEST on 4011 gets an ACK from 4011" \
  $EDK2 18 $SERVER snponly.efi --binl_from=10.77.1.200
# A relay on 10.77.1.200 for a subnet the server only reaches by a route:
# the reply must go to giaddr:67 through the kernel's routing (the probe sees
# the routed frame on cli0, the relay's link).
ip -n $NS_SRV route add 10.77.9.0/24 via 10.77.1.200
probe "relayed DISCOVER (giaddr on-link) answered by unicast to giaddr:67" \
  $EDK2 8 $SERVER snponly.efi --relay_from=10.77.1.200,10.77.1.200
probe "relayed DISCOVER (giaddr off-link) routed to giaddr:67" \
  $SEABIOS 9 $SERVER http://$SERVER/menu.ipxe --relay_from=10.77.1.200,10.77.9.1
ip -n $NS_SRV route del 10.77.9.0/24
ip -n $NS_CLI addr flush dev cli0

# --- real DHCP clients: an address from dnsmasq, nothing from pxeproxy ---
real_client() {  # name, command...
  local name=$1; shift
  ip netns exec $NS_CLI tcpdump -Z root -i cli0 -n -U -w $WORK/$name.pcap \
    'udp port 67 or udp port 68' >/dev/null 2>$WORK/$name.tcpdump &
  local td=$!
  wait_for_log $WORK/$name.tcpdump listening 10
  if timeout 30 ip netns exec $NS_CLI "$@" >$WORK/$name.out 2>&1; then
    pass "$name got a lease from the corporate server"
  else
    fail "$name got no lease"; cat $WORK/$name.out
  fi
  sleep 1
  kill $td; wait $td 2>/dev/null
  [ -n "${DEBUG:-}" ] && { ls -la $WORK; tcpdump -n -r $WORK/$name.pcap; }
  # A proxy reply is a BOOTREPLY from port 67 with yiaddr 0 (UDP payload 16).
  local total proxy
  total=$(tcpdump -n -r $WORK/$name.pcap 'udp src port 67' 2>/dev/null | wc -l)
  proxy=$(tcpdump -n -r $WORK/$name.pcap 'udp src port 67 and udp[24:4] = 0' 2>/dev/null | wc -l)
  if [ "$total" -ge 2 ] && [ "$proxy" -eq 0 ]; then
    pass "$name: $total server packets on the wire, none from pxeproxy"
  else
    fail "$name: $total server packets, $proxy proxy replies"
  fi
  ip -n $NS_CLI addr flush dev cli0
}
real_client udhcpc busybox udhcpc -i cli0 -n -q -f -t 5 -T 2 -s /bin/true
# dhclient -1 goes to the background once it has its lease: stopped here
# from its pid file (ns_cleanup would end it too).
real_client dhclient dhclient -1 -v -sf /bin/true -pf "$DHCLIENT_PID" \
  -lf "$DHCLIENT_LEASES" cli0
[ -s "$DHCLIENT_PID" ] && ns_stop "$(cat "$DHCLIENT_PID")"
if grep -q "reason=not_pxe_client.*mac=$CLI_MAC\|mac=$CLI_MAC.*not_pxe_client" \
     $WORK/pxeproxy.log ||
   grep "not_pxe_client" $WORK/pxeproxy.log | grep -q "$CLI_MAC"; then
  pass "pxeproxy logged the real clients as not_pxe_client"
else
  fail "pxeproxy did not log the real clients' DISCOVERs as ignored"
fi
if grep "OFFER\|ACK" $WORK/pxeproxy.log | grep -q "$CLI_MAC"; then
  fail "pxeproxy answered a non-PXE client"
fi
if grep -q "reason=malformed" $WORK/pxeproxy.log; then
  pass "malformed packets logged with reason=malformed"
else
  fail "malformed packets were not counted"
fi

if kill -0 $DNSMASQ_PID 2>/dev/null; then
  pass "dnsmasq kept running beside pxeproxy"
else
  fail "dnsmasq died"
fi

# --- address changes are followed through netlink, without a restart ---
kill $DNSMASQ_PID; wait $DNSMASQ_PID 2>/dev/null
ip -n $NS_SRV addr flush dev srv0
wait_for_log $WORK/pxeproxy.log "srv0 has no IPv4 address" 3 &&
  pass "an interface without IPv4 gets a clear message" ||
  fail "no message when the interface lost its address"
probe "no address: the DISCOVER is ignored (no_server_address)" \
  $EDK2 8 $SERVER none --wait_ms=1000
ip -n $NS_SRV addr add 10.77.1.2/24 dev srv0
wait_for_log $WORK/pxeproxy.log "serving srv0 10.77.1.2/24" 3
probe "a new address is used at once (option 54, siaddr = 10.77.1.2)" \
  $EDK2 8 10.77.1.2 snponly.efi
grep -q "reason=no_server_address" $WORK/pxeproxy.log &&
  pass "counted as no_server_address" || fail "no_server_address not logged"

# --- a VLAN below the interface is another segment: not answered on srv0 ---
if ! ip -n $NS_SRV link add link srv0 name srv0.5 type vlan id 5 2>/dev/null; then
  echo "SKIPPED (this check only): the kernel has no 802.1Q support here"
else
ip -n $NS_SRV addr add 10.77.15.1/24 dev srv0.5
ip -n $NS_SRV link set srv0.5 up
ip -n $NS_CLI link add link cli0 name cli0.5 type vlan id 5
ip -n $NS_CLI link set cli0.5 up
sleep 0.5
if ip netns exec $NS_CLI "$PROBE" cli0.5 $EDK2 8 10.77.15.1 none \
     --wait_ms=1000 >$WORK/probe.out 2>&1 &&
   grep -q "reason=vlan_tagged" $WORK/pxeproxy.log; then
  pass "a DISCOVER on VLAN 5 is dropped and counted (vlan_tagged)"
else
  fail "VLAN-tagged DISCOVER"; cat $WORK/probe.out
fi
ip -n $NS_CLI link del cli0.5
ip -n $NS_SRV link del srv0.5
fi

# --- the interface deleted and created again (new index): served again ---
ip -n $NS_SRV link del srv0
ip -n $NS_SRV link add srv0 type veth peer name p-srv netns $NS_BR
ip -n $NS_BR link set p-srv master br0 up
ip -n $NS_SRV addr add 10.77.1.3/24 dev srv0
ip -n $NS_SRV link set srv0 up
wait_for_log $WORK/pxeproxy.log "listening again" 3
sleep 0.5
probe "a re-created interface is listened on again" \
  $EDK2 8 10.77.1.3 snponly.efi

# --- clean stop with counters ---
kill -TERM $PXE_PID
for _ in $(seq 80); do kill -0 $PXE_PID 2>/dev/null || break; sleep 0.1; done
if kill -0 $PXE_PID 2>/dev/null; then
  fail "pxeproxy did not stop on SIGTERM"
else
  wait $PXE_PID; rc=$?
  [ $rc -eq 0 ] && pass "SIGTERM: clean exit" || fail "SIGTERM: exit code $rc"
fi
grep "stopping:" $WORK/pxeproxy.log | sed 's/^/  /'
grep -q "stopping: .*replied=10 .*malformed=" $WORK/pxeproxy.log &&
  pass "counters: 10 replies, malformed counted" ||
  fail "counters differ from the 10 replies expected"

echo "---- pxeproxy log"; sed 's/^/  /' $WORK/pxeproxy.log | tail -40
[ $FAILS -eq 0 ] && echo "all checks passed" || echo "$FAILS checks failed"
[ $FAILS -eq 0 ]
