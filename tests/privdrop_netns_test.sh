#!/usr/bin/env bash
# Started as root with --user=USER, pxeproxy must open its sockets, then run
# as USER with only CAP_NET_RAW (read from /proc/PID/status, every thread)
# and still answer a PXE DISCOVER. Runs in two network namespaces of its own
# (pxk<run>-*, 10.77.5.0/24, tests/netns/lib.sh); needs root, else exit 77
# (ctest: skipped).
#   tests/privdrop_netns_test.sh PXEPROXY_BINARY [USER]
# USER defaults to nobody; 'default' gives no --user at all and expects the
# flag's default, _pxeproxy (the installed package's user).
set -euo pipefail
bin=${1:?usage: privdrop_netns_test.sh PXEPROXY_BINARY [USER]}
user=${2:-nobody}
user_flag=(--user="$user")
if [ "$user" = default ]; then user=_pxeproxy; user_flag=(); fi

# shellcheck source-path=SCRIPTDIR source=netns/lib.sh
. "$(dirname "$0")/netns/lib.sh"
ns_require_root "needs root (network namespaces, raw sockets)"
command -v ip >/dev/null || ns_skip "needs ip (iproute2)"
command -v busybox >/dev/null || ns_skip "needs busybox (udhcpc as the PXE client)"
getent passwd "$user" >/dev/null || ns_skip "needs the user $user"
[ -x "$bin" ] || { echo "FAIL: no binary at $bin"; exit 1; }

ns_init pxk
srv=$NS_RUN-pds
cli=$NS_RUN-pdc
ns_workdir
pid=
ns_trap_cleanup
trap 'exit 1' INT TERM

ns_add "$srv" || ns_skip "cannot create network namespaces here"
ns_add "$cli"
ns_pair "$srv" "$cli" pxkpd0 pxkpd1 10.77.5.1/24 10.77.5.2/24

# A TFTP root that the user can read, whatever the host has installed.
mkdir -p "$WORK/tftp"
echo boot >"$WORK/tftp/undionly.kpxe"
chmod 755 "$WORK" "$WORK/tftp"

ns_start "$srv" "$WORK/log" ' ready' "$bin" "${user_flag[@]}" \
  --tftp_root="$WORK/tftp" --tftp_symlink_allow="$WORK/tftp" --v=1 pxkpd0
pid=$NS_PID

fail=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$2"; }
# Capabilities allowed after the drop: CAP_NET_RAW (13), and
# CAP_NET_BIND_SERVICE (10) should a later version need it.
allowed=$(( (1 << 13) | (1 << 10) ))
within() { [ $(( 0x$1 & ~allowed )) -eq 0 ]; }
user_uid=$(id -u "$user")

status=/proc/$pid/status
cp "$status" "$WORK/status"
echo "--- /proc/$pid/status (excerpt)"
grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs)' "$WORK/status"
read -r -a uids <<<"$(field Uid "$WORK/status")"
read -r -a gids <<<"$(field Gid "$WORK/status")"
check "real, effective, saved and fs uid are $user's ($user_uid)" \
  test "${uids[*]}" = "$user_uid $user_uid $user_uid $user_uid"
check "no gid is 0 (${gids[*]})" \
  bash -c '[[ " $1 " != *" 0 "* ]]' _ "${gids[*]}"
check "no supplementary group 0" \
  bash -c '[[ " $1 " != *" 0 "* ]]' _ "$(field Groups "$WORK/status")"
check "CapEff is CAP_NET_RAW only ($(field CapEff "$WORK/status"))" \
  within "$(field CapEff "$WORK/status")"
check "CapEff has CAP_NET_RAW" \
  test $(( 0x$(field CapEff "$WORK/status") & (1 << 13) )) -ne 0
check "CapPrm is CAP_NET_RAW only ($(field CapPrm "$WORK/status"))" \
  within "$(field CapPrm "$WORK/status")"
check "CapInh is empty" test $(( 0x$(field CapInh "$WORK/status") )) -eq 0
check "CapAmb is empty" test $(( 0x$(field CapAmb "$WORK/status") )) -eq 0
check "NoNewPrivs is set" test "$(field NoNewPrivs "$WORK/status")" = 1
# The bounding set shrinks only where we hold CAP_SETPCAP (8) ourselves.
if [ $(( 0x$(field CapBnd /proc/self/status) & (1 << 8) )) -ne 0 ]; then
  check "CapBnd is CAP_NET_RAW only ($(field CapBnd "$WORK/status"))" \
    within "$(field CapBnd "$WORK/status")"
fi
for task in /proc/"$pid"/task/*; do
  t=${task##*/}
  check "thread $t runs as $user, no capability but CAP_NET_RAW" \
    bash -c '[ "$(awk "/^Uid:/ {print \$3}" "$1")" = "$2" ] &&
             [ $(( 0x$(awk "/^CapEff:/ {print \$2}" "$1") & ~$3 )) -eq 0 ]' \
    _ "$task/status" "$user_uid" "$allowed"
done

# Still serving after the drop: a BIOS PXE DISCOVER gets a proxy offer
# (counted as replied= when pxeproxy stops).
ip netns exec "$cli" timeout 10 busybox udhcpc -i pxkpd1 -f -q -n -t 2 -T 1 \
  -s /bin/true -V PXEClient:Arch:00000:UNDI:002001 >/dev/null 2>&1 || true
# And its TFTP server reads the boot files as that user.
if command -v curl >/dev/null; then
  got=$(ip netns exec "$cli" curl -s --max-time 5 tftp://10.77.5.1/undionly.kpxe || true)
  check "TFTP still serves a boot file after the drop" test "$got" = boot
fi
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
check "pxeproxy stopped cleanly after the drop (exit status $rc)" test "$rc" -eq 0
check "pxeproxy answered the PXE DISCOVER as $user" \
  grep -qE 'stopping: .*replied=[1-9]' "$WORK/log"
check "it logged the switch" grep -q "running as uid=$user_uid " "$WORK/log"

# A --user that does not exist is a configuration error naming the flag,
# before anything is bound.
rc=0
ip netns exec "$srv" "$bin" --user=pxk-no-such-user --tftp_root="$WORK/tftp" \
  pxkpd0 >"$WORK/log2" 2>&1 || rc=$?
check "an unknown --user exits 2" test "$rc" -eq 2
check "and the error names --user" grep -q -- "--user='pxk-no-such-user'" "$WORK/log2"

# As pxeproxy.service starts it: not root, User= with AmbientCapabilities=
# CAP_NET_RAW CAP_NET_BIND_SERVICE (setpriv stands in for systemd). It binds
# port 69 and 4011, then keeps only CAP_NET_RAW.
if command -v setpriv >/dev/null; then
  ip netns exec "$srv" setpriv --reuid="$user_uid" --regid="$(id -g "$user")" \
    --init-groups --inh-caps=+net_raw,+net_bind_service \
    --ambient-caps=+net_raw,+net_bind_service \
    "$bin" "${user_flag[@]}" --tftp_root="$WORK/tftp" \
    --tftp_symlink_allow="$WORK/tftp" pxkpd0 >"$WORK/log3" 2>&1 &
  pid=$!
  wait_for_log "$WORK/log3" ' ready' 10 || true
  check "started unprivileged with ambient capabilities, it becomes ready" \
    grep -q ' ready' "$WORK/log3"
  if kill -0 "$pid" 2>/dev/null; then
    cp "/proc/$pid/status" "$WORK/status3"
    check "and keeps only CAP_NET_RAW ($(field CapEff "$WORK/status3"))" \
      test "$(field CapPrm "$WORK/status3") $(field CapEff "$WORK/status3") $(field CapAmb "$WORK/status3")" \
      = "0000000000002000 0000000000002000 0000000000000000"
    kill -TERM "$pid"; wait "$pid" || true
  fi
  pid=
else
  echo "note: no setpriv, the systemd-style start is not checked"
fi

if [ $fail -ne 0 ]; then
  echo "--- pxeproxy log"; cat "$WORK/log"
  [ -s "$WORK/log3" ] && { echo "--- pxeproxy log (unprivileged start)"; cat "$WORK/log3"; }
  exit 1
fi
echo "PASS"
