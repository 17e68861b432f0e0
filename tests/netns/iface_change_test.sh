#!/usr/bin/env bash
# Interfaces changing under a running pxeproxy (faults): link
# down/up, the address replaced, the interface deleted and created again,
# each while a TFTP transfer runs. pxeproxy must follow without a restart
# (the same process answers DHCP with the current address within a second,
# and serves TFTP again), and the transfer caught in the change must end
# byte-exact or with an error: never a file that passes for complete and is
# not, never a hang past its budget.
# Usage: iface_change_test.sh PXEPROXY FRAME_INJECT CAPTURES_DIR
set -u
PXEPROXY=$1 INJECT=$2 CAPS=$3
EDK2=$CAPS/ovmf-edk2-pxe-to-ipxe-efi.pcap
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ns_require_root
ns_require ip curl sha256sum timeout
ns_init pxc
S=$NS_RUN-s C=$NS_RUN-c
ns_workdir
ns_trap_cleanup

set -e
ns_add $S; ns_add $C
# the server's srv0 <-> the client's cli0
ns_pair $S $C srv0 cli0 10.77.6.1/24 10.77.6.50/24
set +e
mkdir -p $WORK/root
chmod 755 $WORK $WORK/root  # pxeproxy reads it as nobody
head -c $((12 << 20)) /dev/urandom >$WORK/root/big
WANT=$(sha256sum <$WORK/root/big | cut -d' ' -f1)
ns_start $S $WORK/pxeproxy.log "ready" "$PXEPROXY" --user=nobody \
  --tftp_root=$WORK/root --menu_url=http://10.77.6.1/menu.ipxe srv0
PXE=$NS_PID

# A download in lock-step with 512-byte blocks (about 24,600 round trips,
# long enough to change things under it), with curl's own budget.
start_download() {  # server address, output
  ip netns exec $C timeout 60 curl -s --tftp-blksize 512 --max-time 30 \
    -o "$2" "tftp://$1/big" 2>"$2.err" &
  DL=$!
  for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.05; done
}
verdict() {  # what, output; after the download ended
  wait $DL; local rc=$?
  local got
  got=$(sha256sum <"$2" 2>/dev/null | cut -d' ' -f1)
  if [ $rc -eq 0 ] && [ "$got" = "$WANT" ]; then
    pass "$1: the transfer completed byte-exact"
  elif [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
    pass "$1: the transfer ended with an error (curl exit $rc), $(stat -c %s "$2" 2>/dev/null || echo 0) bytes, not taken for complete"
  elif [ $rc -eq 124 ]; then
    fail "$1: the transfer hung past its budget"
  else
    fail "$1: curl exited 0 with a wrong file ($(stat -c %s "$2" 2>/dev/null || echo 0) bytes)"
  fi
}
dhcp_ok() {  # what, expected server address
  local out
  out=$(ip netns exec $C "$INJECT" cli0 $EDK2 8 --listen_ms=800)
  if echo "$out" | grep -q "replies=1.*server_id=$2 "; then
    pass "$1: DHCP answered by the same process with $2"
  else
    fail "$1: DHCP: $out"
  fi
}
tftp_ok() {  # what, server address
  if ip netns exec $C timeout 60 curl -s -o $WORK/after "tftp://$2/big" &&
     [ "$(sha256sum <$WORK/after | cut -d' ' -f1)" = "$WANT" ]; then
    pass "$1: a new TFTP download from $2 is byte-exact"
  else
    fail "$1: a new TFTP download from $2 failed"
  fi
}

echo "== link down for 2 s, then up, during a transfer"
start_download 10.77.6.1 $WORK/dl1
ip -n $S link set srv0 down; sleep 2; ip -n $S link set srv0 up
verdict "link down/up" $WORK/dl1
sleep 1
dhcp_ok "link down/up" 10.77.6.1
tftp_ok "link down/up" 10.77.6.1

echo "== the address replaced during a transfer"
start_download 10.77.6.1 $WORK/dl2
# (Deleting a subnet's primary address takes its secondaries with it:
# the old one goes first.)
ip -n $S addr del 10.77.6.1/24 dev srv0
ip -n $S addr add 10.77.6.2/24 dev srv0
verdict "address replaced" $WORK/dl2
sleep 1
dhcp_ok "address replaced" 10.77.6.2
tftp_ok "address replaced" 10.77.6.2

echo "== the interface deleted and created again during a transfer"
start_download 10.77.6.2 $WORK/dl3
ip -n $S link del srv0
ns_pair $S $C srv0 cli0 10.77.6.3/24 10.77.6.50/24
verdict "interface re-created" $WORK/dl3
sleep 1
dhcp_ok "interface re-created" 10.77.6.3
tftp_ok "interface re-created" 10.77.6.3

if kill -0 $PXE 2>/dev/null; then
  pass "the same pxeproxy process ($PXE) served throughout: no restart"
else
  fail "pxeproxy died"
fi
kill -TERM $PXE; wait $PXE; rc=$?
[ $rc -eq 0 ] && pass "SIGTERM: clean exit" || fail "SIGTERM: exit code $rc"
grep -E "stopping" $WORK/pxeproxy.log | sed 's/^/  /'
[ $FAILS -eq 0 ] && echo "all checks passed" || { tail -40 $WORK/pxeproxy.log; echo "$FAILS checks failed"; }
[ $FAILS -eq 0 ]
