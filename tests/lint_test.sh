#!/usr/bin/env bash
# Static checks: clang-format over every C++ file; over the product code
# (not the tests) clang-tidy with the repository's .clang-tidy (bugprone,
# performance, functions of at most 60 lines; any warning fails) and files
# of at most 400 lines, so that each part stays small enough to read whole.
#   tests/lint_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
cd "$src"
if ! command -v clang-tidy >/dev/null; then
  echo "SKIPPED: clang-tidy is not installed (scripts/deps.txt lists it)"
  exit 77
fi
if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json missing (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2
  exit 1
fi
# The product's own .h and .cc files (tests and test tools excluded).
product_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -- wire proxydhcp tftp capture metrics '*.cc' '*.h'
  else
    find wire proxydhcp tftp capture metrics -type f
    find . -maxdepth 1 -type f -printf '%P\n'
  fi | grep -E '^([a-z_]+/)?[^/]+\.(cc|h)$' | grep -v '^tests/' | sort -u
}
mapfile -t files < <(product_files)
mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep '\.cc$')
fail=0
for f in "${files[@]}"; do
  n=$(wc -l <"$f")
  if [ "$n" -gt 400 ]; then
    echo "lint: $f has $n lines (at most 400: split it along its seams)"
    fail=1
  fi
done
# Format (Google style, .clang-format) over every C++ file, tests included.
if command -v clang-format >/dev/null; then
  all_cc() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files '*.cc' '*.h'
    else
      find . -name '*.cc' -o -name '*.h' | grep -v '^./build'
    fi
  }
  # -Werror turns each finding into "error: code should be clang-formatted".
  if all_cc | xargs clang-format --dry-run -Werror 2>&1 |
    grep -m 20 -- '-Wclang-format-violations'; then
    echo "lint: not clang-formatted (clang-format -i the files above)"
    fail=1
  fi
fi
# Two at a time: clang-tidy is a compiler front end per file.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! printf '%s\n' "${sources[@]}" |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet >"$out" 2>&1; then
  fail=1
fi
if grep -E 'warning:|error:' "$out"; then
  fail=1
fi
[ "$fail" -eq 0 ] && echo "lint: ${#sources[@]} files clean (clang-tidy, sizes)"
exit "$fail"
