#!/usr/bin/env bash
# Namespace test of more firmware against pxeproxy (README "Every
# architecture, and Raspberry Pis"): a synthetic client (tests/tools/
# boot_client.py) replays what a Raspberry Pi 4 EEPROM bootloader sends
# (PXEClient:Arch:00000:UNDI:002001 from dc:a6:32) and what an ARM64 UEFI
# and an ARM64 HTTP Boot client send, and reads the file over pxeproxy's TFTP;
# then two UEFI clients that each turn down one kind of offer reach TFTP
# through the adaptive UEFI strategy.
# Usage: firmware_test.sh PXEPROXY BOOT_CLIENT
set -u
PXEPROXY=$1 CLIENT=$2
SERVER=10.78.1.1 CLIP=10.78.1.100
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ns_require_root
ns_require ip python3
PY=$(command -v python3)

ns_init pxfw
NS_SRV=$NS_RUN-srv NS_CLI=$NS_RUN-cli
ns_workdir
PXE_PID=
ns_trap_cleanup

set -e
ns_add $NS_SRV
ns_add $NS_CLI
ns_pair $NS_SRV $NS_CLI srv0 cli0 $SERVER/24 $CLIP/24
set +e
mkdir -p $WORK/root/a1b2c3d4
head -c 3000 /dev/urandom >$WORK/root/bootcode.bin
head -c 5000 /dev/urandom >$WORK/root/a1b2c3d4/start4.elf
head -c 7000 /dev/urandom >$WORK/root/snp-arm64.efi

start() {  # start LOGNAME FLAGS...
  local log=$WORK/$1.log
  shift
  ns_start $NS_SRV "$log" "ready" "$PXEPROXY" --v=1 --user= \
    --tftp_root=$WORK/root --tftp_symlink_allow= "$@" srv0
  PXE_PID=$NS_PID
}
stop() { ns_stop $PXE_PID; PXE_PID=; }
client() { ip netns exec $NS_CLI "$PY" "$CLIENT" cli0 --ip=$CLIP "$@"; }
PI_MAC=dc:a6:32:12:34:56

# 1. Default: a Pi is ignored, named raspberry_pi, never sent undionly.kpxe.
start default
if client --mac=$PI_MAC --arch=0 --vc=PXEClient:Arch:00000:UNDI:002001 \
    --tries=1 --wait=1.5 >$WORK/pi-default.out 2>&1; then
  fail "a Raspberry Pi was answered without --raspberry_pi"
else
  pass "a Raspberry Pi gets no offer by default"
fi
cat $WORK/pi-default.out
stop
grep -q "reason=raspberry_pi" $WORK/default.log &&
  pass "logged and counted as raspberry_pi" || fail "no raspberry_pi reason in the log"

# 2. --raspberry_pi, and every-arch flags: the Pi gets "Raspberry Pi Boot",
# siaddr us, and reads <serial>/start4.elf; ARM64 PXE and HTTP Boot answered.
start pi --raspberry_pi --boot_file=efi_arm64=snp-arm64.efi \
  --http_boot_url=http_arm64=http://$SERVER/arm64.efi
if client --mac=$PI_MAC --arch=0 --vc=PXEClient:Arch:00000:UNDI:002001 \
    --expect_menu="Raspberry Pi Boot" --tftp_file=a1b2c3d4/start4.elf \
    --tries=2 >$WORK/pi.out 2>&1 && grep -q "reached_tftp file=a1b2c3d4/start4.elf bytes=5000" $WORK/pi.out; then
  pass "the Pi got 'Raspberry Pi Boot' and read a1b2c3d4/start4.elf over TFTP"
else
  fail "the Raspberry Pi did not boot"
fi
cat $WORK/pi.out
if client --mac=52:54:00:aa:00:01 --arch=11 --tries=2 >$WORK/arm64.out 2>&1 &&
    grep -q "reached_tftp file=snp-arm64.efi bytes=7000" $WORK/arm64.out; then
  pass "ARM64 UEFI (arch 11) got --boot_file=efi_arm64= through 4011 and TFTP"
else
  fail "ARM64 UEFI did not get its file"
fi
cat $WORK/arm64.out
client --mac=52:54:00:aa:00:02 --arch=19 --vc=HTTPClient:Arch:00019:UNDI:003000 \
  --tries=1 >$WORK/http.out 2>&1
if grep -q "http_boot url=http://$SERVER/arm64.efi" $WORK/http.out; then
  pass "ARM64 HTTP Boot (arch 19) offered its URL"
else
  fail "ARM64 HTTP Boot not offered its URL"
fi
cat $WORK/http.out
stop

# 3. The adaptive UEFI strategy: two synthetic UEFI clients, each turning
# down one kind of offer, as firmware does (old EDK2 drops a first proxy
# offer carrying 43; others ignore one without it). Each gets the other
# strategy on its next DISCOVER and reaches TFTP.
head -c 4000 /dev/urandom >$WORK/root/snponly.efi
echo "52:54:00:bb uefi_strategy=bypass" >$WORK/rules
start adaptive --mac_rules_file=$WORK/rules
if client --mac=52:54:00:bb:00:01 --arch=7 --drop=with43 --tries=3 \
    >$WORK/drop43.out 2>&1 && grep -q "reached_tftp file=snponly.efi bytes=4000 tries=2" $WORK/drop43.out; then
  pass "a client that drops offers with 43 was switched to binl and reached TFTP"
else
  fail "the client that drops offers with 43 did not reach TFTP on its second try"
fi
cat $WORK/drop43.out
if client --mac=52:54:00:cc:00:01 --arch=7 --drop=without43 --tries=3 \
    >$WORK/drop-no43.out 2>&1 && grep -q "reached_tftp file=snponly.efi bytes=4000 tries=2" $WORK/drop-no43.out; then
  pass "a client that drops offers without 43 was switched to bypass and reached TFTP"
else
  fail "the client that drops offers without 43 did not reach TFTP on its second try"
fi
cat $WORK/drop-no43.out
# Having reached TFTP, a new boot keeps what worked.
if client --mac=52:54:00:cc:00:01 --arch=7 --drop=without43 --tries=1 \
    >$WORK/again.out 2>&1; then
  pass "the client's next boot got the strategy that worked at once"
else
  fail "the client's next boot did not keep the strategy that worked"
fi
stop
n=$(grep -c "uefi strategy switched" $WORK/adaptive.log)
[ "$n" -eq 2 ] && pass "two switches logged" || fail "$n switches logged, want 2"
grep -q "uefi_strategy_switches=2" $WORK/adaptive.log &&
  pass "counted: uefi_strategy_switches=2" || fail "uefi_strategy_switches is not 2"
grep "uefi strategy switched" $WORK/adaptive.log

# Without it (the window 0), the second client never gets an offer it takes.
start fixed --uefi_adaptive_window=0
if client --mac=52:54:00:cc:00:02 --arch=7 --drop=without43 --tries=2 \
    --wait=1.5 >$WORK/fixed.out 2>&1; then
  fail "with --uefi_adaptive_window=0 the client still reached TFTP"
else
  pass "with --uefi_adaptive_window=0 it re-DISCOVERs in vain (the test can fail)"
fi
stop

echo "--- pxeproxy log (pi) ---"; tail -n 20 $WORK/pi.log
[ $FAILS -eq 0 ] && echo "firmware test: all passed" || echo "firmware test: $FAILS failed"
[ $FAILS -eq 0 ]
