#!/usr/bin/env bash
# Fails when the flags of `pxeproxy --helpfull` and those documented in
# man/pxeproxy.8 and in README.md's flag table drift apart, either way:
#   - a flag the binary has but a document does not describe;
#   - a flag a document names (an entry, an example, a mention) that the
#     binary does not have.
# Abseil's own --fromenv, --tryfromenv, --undefok (and the --help variants)
# need no entry; --flagfile, --help and --version do. Every --name in the man
# page is taken for a pxeproxy flag (write other programs' long options in
# words there); README.md's rule is below.
#   tests/docs_drift_test.sh PXEPROXY_BINARY SOURCE_DIR
set -euo pipefail
bin=${1:?usage: docs_drift_test.sh PXEPROXY_BINARY SOURCE_DIR}
src=${2:?usage: docs_drift_test.sh PXEPROXY_BINARY SOURCE_DIR}
man=$src/man/pxeproxy.8
readme=$src/README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --helpfull exits 1 after printing; its flag lines look like
# "    --name (description); default: ...".
"$bin" --helpfull >"$tmp/help" 2>&1 || true
grep -oE '^ +--[a-z][a-z0-9_]* \(' "$tmp/help" |
  sed -E 's/^ +--//; s/ \($//' | sort -u >"$tmp/binary"
if [ "$(wc -l <"$tmp/binary")" -lt 5 ]; then
  echo "FAIL: could not read the flags from '$bin --helpfull':"
  cat "$tmp/help"
  exit 1
fi
# Boolean flags also have a --noNAME form.
awk 'function flush() { if (name != "" && text ~ /default: (true|false);$/) print name }
     /^ +--[a-z][a-z0-9_]* \(/ { flush(); name = $1; sub(/^--/, "", name); text = "" }
     /^$|^ +Flags from / { flush(); name = "" }
     { line = $0; sub(/^ +/, "", line); text = text " " line }
     END { flush() }' "$tmp/help" | sort -u >"$tmp/bools"

printf '%s\n' help version | sort - "$tmp/binary" -u |
  grep -vxE 'fromenv|tryfromenv|undefok' >"$tmp/required"
# Names any document may use without an entry of their own.
printf '%s\n' helpfull helpshort helppackage helpon helpmatch only_check_args \
  fromenv tryfromenv undefok >"$tmp/builtin"
{ cat "$tmp/required" "$tmp/builtin"; sed 's/^/no/' "$tmp/bools"; } |
  sort -u >"$tmp/known"

# man page: an entry is a flag on the tag line right after .TP; a mention is
# any \-\-name in the roff source.
awk 'prev == ".TP" { print } { prev = $0 }' "$man" |
  grep -oE '\\-\\-[a-z][a-z0-9_]*' | sed 's/^\\-\\-//' | sort -u >"$tmp/man_entries"
grep -oE '\\-\\-[a-z][a-z0-9_]*' "$man" | sed 's/^\\-\\-//' |
  sort -u >"$tmp/man_mentions"

# README: an entry is a flag in the first column of the "## Flags" table; a
# mention is any --name in the file.
awk '/^## /{ in_flags = ($0 == "## Flags") } in_flags && /^\|/' "$readme" |
  cut -d'|' -f2 | grep -oE -- '--[a-z][a-z0-9_]*' | sed 's/^--//' |
  sort -u >"$tmp/readme_entries"
# README names other programs' options too (`scripts/setup --no-build`): only
# a code span that is a flag alone (`--notftp`, `--v=1`), and what follows
# the word pxeproxy in a code span or a code block line, count as pxeproxy's.
perl -ne '
  if (/^```/) { $block = !$block; next }
  my @code = $block ? ($_) : /`([^`]+)`/g;
  for my $c (@code) {
    if ($c =~ /^\s*--([a-z][a-z0-9_]*)(=\S*)?\s*$/) { print "$1\n"; next }
    next unless $c =~ /(?:^|[\s\/])pxeproxy\s(.*)$/;
    my $args = $1;
    print "$1\n" while $args =~ /(?<![\w-])--([a-z][a-z0-9_]*)(?![\w-])/g;
  }' "$readme" | sort -u >"$tmp/readme_mentions"

status=0
report() {  # report LIST WHAT
  if [ -s "$1" ]; then
    echo "FAIL: $2:"
    sed 's/^/  --/' "$1"
    status=1
  fi
}
comm -23 "$tmp/required" "$tmp/man_entries" >"$tmp/x"
report "$tmp/x" "in 'pxeproxy --helpfull' but without an entry in man/pxeproxy.8"
comm -23 "$tmp/required" "$tmp/readme_entries" >"$tmp/x"
report "$tmp/x" "in 'pxeproxy --helpfull' but not in README.md's flag table"
comm -23 "$tmp/man_mentions" "$tmp/known" >"$tmp/x"
report "$tmp/x" "named in man/pxeproxy.8 but not a pxeproxy flag"
comm -23 "$tmp/readme_mentions" "$tmp/known" >"$tmp/x"
report "$tmp/x" "named in README.md but not a pxeproxy flag"
if [ $status -eq 0 ]; then
  echo "ok: $(wc -l <"$tmp/required") flags documented in both the man page" \
    "and README.md; no stale names"
fi
exit $status
