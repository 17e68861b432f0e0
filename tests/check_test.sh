#!/usr/bin/env bash
# pxeproxy --check (README, Checking a setup): the good case passes and
# prints what each client kind gets; a missing or empty boot file, an
# interface that does not exist and a bad flag each fail with a line naming
# them. Runs on the loopback interface as any user: nothing is bound.
#
# Usage: check_test.sh PXEPROXY_BINARY
set -uo pipefail
PXEPROXY=${1:?usage: $0 PXEPROXY_BINARY}
WORK=$(mktemp -d /tmp/pxeproxy-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"
head -c 4096 /dev/urandom >"$ROOT/undionly.kpxe"
head -c 8192 /dev/urandom >"$ROOT/snponly.efi"
fails=0
expect() {  # expect RC NEEDLE -- ARGS...
  local want_rc=$1 needle=$2
  shift 3
  local out rc
  out=$("$PXEPROXY" --check --tftp_root="$ROOT" --tftp_symlink_allow= "$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -qF -- "$needle" <<<"$out"; then
    echo "FAIL: --check $* (rc=$rc, want $want_rc and '$needle'):"
    echo "$out" | sed 's/^/    /'
    fails=$((fails + 1))
  else
    echo "ok: --check $* -> rc=$rc, '$needle'"
  fi
}

expect 0 "check: ok" -- lo
expect 0 "boot file snponly.efi: $ROOT/snponly.efi, 8192 bytes" -- lo
expect 0 "UEFI x64 PXE (arch 7)          OFFER file=snponly.efi next-server=127.0.0.1; on port 4011: ACK file=snponly.efi" -- lo
expect 0 "UEFI HTTP Boot x64 (arch 16)   not answered (no_http_boot_url)" -- lo
expect 0 "UEFI HTTP Boot x64 (arch 16)   OFFER file=http://10.0.0.5/ipxe.efi" -- --http_boot_url=http://10.0.0.5/ipxe.efi lo
expect 0 "iPXE (BIOS)                    OFFER file=http://10.0.0.5/menu.ipxe" -- --menu_url=http://10.0.0.5/menu.ipxe lo
expect 1 "PROBLEM boot file ipxe-arm64.efi: file not found" -- --boot_file_efi_arm64=ipxe-arm64.efi lo
: >"$ROOT/empty.efi"
expect 1 "PROBLEM boot file empty.efi: $ROOT/empty.efi is empty" -- --boot_file_efi_x64=empty.efi lo
expect 1 "PROBLEM interface pxnosuch0: does not exist" -- pxnosuch0 lo
expect 1 "check: 1 problem" -- pxnosuch0 lo
ln -s /etc/passwd "$ROOT/outside.efi"
expect 1 "PROBLEM boot file outside.efi" -- --boot_file_efi_x64=outside.efi lo
expect 2 "--uefi_strategy='nope'" -- --uefi_strategy=nope lo
[ "$fails" = 0 ] || { echo "FAILED: $fails"; exit 1; }
echo "PASSED"
