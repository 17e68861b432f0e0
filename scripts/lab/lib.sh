# shellcheck shell=bash
# The firmware lab: network namespaces joined by a bridge, a "corporate" DHCP
# server, pxeproxy, nginx for the menu, and QEMU VMs (OVMF, SeaBIOS + iPXE ROM)
# as clients. Sourced by scripts/lab/run-case and scripts/demo.
#
# Everything is created per run with the prefix pxl<ID> (namespaces) and torn
# down by the EXIT trap: processes by the PIDs we started (and any left in our
# own namespaces), then the namespaces, which takes the veths, bridges and
# taps with them. Addresses (namespace-local, never routed anywhere else):
#   10.77.3.1  pxeproxy          10.77.3.2  corporate DHCP   10.77.3.3  nginx
#   10.77.3.4  relay (br0 side)  10.77.4.1  relay (br1 side, client subnet)
#   10.77.3.100-199 and 10.77.4.100-199: leases; fd77:3::/64 RA-only ULA.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)

PROXY_IP=10.77.3.1
CORP_IP=10.77.3.2
WEB_IP=10.77.3.3
RELAY_IP=10.77.3.4
RELAY_FAR_IP=10.77.4.1
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

LAB_PIDS=()        # every background process we started, killed in reverse
LAB_NAMESPACES=()  # every namespace we created
LAB_FILES=()       # files outside LAB_WORK (AppArmor-allowed paths), removed
LAB_VERBOSE=${LAB_VERBOSE:-0}
lab_ms() { echo $(( $(date +%s%N) / 1000000 )); }
lab_secs() { printf '%d.%d' $(( $1 / 1000 )) $(( ($1 % 1000) / 100 )); }  # ms -> s.d
LAB_T0=$(lab_ms)

log() { printf '[lab %6ss] %s\n' "$(lab_elapsed)" "$*"; }
die() {
  log "FAIL: $*"
  [ -n "${LAB_WORK:-}" ] && lab_dump
  echo "RESULT: ${LAB_NAME:-lab} FAILED ($*)"
  exit 1
}
skip() { echo "SKIPPED: $*"; exit 77; }
lab_elapsed() { lab_secs $(( $(lab_ms) - LAB_T0 )); }

# Exit 77 (ctest SKIP) unless we can run firmware here: root, qemu, OVMF, iPXE.
lab_require() {
  [ "$(id -u)" -eq 0 ] || skip "the lab needs root (network namespaces)"
  local need=(ip qemu-system-x86_64 tcpdump nginx dnsmasq "$@")
  for t in "${need[@]}"; do
    command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/setup installs it)"
  done
  [ -r "$OVMF_CODE" ] && [ -r "$OVMF_VARS" ] || skip "OVMF is not installed ($OVMF_CODE)"
  [ -r /usr/lib/ipxe/snponly.efi ] || skip "the ipxe package is not installed"
  [ -r /usr/lib/ipxe/qemu/efi-e1000.rom ] || skip "the ipxe-qemu package is not installed"
  ip netns add "pxlprobe$$" 2>/dev/null || skip "cannot create network namespaces here"
  ip netns del "pxlprobe$$"
}

# lab_init NAME ARTIFACTS_DIR: names, work directory, cleanup trap, watchdog.
lab_init() {
  LAB_NAME=$1
  LAB_ART=$(mkdir -p "$2" && cd "$2" && pwd)
  trap lab_cleanup EXIT
  # The ID is reserved by creating its first namespace: `ip netns add` fails
  # on a name that exists, so two runs at once never share one.
  local try
  for try in $(seq 50); do
    LAB_ID=$(printf "%04x" $(( (RANDOM ^ ($$ << try)) & 0xffff )))
    ip netns add "pxl${LAB_ID}-br" 2>/dev/null && break
    LAB_ID=
  done
  [ -n "$LAB_ID" ] || { echo "RESULT: $LAB_NAME FAILED (no free lab ID)"; exit 1; }
  LAB_NAMESPACES+=("pxl${LAB_ID}-br")
  # Artifacts: LAB_STEM.d/, LAB_STEM.pcap. A run of the same case into the
  # same directory at the same time (its lock, created atomically, names a
  # live process) gets names of its own, with the ID.
  LAB_STEM=$LAB_ART/$LAB_NAME
  LAB_LOCK=$LAB_STEM.lock
  if ! (set -o noclobber; echo $$ >"$LAB_LOCK") 2>/dev/null; then
    if kill -0 "$(cat "$LAB_LOCK" 2>/dev/null)" 2>/dev/null; then
      LAB_STEM=$LAB_ART/$LAB_NAME.$LAB_ID LAB_LOCK=
    else
      echo $$ >"$LAB_LOCK"  # left by a run that was killed
    fi
  fi
  LAB_WORK=$LAB_STEM.d
  rm -rf "$LAB_WORK"
  mkdir -p "$LAB_WORK"
  chmod 755 "$LAB_ART" "$LAB_WORK"
  NS_BR=pxl${LAB_ID}-br     # the bridge(s), VM taps, the capture
  NS_PROXY=pxl${LAB_ID}-px  # pxeproxy (and tftpd-hpa while there is no built-in TFTP)
  NS_CORP=pxl${LAB_ID}-dh   # the corporate DHCP server
  NS_WEB=pxl${LAB_ID}-web   # nginx (and the RA sender)
  NS_RELAY=pxl${LAB_ID}-rl  # dhcrelay between br0 and br1
  NS_CLIENT=pxl${LAB_ID}-cl # dhclient / udhcpc
  trap 'log "interrupted"; exit 130' INT
  trap 'log "watchdog: time limit reached"; exit 124' TERM
}

# lab_watchdog SECONDS: a hard bound on the whole case; TERM ends it cleanly.
lab_watchdog() {
  (sleep "$1" && kill -TERM $$) >/dev/null 2>&1 &
  LAB_WATCHDOG=$!
}

lab_bg() {  # lab_bg LOGFILE NS CMD...: start CMD in NS in the background
  local logf=$1 ns=$2; shift 2
  if [ "$ns" = - ]; then
    "$@" >"$logf" 2>&1 &
  else
    ip netns exec "$ns" "$@" >"$logf" 2>&1 &
  fi
  LAB_LAST_PID=$!
  LAB_PIDS+=("$LAB_LAST_PID")
}

lab_kill() {  # lab_kill PID...: TERM, then KILL after 2 s
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 20); do
    local alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

lab_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${LAB_WATCHDOG:-}" ]; then
    local sleeper
    sleeper=$(cat /proc/"$LAB_WATCHDOG"/task/*/children 2>/dev/null || true)
    # shellcheck disable=SC2086
    kill "$LAB_WATCHDOG" $sleeper 2>/dev/null || true
  fi
  local i
  for ((i = ${#LAB_PIDS[@]} - 1; i >= 0; i--)); do
    lab_kill "${LAB_PIDS[i]}"
  done
  # Anything still running inside our own namespaces (nginx workers, forked
  # dhclient) was started by this run: end it by PID.
  local ns pids
  for ns in "${LAB_NAMESPACES[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    # shellcheck disable=SC2086
    [ -n "$pids" ] && lab_kill $pids
  done
  for ns in "${LAB_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  local f
  for f in "${LAB_FILES[@]}"; do rm -f "$f"; done
  [ -n "${LAB_LOCK:-}" ] && rm -f "$LAB_LOCK"
  wait 2>/dev/null
  exit "$rc"
}

lab_ns() {  # lab_ns NAME: create a namespace with lo up (or set up NS_BR)
  if [[ " ${LAB_NAMESPACES[*]} " != *" $1 "* ]]; then
    ip netns add "$1"
    LAB_NAMESPACES+=("$1")
  fi
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0
}

# lab_join NS BRIDGE IP/LEN|- [MAC [IFNAME]]: a veth (eth0) in NS, its peer
# on BRIDGE.
lab_join() {
  local ns=$1 br=$2 addr=$3 mac=${4:-} ifname=${5:-eth0}
  local peer="v${ns##*-}${ifname: -1}"
  ip -n "$NS_BR" link add "$peer" type veth peer name "$ifname" netns "$ns"
  ip -n "$NS_BR" link set "$peer" master "$br" up
  [ -n "$mac" ] && ip -n "$ns" link set "$ifname" address "$mac"
  [ "$addr" = - ] || ip -n "$ns" addr add "$addr" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
}

lab_bridge() {  # lab_bridge NAME
  ip -n "$NS_BR" link add "$1" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$NS_BR" link set "$1" up
}

# lab_topology [same-host|relay]: namespaces, br0, servers' veths.
#   same-host: the corporate DHCP server runs in pxeproxy's namespace.
#   relay: also br1 (10.77.4.0/24, the clients' subnet) behind dhcrelay.
LAB_PROXY_MAC=02:77:03:00:00:01
LAB_CORP_MAC=02:77:03:00:00:02
LAB_WEB_MAC=02:77:03:00:00:03
lab_topology() {
  LAB_TOPO=${1:-plain}
  lab_ns "$NS_BR"
  lab_bridge br0
  lab_ns "$NS_PROXY"
  lab_join "$NS_PROXY" br0 $PROXY_IP/24 $LAB_PROXY_MAC
  if [ "$LAB_TOPO" = same-host ]; then
    NS_CORP=$NS_PROXY
    ip -n "$NS_PROXY" addr add fd77:3::1/64 dev eth0 nodad
  else
    # pxeproxy's host is IPv4-only here, so that every frame from its MAC
    # on the capture is pxeproxy's own doing (case 7 counts them).
    ip netns exec "$NS_PROXY" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    lab_ns "$NS_CORP"
    lab_join "$NS_CORP" br0 $CORP_IP/24 $LAB_CORP_MAC
  fi
  lab_ns "$NS_WEB"
  lab_join "$NS_WEB" br0 $WEB_IP/24 $LAB_WEB_MAC
  ip -n "$NS_WEB" addr add fd77:3::3/64 dev eth0 nodad
  if [ "$LAB_TOPO" = relay ]; then
    lab_bridge br1
    lab_ns "$NS_RELAY"
    lab_join "$NS_RELAY" br0 $RELAY_IP/24 02:77:03:00:00:04 eth0
    lab_join "$NS_RELAY" br1 $RELAY_FAR_IP/24 02:77:04:00:00:01 eth1
    ip netns exec "$NS_RELAY" sysctl -qw net.ipv4.ip_forward=1
    local ns
    for ns in "$NS_PROXY" "$NS_CORP" "$NS_WEB"; do
      ip -n "$ns" route add 10.77.4.0/24 via $RELAY_IP
    done
  fi
  log "topology up: namespaces ${LAB_NAMESPACES[*]}"
}

# lab_tap NAME [BRIDGE]: a tap for a VM, on br0 by default.
lab_tap() {
  ip -n "$NS_BR" tuntap add dev "$1" mode tap
  ip -n "$NS_BR" link set "$1" master "${2:-br0}" up
}

# lab_wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.2 s.
lab_wait_for() {
  local secs=$1 what=$2; shift 2
  local end
  end=$(( $(lab_ms) + secs * 1000 ))
  local rc
  while :; do
    rc=0
    "$@" >/dev/null 2>&1 || rc=$?
    [ $rc = 0 ] && return 0
    [ $rc = 99 ] && return 1  # the condition says it can never come true
    if [ "$(lab_ms)" -gt "$end" ]; then
      log "timed out after ${secs}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

lab_udp_bound() {  # lab_udp_bound NS PORT [PROCESS]
  ip netns exec "$1" ss -Hlunp "sport = :$2" | grep -q "${3:-.}"
}
lab_tcp_bound() {
  ip netns exec "$1" ss -Hltnp "sport = :$2" | grep -q "${3:-.}"
}

# --- capture ---------------------------------------------------------------

# lab_capture FILE [IFACE]: record a bridge (every frame) until
# lab_capture_stop. The first one is $LAB_PCAP, the one the checks read.
LAB_TCPDUMP_PIDS=()
lab_capture() {
  local file=$1 ifc=${2:-br0}
  [ -n "${LAB_PCAP:-}" ] || LAB_PCAP=$file
  rm -f "$file"
  lab_bg "$LAB_WORK/tcpdump-$ifc.log" "$NS_BR" \
    tcpdump -i "$ifc" -Z root -U --immediate-mode -s 0 -n -w "$file"
  LAB_TCPDUMP_PIDS+=("$LAB_LAST_PID")
  lab_wait_for 10 "tcpdump on $ifc" grep -q "listening on" "$LAB_WORK/tcpdump-$ifc.log" ||
    die "tcpdump did not start: $(cat "$LAB_WORK/tcpdump-$ifc.log")"
}

lab_capture_stop() {
  [ ${#LAB_TCPDUMP_PIDS[@]} -gt 0 ] || return 0
  sleep 1  # the last frames (the VM was just stopped) reach the ring first
  lab_kill "${LAB_TCPDUMP_PIDS[@]}"
  LAB_TCPDUMP_PIDS=()
}

# --- servers ---------------------------------------------------------------

# The corporate DHCP server: addresses only, never boot options.
# lab_corp_dnsmasq [EXTRA DNSMASQ ARGS...]
lab_corp_dnsmasq() {
  local conf=$LAB_WORK/corp-dnsmasq.conf
  {
    echo "interface=eth0"
    echo "port=0"                       # no DNS
    echo "dhcp-authoritative"
    echo "no-ping"                      # no 3 s ping before an offer
    echo "log-dhcp"
    echo "dhcp-leasefile=$LAB_WORK/corp.leases"
    echo "dhcp-range=set:near,10.77.3.100,10.77.3.199,255.255.255.0,10m"
    echo "dhcp-option=tag:near,option:router,$CORP_IP"
    echo "dhcp-range=set:far,10.77.4.100,10.77.4.199,255.255.255.0,10m"
    echo "dhcp-option=tag:far,option:router,$RELAY_FAR_IP"
  } >"$conf"
  lab_bg "$LAB_WORK/corp-dnsmasq.log" "$NS_CORP" \
    dnsmasq --no-daemon --conf-file="$conf" --user=root --group=root \
    --pid-file="$LAB_WORK/corp-dnsmasq.pid" --log-facility=- "$@"
  LAB_CORP_PID=$LAB_LAST_PID
  lab_wait_for 10 "corporate dnsmasq on :67" lab_udp_bound "$NS_CORP" 67 dnsmasq ||
    die "corporate dnsmasq did not start: $(tail -5 "$LAB_WORK/corp-dnsmasq.log")"
  log "corporate DHCP: dnsmasq on $( [ "$NS_CORP" = "$NS_PROXY" ] && echo "pxeproxy's own host" || echo $CORP_IP), leases 10.77.3.100-199$( [ $# = 0 ] && echo ", no boot options")"
}

# The corporate DHCP server as ISC dhcpd. lab_corp_dhcpd [EXTRA CONFIG LINES]
lab_corp_dhcpd() {
  # Debian's AppArmor profile for dhcpd lets it read its configuration only
  # under /etc/dhcp and its leases only as /var/lib/dhcp/dhcpd.leases*: use
  # per-run names there (removed by lab_cleanup) and no pid file.
  local conf=/etc/dhcp/pxl$LAB_ID-corp-dhcpd.conf
  local leases=/var/lib/dhcp/dhcpd.leases.pxl$LAB_ID
  LAB_FILES+=("$conf" "$leases" "$leases~")
  mkdir -p /etc/dhcp /var/lib/dhcp
  {
    echo "authoritative;"
    echo "default-lease-time 600; max-lease-time 600;"
    echo "ping-check false;"
    echo "subnet 10.77.3.0 netmask 255.255.255.0 {"
    echo "  range 10.77.3.100 10.77.3.199;"
    echo "  option routers $CORP_IP;"
    echo "}"
    echo "subnet 10.77.4.0 netmask 255.255.255.0 {"
    echo "  range 10.77.4.100 10.77.4.199;"
    echo "  option routers $RELAY_FAR_IP;"
    echo "}"
    printf '%s\n' "$@"
  } >"$conf"
  cp "$conf" "$LAB_WORK/corp-dhcpd.conf"
  : >"$leases"
  lab_bg "$LAB_WORK/corp-dhcpd.log" "$NS_CORP" \
    dhcpd -4 -f -d -cf "$conf" -lf "$leases" --no-pid eth0
  LAB_CORP_PID=$LAB_LAST_PID
  lab_wait_for 10 "corporate dhcpd on :67" lab_udp_bound "$NS_CORP" 67 dhcpd ||
    die "corporate dhcpd did not start: $(tail -5 "$LAB_WORK/corp-dhcpd.log")"
  log "corporate DHCP: ISC dhcpd on $CORP_IP, leases 10.77.3.100-199$( [ $# = 0 ] && echo ", no boot options")"
}

# IPv6 router adverts for fd77:3::/64 on br0, so that iPXE does not wait
# ~15 s for IPv6 autoconfiguration (lab/NOTES.md). Sent from the web host.
lab_ra() {
  lab_bg "$LAB_WORK/ra-dnsmasq.log" "$NS_WEB" \
    dnsmasq --no-daemon --conf-file=/dev/null --user=root --group=root --port=0 \
    --interface=eth0 --bind-interfaces --enable-ra --dhcp-range=fd77:3::,ra-only \
    --pid-file="$LAB_WORK/ra-dnsmasq.pid" --log-facility=-
  log "router adverts: fd77:3::/64 (RA only) from $WEB_IP's host"
}

# nginx serving $LAB_WORK/www on $WEB_IP:80 (HTTP Range works out of the box).
# /booted?mac=..&arch=.. is the success signal: it names the client.
lab_web() {
  local www=$LAB_WORK/www
  mkdir -p "$www" "$LAB_WORK/nginx-tmp"
  cat >"$www/menu.ipxe" <<EOF
#!ipxe
echo pxeproxy-lab: menu reached: mac \${net0/mac} arch \${buildarch} platform \${platform}
chain http://$WEB_IP/booted?mac=\${net0/mac}&arch=\${buildarch}&platform=\${platform}
EOF
  cat >"$www/sanboot.ipxe" <<EOF
#!ipxe
echo pxeproxy-lab: menu reached: mac \${net0/mac} arch \${buildarch}; sanboot of test.iso
sanboot http://$WEB_IP/test.iso
EOF
  cat >"$www/booted.ipxe" <<EOF
#!ipxe
echo pxeproxy-lab: BOOTED \${net0/mac}
sleep 300
EOF
  cat >"$LAB_WORK/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $LAB_WORK/nginx.pid;
error_log $LAB_WORK/nginx-error.log info;
events { worker_connections 128; }
http {
  access_log $LAB_WORK/nginx-access.log;
  client_body_temp_path $LAB_WORK/nginx-tmp/body;
  proxy_temp_path $LAB_WORK/nginx-tmp/proxy;
  fastcgi_temp_path $LAB_WORK/nginx-tmp/fastcgi;
  uwsgi_temp_path $LAB_WORK/nginx-tmp/uwsgi;
  scgi_temp_path $LAB_WORK/nginx-tmp/scgi;
  default_type application/octet-stream;
  server {
    listen $WEB_IP:80;
    root $www;
    location = /booted {
      default_type text/plain;
      try_files /booted.ipxe =404;
    }
  }
}
EOF
  lab_bg "$LAB_WORK/nginx.log" "$NS_WEB" \
    nginx -e "$LAB_WORK/nginx-error.log" -p "$LAB_WORK" -c "$LAB_WORK/nginx.conf"
  lab_wait_for 10 "nginx on :80" lab_tcp_bound "$NS_WEB" 80 nginx ||
    die "nginx did not start: $(tail -5 "$LAB_WORK/nginx-error.log")"
  log "web: nginx on http://$WEB_IP/ (menu.ipxe, /booted)"
}

# pxeproxy as a user starts it: `pxeproxy [--menu_url=...] eth0`, with its
# built-in TFTP (LAB_TFTP=builtin, the default: the case fails if nothing
# serves :69). For debugging, LAB_TFTP=hpa runs it with --notftp beside
# tftpd-hpa on the same address, and LAB_TFTP=auto falls back to that when
# the built-in server does not come up. LAB_TFTP=none: pxeproxy alone (the
# case gives --notftp and runs a TFTP server elsewhere).
# lab_proxy [PXEPROXY FLAGS...]
LAB_TFTP=${LAB_TFTP:-builtin}
lab_proxy_ready() {  # ready, or die if it exited
  kill -0 "$LAB_PROXY_PID" 2>/dev/null || return 99
  grep -q " ready" "$LAB_WORK/pxeproxy.log"
}
lab_proxy() {
  [ -x "${PXEPROXY:-}" ] || die "pxeproxy binary not found: '${PXEPROXY:-}'"
  local mode=$LAB_TFTP
  if [ "$mode" = none ]; then  # the case passes --notftp and serves TFTP itself
    lab_bg "$LAB_WORK/pxeproxy.log" "$NS_PROXY" "$PXEPROXY" "$@" eth0
    LAB_PROXY_PID=$LAB_LAST_PID
    lab_wait_for 10 "pxeproxy ready" lab_proxy_ready ||
      die "pxeproxy did not start: $(tail -5 "$LAB_WORK/pxeproxy.log")"
    LAB_TFTP_USED=none
    log "pxeproxy (pid $LAB_PROXY_PID): $PXEPROXY $* eth0  [no TFTP]"
    return 0
  fi
  if [ "$mode" != hpa ]; then
    lab_bg "$LAB_WORK/pxeproxy.log" "$NS_PROXY" "$PXEPROXY" "$@" eth0
    LAB_PROXY_PID=$LAB_LAST_PID
    lab_wait_for 10 "pxeproxy ready" lab_proxy_ready ||
      die "pxeproxy did not start: $(tail -5 "$LAB_WORK/pxeproxy.log")"
    if lab_wait_for 5 "pxeproxy's TFTP on :69" lab_udp_bound "$NS_PROXY" 69 pxeproxy; then
      LAB_TFTP_USED=builtin
      log "pxeproxy (pid $LAB_PROXY_PID): $PXEPROXY $* eth0  [built-in TFTP]"
      return 0
    fi
    [ "$mode" = builtin ] && die "pxeproxy does not serve TFTP on :69"
    log "NOTE: pxeproxy's built-in TFTP did not come up: using --notftp + tftpd-hpa"
    lab_kill "$LAB_PROXY_PID"
  fi
  lab_bg "$LAB_WORK/tftpd.log" "$NS_PROXY" \
    in.tftpd -L -v -v -u root -s /usr/lib/ipxe -a $PROXY_IP:69
  lab_wait_for 5 "tftpd-hpa on :69" lab_udp_bound "$NS_PROXY" 69 ||
    die "tftpd-hpa did not start"
  lab_bg "$LAB_WORK/pxeproxy.log" "$NS_PROXY" \
    "$PXEPROXY" --notftp --tftp_server=$PROXY_IP "$@" eth0
  LAB_PROXY_PID=$LAB_LAST_PID
  lab_wait_for 10 "pxeproxy ready" lab_proxy_ready ||
    die "pxeproxy did not start: $(tail -5 "$LAB_WORK/pxeproxy.log")"
  LAB_TFTP_USED=tftpd-hpa
  log "pxeproxy (pid $LAB_PROXY_PID): $PXEPROXY --notftp --tftp_server=$PROXY_IP $* eth0  [tftpd-hpa]"
}

# Stops pxeproxy cleanly (SIGTERM) so that it logs its counters.
lab_proxy_stop() {
  [ -n "${LAB_PROXY_PID:-}" ] || return 0
  lab_kill "$LAB_PROXY_PID"
  LAB_PROXY_PID=
}

# --- VMs -------------------------------------------------------------------

LAB_QEMU_COMMON=(-accel tcg -nodefaults -display none -smp 1 -monitor none
                 -no-reboot)

# lab_vm_uefi NAME MAC [TAP] [EXTRA QEMU ARGS]: OVMF, virtio-net with no
# option ROM (romfile=), so EDK2's own PXE stack is the client.
lab_vm_uefi() {
  local name=$1 mac=$2 tap=${3:-tap0}; shift 3 || shift $#
  cp "$OVMF_VARS" "$LAB_WORK/$name-VARS.fd"
  : >"$LAB_WORK/$name-serial.log"
  lab_bg "$LAB_WORK/$name-qemu.log" "$NS_BR" qemu-system-x86_64 \
    "${LAB_QEMU_COMMON[@]}" -machine q35 -m 512 \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE" \
    -drive if=pflash,format=raw,unit=1,file="$LAB_WORK/$name-VARS.fd" \
    -netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac="$mac",romfile=,bootindex=1 \
    -serial file:"$LAB_WORK/$name-serial.log" \
    -pidfile "$LAB_WORK/$name-qemu.pid" "$@"
  LAB_VM_PID=$LAB_LAST_PID
  LAB_VM_T0=$(lab_ms)
  log "VM $name: OVMF (UEFI x64, ${LAB_UEFI_CLIENT:-EDK2 PXE}, no option ROM) mac $mac, pid $LAB_VM_PID, TCG"
}

# lab_vm_bios NAME MAC [TAP] [EXTRA QEMU ARGS]: SeaBIOS + iPXE ROM on e1000.
lab_vm_bios() {
  local name=$1 mac=$2 tap=${3:-tap0}; shift 3 || shift $#
  : >"$LAB_WORK/$name-serial.log"
  lab_bg "$LAB_WORK/$name-qemu.log" "$NS_BR" qemu-system-x86_64 \
    "${LAB_QEMU_COMMON[@]}" -machine pc,graphics=off -m 256 \
    -netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
    -device e1000,netdev=n0,mac="$mac",bootindex=1 \
    -serial file:"$LAB_WORK/$name-serial.log" \
    -pidfile "$LAB_WORK/$name-qemu.pid" "$@"
  LAB_VM_PID=$LAB_LAST_PID
  LAB_VM_T0=$(lab_ms)
  log "VM $name: SeaBIOS + iPXE option ROM (e1000) mac $mac, pid $LAB_VM_PID, TCG"
}

# lab_vm_arm64 NAME MAC [TAP] [EXTRA QEMU ARGS]: AAVMF (EDK2 for ARM64,
# Debian qemu-efi-aarch64) on QEMU's virt machine, virtio-net with no option
# ROM: EDK2's own PXE stack, client arch 11.
AAVMF_CODE=${AAVMF_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd}
AAVMF_VARS=${AAVMF_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd}
lab_vm_arm64() {
  local name=$1 mac=$2 tap=${3:-tap0}; shift 3 || shift $#
  cp "$AAVMF_VARS" "$LAB_WORK/$name-VARS.fd"
  : >"$LAB_WORK/$name-serial.log"
  lab_bg "$LAB_WORK/$name-qemu.log" "$NS_BR" qemu-system-aarch64 \
    "${LAB_QEMU_COMMON[@]}" -machine virt -cpu cortex-a57 -m 512 \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$AAVMF_CODE" \
    -drive if=pflash,format=raw,unit=1,file="$LAB_WORK/$name-VARS.fd" \
    -netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac="$mac",romfile=,bootindex=1 \
    -serial file:"$LAB_WORK/$name-serial.log" \
    -pidfile "$LAB_WORK/$name-qemu.pid" "$@"
  LAB_VM_PID=$LAB_LAST_PID
  LAB_VM_T0=$(lab_ms)
  log "VM $name: AAVMF (UEFI ARM64, virt/cortex-a57, EDK2 PXE) mac $mac, pid $LAB_VM_PID, TCG"
}

# lab_vm_ia32 NAME MAC [TAP] [EXTRA QEMU ARGS]: 32-bit OVMF (Debian
# ovmf-ia32 ships only the Secure-Boot-capable build, which needs SMM; its
# VARS have no keys, so Secure Boot is off), client arch 6.
OVMF32_CODE=${OVMF32_CODE:-/usr/share/OVMF/OVMF32_CODE_4M.secboot.fd}
OVMF32_VARS=${OVMF32_VARS:-/usr/share/OVMF/OVMF32_VARS_4M.fd}
# lab_vm_smm QEMU CODE VARS WHAT NAME MAC [TAP] [EXTRA QEMU ARGS]: an OVMF
# build that needs SMM (q35, secure pflash), with a fresh copy of VARS.
lab_vm_smm() {
  local qemu=$1 code=$2 vars=$3 what=$4 name=$5 mac=$6 tap=${7:-tap0}
  shift 7 || shift $#
  cp "$vars" "$LAB_WORK/$name-VARS.fd"
  : >"$LAB_WORK/$name-serial.log"
  lab_bg "$LAB_WORK/$name-qemu.log" "$NS_BR" "$qemu" \
    "${LAB_QEMU_COMMON[@]}" -machine q35,smm=on -m 512 \
    -global driver=cfi.pflash01,property=secure,value=on \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$code" \
    -drive if=pflash,format=raw,unit=1,file="$LAB_WORK/$name-VARS.fd" \
    -netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac="$mac",romfile=,bootindex=1 \
    -serial file:"$LAB_WORK/$name-serial.log" \
    -pidfile "$LAB_WORK/$name-qemu.pid" "$@"
  LAB_VM_PID=$LAB_LAST_PID
  LAB_VM_T0=$(lab_ms)
  log "VM $name: $what mac $mac, pid $LAB_VM_PID, TCG"
}
lab_vm_ia32() {
  lab_vm_smm qemu-system-i386 "$OVMF32_CODE" "$OVMF32_VARS" \
    "OVMF ia32 (UEFI IA32, q35+SMM, EDK2 PXE)" "$@"
}

# lab_vm_uefisb NAME MAC [TAP] [EXTRA QEMU ARGS]: OVMF with Secure Boot on
# and Microsoft's keys enrolled (Debian ovmf: OVMF_CODE_4M.ms.fd needs SMM,
# OVMF_VARS_4M.ms.fd has the keys and SecureBoot enabled), EDK2 PXE.
OVMF_SB_CODE=${OVMF_SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.ms.fd}
OVMF_SB_VARS=${OVMF_SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.ms.fd}
lab_vm_uefisb() {
  lab_vm_smm qemu-system-x86_64 "$OVMF_SB_CODE" "$OVMF_SB_VARS" \
    "OVMF Secure Boot (Microsoft keys, q35+SMM, EDK2 PXE)" "$@"
}

lab_vm_stop() { [ -n "${LAB_VM_PID:-}" ] && lab_kill "$LAB_VM_PID"; LAB_VM_PID=; }

lab_since_vm() { lab_secs $(( $(lab_ms) - LAB_VM_T0 )); }

# The MAC as it may appear in a URL: 52:54:00:.. or 52%3A54%3A00...
lab_mac_re() { echo "$1" | sed 's/:/(:|%3[aA])/g'; }

lab_booted_seen() {  # lab_booted_seen MAC
  grep -Eiq "GET /booted\?mac=$(lab_mac_re "$1")[&? ]" "$LAB_WORK/nginx-access.log"
}

# lab_wait_booted MAC SECONDS: wait for /booted?mac=MAC in nginx's log.
lab_wait_booted() {
  local mac=$1 secs=$2
  if lab_wait_for "$secs" "/booted?mac=$mac" lab_booted_seen "$mac"; then
    LAB_BOOT_SECS=$(lab_since_vm)
    log "BOOTED: nginx saw $(grep -Eio "GET /booted\?mac=$(lab_mac_re "$mac")[^ ]*" \
      "$LAB_WORK/nginx-access.log" | head -1) ${LAB_BOOT_SECS}s after QEMU started"
    return 0
  fi
  return 1
}

# --- evidence --------------------------------------------------------------

# The serial console as plain text (no ANSI escapes, no CRs).
lab_serial_text() {
  sed -e 's/\x1b\[[0-9;?=]*[A-Za-z]//g' -e 's/\r//g' "$1" | tr -cd '\11\12\40-\176'
}

# Milestones from pxeproxy's log, the TFTP evidence and nginx's log.
lab_report() {
  local mac=$1
  log "pxeproxy's replies to $mac:"
  grep -i "mac=$mac" "$LAB_WORK/pxeproxy.log" | sed 's/^/    /' || true
  if [ -s "$LAB_WORK/nginx-access.log" ]; then
    log "nginx:"
    tail -8 "$LAB_WORK/nginx-access.log" | sed 's/^/    /'
  fi
}

# Shows logs after a failure, so that CI output explains it.
lab_dump() {
  local f
  for f in "$LAB_WORK"/pxeproxy.log "$LAB_WORK"/*-serial.log "$LAB_WORK"/corp-*.log \
           "$LAB_WORK"/tftpd.log "$LAB_WORK"/nginx-access.log "$LAB_WORK"/nginx-error.log \
           "$LAB_WORK"/relay.log; do
    [ -s "$f" ] || continue
    echo "----- ${f#"$LAB_ART"/} (last 40 lines)"
    if [[ $f == *serial.log ]]; then lab_serial_text "$f" | tail -40; else tail -40 "$f"; fi
  done
  if [ -n "${LAB_PCAP:-}" ] && [ -s "$LAB_PCAP" ]; then
    echo "----- ${LAB_PCAP#"$LAB_ART"/}: DHCP/4011/TFTP summary"
    tcpdump -n -r "$LAB_PCAP" 'udp port 67 or udp port 68 or udp port 4011 or udp port 69' 2>/dev/null | head -60
  fi
}
