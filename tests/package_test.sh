#!/usr/bin/env bash
# The Debian package end to end, as CI runs it (scripts/test, as root):
#   1. dpkg-buildpackage -us -uc -b on a copy of the tree (nothing is written
#      into the checkout or its parent);
#   2. lintian: no error, no warning;
#   3. apt-get install ./pxeproxy_*.deb, then check the installed package:
#      --version, the _pxeproxy user, the conffiles, the man page,
#      systemd-analyze verify of the unit, the privilege-drop test and the
#      firmware lab case 'uefi' against /usr/sbin/pxeproxy;
#   4. apt-get purge: every file the package installed is gone, the user too.
# Needs root; otherwise exit 77. Keeps the .deb and logs in $PXEPROXY_DEB_OUT
# (default build-pkg/deb/). PXEPROXY_DEB=path/to.deb skips the build and
# checks that package instead.
#   tests/package_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: package_test needs root (apt-get)"; exit 77; }

work=$(mktemp -d /tmp/pxk-pkg.XXXXXX)
out=${PXEPROXY_DEB_OUT:-$src/build-pkg/deb}
installed=0
cleanup() {
  if [ $installed -eq 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 pxeproxy >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "-- package: $*"; }
die() { echo "FAIL: $*"; exit 1; }

if dpkg-query -W -f='${Status}' pxeproxy 2>/dev/null | grep -q installed; then
  step "pxeproxy is installed already: purging it first"
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 pxeproxy >/dev/null
fi
if getent passwd _pxeproxy >/dev/null; then
  die "a user _pxeproxy exists without the package: cannot prove that purge removes it"
fi

build_package() {
  step "build (dpkg-buildpackage -us -uc -b in $work)"
  mkdir -p "$work/src"
  # The working tree as it is, without build directories or git metadata.
  tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./out \
    --exclude=./obj-x86_64-linux-gnu -c . | tar -C "$work/src" -x
  local start=$SECONDS
  if ! (cd "$work/src" &&
        DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
    tail -40 "$work/build.log"
    die "dpkg-buildpackage failed"
  fi
  echo "   $(cd "$work" && ls pxeproxy_*_amd64.deb) in $((SECONDS - start)) s"
  mkdir -p "$out"
  cp "$work"/*.deb "$work"/*.changes "$work/build.log" "$out/"
  lint_target=$(ls "$work"/pxeproxy_*_amd64.changes)
}
if [ -n "${PXEPROXY_DEB:-}" ]; then
  step "using the prebuilt $PXEPROXY_DEB (PXEPROXY_DEB)"
  cp "$PXEPROXY_DEB" "$work/"
  lint_target=$(ls "$work"/pxeproxy_*_amd64.deb)
else
  build_package
fi
deb=$(ls "$work"/pxeproxy_*_amd64.deb)
mkdir -p "$out"

step "lintian (errors and warnings fail)"
if ! lintian --fail-on error,warning "$lint_target" \
    >"$work/lintian.log" 2>&1; then
  cat "$work/lintian.log"
  die "lintian"
fi
grep -v 'running with root privileges' "$work/lintian.log" || echo "   clean"
cp "$work/lintian.log" "$out/"

step "install"
# Paths the package ships that did not exist before: all must go on purge.
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; s|/$||' |
  grep -v '^$' | grep -vx '/' >"$work/shipped"
: >"$work/new"
while read -r p; do [ -e "$p" ] || echo "$p" >>"$work/new"; done <"$work/shipped"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends \
  "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; die "apt-get install"; }
dpkg -L pxeproxy >"$work/dpkg-L"

version=$(/usr/sbin/pxeproxy --version)
[ "$version" = "pxeproxy $(dpkg-query -W -f='${Version}' pxeproxy | sed 's/-[^-]*$//')" ] ||
  die "/usr/sbin/pxeproxy --version says '$version'"
echo "   /usr/sbin/pxeproxy --version: $version"
getent passwd _pxeproxy >/dev/null || die "no user _pxeproxy after install"
[ "$(getent passwd _pxeproxy | cut -d: -f3)" -lt 1000 ] || die "_pxeproxy is not a system user"
for f in /etc/default/pxeproxy /etc/pxeproxy/pxeproxy.flags; do
  grep -qx "$f" /var/lib/dpkg/info/pxeproxy.conffiles || die "$f is not a conffile"
done
man -l /usr/share/man/man8/pxeproxy.8.gz 2>&1 >/dev/null | grep . && die "man page warnings"
# The shipped flag file must parse: an Abseil flagfile error would stop the
# service before it starts.
/usr/sbin/pxeproxy --flagfile=/etc/pxeproxy/pxeproxy.flags --version >/dev/null ||
  die "the shipped flag file does not parse"
if command -v systemd-analyze >/dev/null; then
  if ! systemd-analyze verify /lib/systemd/system/pxeproxy.service \
      >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
    cat "$work/verify.log"
    die "systemd-analyze verify pxeproxy.service"
  fi
  echo "   systemd-analyze verify pxeproxy.service: clean"
  systemd-analyze security --offline=yes /lib/systemd/system/pxeproxy.service \
    2>/dev/null | tail -1 | sed 's/^/   systemd-analyze security: /' || true
fi

step "privilege drop of the installed binary (default --user=_pxeproxy)"
tests/privdrop_netns_test.sh /usr/sbin/pxeproxy default
# One firmware boot through the installed binary, as its own user: UEFI PXE
# (EDK2) -> proxy offer -> port 4011 -> TFTP snponly.efi -> iPXE -> menu.
if [ -x scripts/lab/run-case ] && [ "${PXEPROXY_PKG_LAB:-1}" = 1 ]; then
  step "firmware lab case 'uefi' against /usr/sbin/pxeproxy"
  rm -rf "$out/lab"
  rc=0
  scripts/lab/run-case uefi --pxeproxy /usr/sbin/pxeproxy \
    --artifacts "$out/lab" --timeout 150 || rc=$?
  case $rc in
    0) grep -q "running as uid=$(id -u _pxeproxy) " "$out"/lab/uefi.d/pxeproxy.log ||
         die "the lab's pxeproxy did not run as _pxeproxy" ;;
    77) echo "   (lab skipped)" ;;
    *) die "lab case uefi with the installed binary" ;;
  esac
fi

step "purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 pxeproxy >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; die "apt-get purge"; }
installed=0
left=0
while read -r p; do
  if [ -e "$p" ] || [ -L "$p" ]; then echo "   left behind: $p"; left=1; fi
done <"$work/new"
# Nor anything the maintainer scripts made (the unit's enablement symlink,
# deb-systemd-helper's state, dpkg's own records).
find /etc /lib/systemd /var/lib/systemd /var/lib/dpkg/info /usr/sbin \
  /usr/share/doc /usr/share/man -name '*pxeproxy*' 2>/dev/null >"$work/found" || true
sed 's/^/   left behind: /' "$work/found"
[ -s "$work/found" ] && left=1
[ $left -eq 0 ] || die "files left after purge"
! getent passwd _pxeproxy >/dev/null || die "user _pxeproxy left after purge"
! getent group _pxeproxy >/dev/null || die "group _pxeproxy left after purge"
dpkg-query -W -f='${Status}' pxeproxy 2>/dev/null | grep -q installed &&
  die "pxeproxy still known to dpkg"
echo "   $(wc -l <"$work/new") new paths installed, none left; user and group removed"
echo "PASS: package"
