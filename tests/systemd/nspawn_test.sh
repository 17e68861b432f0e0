#!/usr/bin/env bash
# The Debian package under a real systemd (PID 1 of a container):
#   1. a minimal Debian 12 tree from the Debian archive with mmdebstrap
#      (systemd, dbus, iproute2 and what the .deb depends on), cached as a
#      tarball in $PXEPROXY_TREE_CACHE (default /var/cache/pxeproxy-test)
#      named by a hash of the package list and apt sources;
#   2. the .deb installed into a copy of it (dpkg -i in a chroot), the
#      interface named in /etc/default/pxeproxy, flags in the flag file;
#   3. systemd-nspawn --boot with a veth pair, its outer end moved into a
#      network namespace of this test;
#   4. from outside: pxeproxy.service is active, runs as _pxeproxy with
#      CapEff exactly CAP_NET_RAW, answers a replayed firmware DISCOVER
#      (tests/tools/dhcp_probe) through the veth, its lines are in the
#      journal, `systemctl reload` applies a changed flag file, `kill -STOP`
#      of the main process makes the watchdog restart it (a new PID), and
#      `systemctl stop` ends it cleanly.
# The host need not run systemd: the container is not registered with
# machined (--register=no), and commands run inside it through nsenter into
# its namespaces (what `systemctl -M` and `journalctl -M` would do).
# Needs root, mmdebstrap and systemd-nspawn; otherwise exit 77.
#
#   PXEPROXY_DEB=path/to.deb tests/systemd/nspawn_test.sh DHCP_PROBE CAPTURES_DIR
# Without PXEPROXY_DEB the package is built first (dpkg-buildpackage, as
# tests/package_test.sh does).
set -u
PROBE=${1:?usage: nspawn_test.sh DHCP_PROBE CAPTURES_DIR}
CAPS=${2:?usage: nspawn_test.sh DHCP_PROBE CAPTURES_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$SRC/tests/netns/lib.sh"
START=$SECONDS

ns_require_root "needs root (nspawn, namespaces)"
for t in mmdebstrap systemd-nspawn nsenter ip dpkg-deb sha256sum; do
  command -v $t >/dev/null ||
    ns_skip "$t is not installed (apt-get install mmdebstrap systemd-container)"
done
SOURCES=/etc/apt/sources.list.d/debian.sources
[ -f $SOURCES ] || SOURCES=/etc/apt/sources.list
[ -f $SOURCES ] || ns_skip "no Debian apt sources on this host"

ns_init pxsd
NS_OUT=$NS_RUN-out
IF_IN=${NS_RUN:0:10}i   # the container's end (interface names: 15 bytes)
IF_OUT=${NS_RUN:0:10}o
ns_workdir /var/tmp
TREE=$WORK/tree
NSPAWN_PID=
stop_container() {
  if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
    # poweroff from inside; nspawn ends when PID 1 does.
    [ -n "${LEADER:-}" ] && kill -RTMIN+4 "$LEADER" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NSPAWN_PID" 2>/dev/null
    wait "$NSPAWN_PID" 2>/dev/null
    echo "-- systemd: container stopped (+$((SECONDS - START)) s)"
  fi
}
ns_trap_cleanup stop_container
step() { echo "-- systemd: $* (+$((SECONDS - START)) s)"; }
die() { echo "FAIL: $*"; exit 1; }

# --- the package ---
if [ -n "${PXEPROXY_DEB:-}" ]; then
  DEB=$(readlink -f "$PXEPROXY_DEB")
  [ -f "$DEB" ] || die "PXEPROXY_DEB=$PXEPROXY_DEB does not exist"
  step "using $DEB"
else
  step "building the package (dpkg-buildpackage -us -uc -b)"
  mkdir -p "$WORK/src"
  tar -C "$SRC" --exclude=./.git --exclude='./build*' --exclude=./out \
    --exclude=./obj-x86_64-linux-gnu -c . | tar -C "$WORK/src" -x
  (cd "$WORK/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" \
     dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1) ||
    { tail -30 "$WORK/build.log"; die "dpkg-buildpackage failed"; }
  DEB=$(ls "$WORK"/pxeproxy_*_amd64.deb)
fi

# --- the tree: its packages are the .deb's dependencies and what boots ---
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' |
       grep -v '^$')
PKGS=$(printf '%s\n' systemd systemd-sysv dbus iproute2 $deps | sort -u | paste -sd, -)
KEY=$( (echo "$PKGS"; cat $SOURCES) | sha256sum | cut -c1-16)
CACHE=${PXEPROXY_TREE_CACHE:-/var/cache/pxeproxy-test}
TARBALL=$CACHE/bookworm-$KEY.tar
mkdir -p "$CACHE"
if [ -f "$TARBALL" ]; then
  step "cached tree $TARBALL ($PKGS)"
else
  step "mmdebstrap bookworm ($PKGS)"
  # mmdebstrap writes a tarball when the name ends in .tar.
  if ! mmdebstrap --variant=apt --include="$PKGS" bookworm "$CACHE/tmp-$$-$(basename "$TARBALL")" \
       "$SOURCES" >"$WORK/mmdebstrap.log" 2>&1; then
    tail -20 "$WORK/mmdebstrap.log"; rm -f "$CACHE/tmp-$$-$(basename "$TARBALL")"
    die "mmdebstrap failed"
  fi
  # One tree is kept: the one for this package list.
  find "$CACHE" -maxdepth 1 -name 'bookworm-*.tar' ! -name "$(basename "$TARBALL")" -delete
  mv "$CACHE/tmp-$$-$(basename "$TARBALL")" "$TARBALL"
fi
mkdir -p "$TREE"
tar -C "$TREE" -xf "$TARBALL"

step "installing $(basename "$DEB") into the tree"
cp "$DEB" "$TREE/root/"
chroot "$TREE" dpkg -i "/root/$(basename "$DEB")" >"$WORK/dpkg.log" 2>&1 ||
  { cat "$WORK/dpkg.log"; die "dpkg -i in the tree"; }
mkdir -p "$TREE/srv/tftp"
echo "boot me" >"$TREE/srv/tftp/snponly.efi"
chmod -R a+rX "$TREE/srv/tftp"
sed -i "s/^INTERFACES=.*/INTERFACES=\"$IF_IN\"/" "$TREE/etc/default/pxeproxy"
SERVER=10.77.7.1 CLIENT=10.77.7.2
write_flags() {  # menu name
  cat >"$TREE/etc/pxeproxy/pxeproxy.flags" <<EOF
--tftp_root=/srv/tftp
--menu_url=http://$SERVER/$1
EOF
}
write_flags a.ipxe
# The address of the container's end, set before pxeproxy starts.
cat >"$TREE/etc/systemd/system/pxeproxy-test-net.service" <<EOF
[Unit]
Description=test address on $IF_IN
Before=pxeproxy.service
[Service]
Type=oneshot
ExecStart=/usr/sbin/ip addr add $SERVER/24 dev $IF_IN
ExecStart=/usr/sbin/ip link set $IF_IN up
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/pxeproxy-test-net.service \
  "$TREE/etc/systemd/system/multi-user.target.wants/pxeproxy-test-net.service"
# No console login: nothing waits on a terminal.
ln -sf /dev/null "$TREE/etc/systemd/system/console-getty.service"

# The veth is nspawn's (--network-veth-extra: moving in an interface of ours
# needs udev on the host); its outer end goes into our namespace.
ns_add "$NS_OUT"
step "systemd-nspawn --boot"
systemd-nspawn --quiet --boot --register=no --keep-unit \
  -D "$TREE" -M "$NS_RUN" --network-veth-extra="$IF_OUT:$IF_IN" \
  >"$WORK/console.log" 2>&1 </dev/null &
NSPAWN_PID=$!
# The container's PID 1: nspawn's child systemd.
LEADER=
for _ in $(seq 300); do
  LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd | head -1)
  [ -n "$LEADER" ] && break
  kill -0 $NSPAWN_PID 2>/dev/null || break
  sleep 0.1
done
if [ -z "$LEADER" ]; then
  cat "$WORK/console.log"
  if grep -qi "cgroup\|not supported\|permission denied" "$WORK/console.log"; then
    ns_skip "systemd-nspawn cannot boot a container on this host"
  fi
  die "the container did not start"
fi
for _ in $(seq 100); do ip link show "$IF_OUT" >/dev/null 2>&1 && break; sleep 0.1; done
ip link set "$IF_OUT" netns "$NS_OUT" || die "no outer veth end $IF_OUT"
ip -n "$NS_OUT" addr add $CLIENT/24 dev "$IF_OUT"
ip -n "$NS_OUT" link set "$IF_OUT" up
inside() { nsenter -t "$LEADER" -m -u -i -n -p -- "$@"; }
# Until systemd has finished booting (or 60 s).
for _ in $(seq 600); do
  st=$(inside systemctl is-system-running 2>/dev/null)
  case $st in running|degraded) break ;; esac
  sleep 0.1
done
step "booted: system is $st"

main_pid() { inside systemctl show -P MainPID pxeproxy; }
# The host PID of the container's pxeproxy: the one in its PID namespace.
host_pid() {
  local p ns
  ns=$(readlink /proc/"$LEADER"/ns/pid)
  for p in $(pgrep -x pxeproxy); do
    [ "$(readlink /proc/$p/ns/pid)" = "$ns" ] && echo "$p" && return
  done
}
wait_active() {
  for _ in $(seq 300); do
    [ "$(inside systemctl is-active pxeproxy)" = active ] && return 0
    sleep 0.2
  done
  return 1
}

if wait_active; then
  pass "pxeproxy.service is active"
else
  fail "pxeproxy.service is $(inside systemctl is-active pxeproxy)"
  inside systemctl status pxeproxy --no-pager
  inside journalctl -u pxeproxy --no-pager | tail -20
  exit 1
fi
type=$(inside systemctl show -P Type pxeproxy)
status=$(inside systemctl show -P StatusText pxeproxy)
if [ "$type" = notify ] && [[ $status == "serving $IF_IN, TFTP port 69 from /srv/tftp; iPXE menu http://$SERVER/a.ipxe" ]]; then
  pass "Type=notify, ready, STATUS=$status"
else
  fail "Type=$type STATUS=$status"
fi
HPID=$(host_pid)
uid=$(awk '/^Uid:/ {print $3}' /proc/$HPID/status)
want_uid=$(awk -F: '$1 == "_pxeproxy" {print $3}' "$TREE/etc/passwd")
if [ -n "$want_uid" ] && [ "$uid" = "$want_uid" ]; then
  pass "runs as _pxeproxy (uid $uid)"
else
  fail "runs as uid $uid, _pxeproxy is $want_uid"
fi
capeff=$(awk '/^CapEff:/ {print $2}' /proc/$HPID/status)
capprm=$(awk '/^CapPrm:/ {print $2}' /proc/$HPID/status)
# CAP_NET_RAW is bit 13.
if [ "$capeff" = 0000000000002000 ] && [ "$capprm" = 0000000000002000 ]; then
  pass "CapEff=CapPrm=$capeff: CAP_NET_RAW only"
else
  fail "CapEff=$capeff CapPrm=$capprm, want 0000000000002000 (CAP_NET_RAW)"
fi

EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap
probe() {  # name, probe args...
  local name=$1; shift
  if ip netns exec "$NS_OUT" "$PROBE" "$IF_OUT" "$@" >"$WORK/probe.out" 2>&1; then
    pass "$name"
  else
    fail "$name"; cat "$WORK/probe.out"
  fi
}
probe "EDK2 DISCOVER through the veth gets snponly.efi" $EDK2 8 $SERVER snponly.efi
probe "iPXE gets a.ipxe" $EDK2 264 $SERVER http://$SERVER/a.ipxe
if inside journalctl -u pxeproxy --no-pager -o cat | grep -q "proxy-OFFER\|OFFER mac="; then
  pass "the journal has its replies: $(inside journalctl -u pxeproxy --no-pager -o cat | grep -m1 'OFFER')"
else
  fail "no reply in the journal"; inside journalctl -u pxeproxy --no-pager | tail
fi

step "systemctl reload"
write_flags b.ipxe
main_before=$(main_pid)
inside systemctl reload pxeproxy || fail "systemctl reload"
for _ in $(seq 100); do
  inside journalctl -u pxeproxy --no-pager -o cat | grep -q "reload: now in effect" && break
  sleep 0.1
done
probe "after systemctl reload: iPXE gets b.ipxe" $EDK2 264 $SERVER http://$SERVER/b.ipxe
if [ "$(main_pid)" = "$main_before" ] && [ "$(host_pid)" = "$HPID" ]; then
  pass "same process after the reload (pid $HPID, $main_before inside)"
else
  fail "the process changed on reload"
fi

step "kill -STOP $HPID: the watchdog (WatchdogSec=$(inside systemctl show -P WatchdogUSec pxeproxy))"
old_main=$(main_pid)
kill -STOP "$HPID"
restarted=0
for _ in $(seq 900); do
  new_main=$(main_pid)
  if [ -n "$new_main" ] && [ "$new_main" != 0 ] && [ "$new_main" != "$old_main" ] &&
     [ "$(inside systemctl is-active pxeproxy)" = active ]; then
    restarted=1; break
  fi
  sleep 0.1
done
if [ $restarted -eq 1 ] &&
   inside journalctl -u pxeproxy --no-pager | grep -qi "watchdog timeout"; then
  pass "watchdog timeout: restarted, main pid $old_main -> $new_main"
else
  fail "no watchdog restart (main pid $old_main -> $(main_pid), $(inside systemctl is-active pxeproxy))"
  inside journalctl -u pxeproxy --no-pager | tail -20
fi
probe "after the restart: iPXE gets b.ipxe" $EDK2 264 $SERVER http://$SERVER/b.ipxe

step "systemctl stop"
inside systemctl stop pxeproxy
result=$(inside systemctl show -P Result pxeproxy)
state=$(inside systemctl is-active pxeproxy)
if [ "$state" = inactive ] && [ "$result" = success ] &&
   inside journalctl -u pxeproxy --no-pager -o cat | grep -q "stopping: received="; then
  pass "systemctl stop: inactive, Result=success, counters logged"
else
  fail "systemctl stop: state=$state result=$result"
  inside journalctl -u pxeproxy --no-pager | tail
fi

step "done"
if [ $FAILS -gt 0 ]; then
  echo "--- journal"; inside journalctl -u pxeproxy --no-pager | tail -40
  echo "FAILED: $FAILS"; exit 1
fi
echo "OK: systemd nspawn ($((SECONDS - START)) s before the container's shutdown)"
