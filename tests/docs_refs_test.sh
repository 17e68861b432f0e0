#!/usr/bin/env bash
# The product stands alone: fails when
#   - a file outside docs/ and tests/golden/ refers to notes that are not in
#     the repository (PROTOCOL.md, STYLE.md, DESIGN.md, BUILD-NOTES.md, a
#     shared/ folder) or to a tracker's "issue <number>": cite
#     docs/protocol.md or docs/architecture.md, or say the fact in place;
#   - a citation of docs/protocol.md names a section title that the file
#     does not have (code cites it as: docs/protocol.md "Relays and giaddr",
#     the title without its number; a citation may wrap over comment lines);
#   - a cross-reference inside docs/protocol.md (see "Title") does.
#   tests/docs_refs_test.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: docs_refs_test.sh SOURCE_DIR}
cd "$src"
protocol=docs/protocol.md
if [ ! -f "$protocol" ]; then
  echo "FAIL: $protocol is missing"
  exit 1
fi

# Tracked files when this is a git checkout, else every file but builds.
list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files
  else
    find . -type f -not -path './.git/*' -not -path './build*' \
      -not -path './obj-*' -not -path './debian/.debhelper/*' | sed 's|^\./||'
  fi
}

# Section titles: "## 11. Relays and giaddr" -> "Relays and giaddr".
titles=$(sed -nE 's/^##+ +([0-9]+\. +)?//p' "$protocol")

export TITLES="$titles"
list_files | grep -v '^tests/docs_refs_test\.sh$' | perl -e '
  use strict; use warnings;
  my %title = map { $_ => 1 } split /\n/, $ENV{TITLES};
  my $fail = 0;
  while (my $f = <STDIN>) {
    chomp $f;
    next unless -f $f && -T $f;
    open(my $fh, "<", $f) or next;
    local $/; my $text = <$fh>; close $fh;
    my $outside_ok = $f =~ m{^(docs/|tests/golden/)};
    unless ($outside_ok) {
      my $n = 0;
      for my $line (split /\n/, $text) {
        $n++;
        my @hits;
        push @hits, $1 while $line =~ /\b((?:PROTOCOL|STYLE|DESIGN)\.md)\b/g;
        push @hits, $1 while $line =~ /\b(BUILD-NOTES(?:\.md)?)/gi;
        push @hits, $1 while $line =~ /(?<![\w.\/-])(shared\/)/g;
        push @hits, $1 while $line =~ /\b(issues?\s+#?\d+)/gi;
        next unless @hits;
        print "FAIL: $f:$n refers outside the repository (",
              join(", ", @hits), "): $line\n";
        $fail = 1;
      }
    }
    # Citations, with comment prefixes of wrapped lines joined away.
    (my $joined = $text) =~ s{\s*\n\s*(?://+|#+|\*+|;+)?\s*}{ }g;
    while ($joined =~ /(?:docs\/)?protocol\.md,?\s+["\x27]([^"\x27]{2,80})["\x27]/g) {
      my $t = $1;
      next if $title{$t};
      print "FAIL: $f cites docs/protocol.md \"$t\", which has no such section\n";
      $fail = 1;
    }
    if ($f eq "docs/protocol.md") {
      while ($joined =~ /\bsee\s+"([^"]{2,80})"/g) {
        next if $title{$1};
        print "FAIL: $f refers to section \"$1\", which does not exist\n";
        $fail = 1;
      }
    }
  }
  exit $fail;
' || { echo "docs_refs: FAILED"; exit 1; }
echo "docs_refs: ok"
