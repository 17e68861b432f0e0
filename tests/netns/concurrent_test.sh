#!/usr/bin/env bash
# Two runs of a namespace test at once: both must pass, and neither may leave
# anything behind: no namespace, no process, no file named after its run
# (tests/netns/lib.sh names all of them "ns: run ID", which each run prints;
# a dhclient gone to the background shows its ID in its pid file argument).
# Usage: concurrent_test.sh TEST_SCRIPT [ARGS...]
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ns_require_root
WORK=$(mktemp -d /tmp/pxcc.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$@" >"$WORK/a.log" 2>&1 &
A=$!
"$@" >"$WORK/b.log" 2>&1 &
B=$!
wait $A; RA=$?
wait $B; RB=$?
if [ $RA -eq 77 ] || [ $RB -eq 77 ]; then grep -h SKIPPED "$WORK"/*.log; exit 77; fi

for r in a b; do
  rc=$RA; [ $r = b ] && rc=$RB
  if [ "$rc" -eq 0 ]; then
    pass "run $r passed ($(grep -c '^PASS' "$WORK/$r.log") checks)"
  else
    fail "run $r exited $rc"; grep -E '^(FAIL|SKIPPED)' "$WORK/$r.log" | head -20
  fi
done
ID_A=$(sed -n 's/^ns: run //p' "$WORK/a.log" | head -1)
ID_B=$(sed -n 's/^ns: run //p' "$WORK/b.log" | head -1)
if [ -n "$ID_A" ] && [ -n "$ID_B" ] && [ "$ID_A" != "$ID_B" ]; then
  pass "the runs have their own names ($ID_A, $ID_B)"
else
  fail "the runs do not name their namespaces per run ('$ID_A', '$ID_B')"
fi
sleep 0.5  # what a run killed last is gone from the process table
for id in $ID_A $ID_B; do
  left=$(ip netns list | awk '{print $1}' | grep -F "$id")
  [ -z "$left" ] && pass "no namespace of $id left" ||
    fail "namespaces of $id left: $left"
  left=$(pgrep -af -- "$id")
  [ -z "$left" ] && pass "no process of $id left" ||
    fail "processes of $id left: $left"
  left=$(find /run /var/lib/dhcp /etc/dhcp /tmp -maxdepth 1 -name "*$id*" 2>/dev/null)
  [ -z "$left" ] && pass "no file of $id left" || fail "files of $id left: $left"
done
if [ $FAILS -ne 0 ]; then
  for r in a b; do echo "---- run $r (last 30 lines)"; tail -30 "$WORK/$r.log"; done
fi
[ $FAILS -eq 0 ]
