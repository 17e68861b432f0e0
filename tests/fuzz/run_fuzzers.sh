#!/usr/bin/env bash
# Runs every libFuzzer harness of a -DPXEPROXY_FUZZ=ON build for a while
# each, with its seed corpus, regression inputs and dictionary; fails on any
# crash, broken property, leak or timeout and prints where the input is.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS] [NAME...]
#
# SECONDS defaults to 60; NAMEs default to every harness. PXEPROXY_FUZZ_JOBS
# (default 2) fuzzers run at once. New inputs found go to
# BUILD_DIR/tests/fuzz/found/<name>/ (the repository's corpus is read only),
# crashes to BUILD_DIR/tests/fuzz/artifacts/<name>/, logs beside them.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS] [NAME...]}" && pwd)"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : $# ))
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(udp_frame dhcp decide tftp_packet tftp_admit tftp_session diagnose)
fi
jobs_max="${PXEPROXY_FUZZ_JOBS:-2}"
out="$build/tests/fuzz"

dict_of() {
  case "$1" in
    tftp_*) echo "$here/tftp.dict" ;;
    *) echo "$here/dhcp.dict" ;;
  esac
}

run_one() {
  local name="$1" bin="$out/fuzz_$1"
  local found="$out/found/$name" art="$out/artifacts/$name/"
  local log="$out/logs/$name.log"
  mkdir -p "$found" "$art" "$out/logs"
  rm -f "$art"/* 2>/dev/null
  local dirs=("$found" "$here/corpus/$name")
  [ -d "$here/regressions/$name" ] && dirs+=("$here/regressions/$name")
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -detect_leaks=1 -print_final_stats=1 -dict="$(dict_of "$name")" \
      -artifact_prefix="$art" "${dirs[@]}" >"$log" 2>&1
  local rc=$?
  # The last status line: "#N DONE cov: C ft: F corp: ... exec/s: E".
  local stats
  stats="$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)"
  local execs
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  local eps
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  if [ $rc -eq 0 ]; then
    printf 'fuzz %-13s ok    %ss  %s execs  %s exec/s  %s\n' "$name" \
      "$seconds" "${execs:-?}" "${eps:-?}" \
      "$(echo "$stats" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')"
  else
    printf 'fuzz %-13s FAILED (exit %d), log %s\n' "$name" "$rc" "$log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*FUZZ_CHECK failed|ALARM|.*runtime error)' \
      "$log" | head -5 | sed 's/^/    /'
    for f in "$art"*; do
      [ -f "$f" ] || continue
      echo "    input: $f ($(stat -c %s "$f") bytes)"
      echo "    replay: $bin $f"
      echo "    keep as a regression seed once fixed: tests/fuzz/README.md"
    done
    # The stack of the first report, for the CI log.
    grep -E '^    #[0-9]+ ' "$log" | head -12
    return 1
  fi
}

failed=0
pids=()
for name in "${names[@]}"; do
  if [ ! -x "$out/fuzz_$name" ]; then
    echo "fuzz $name: $out/fuzz_$name not built (cmake --build $build --target fuzzers)"
    failed=1
    continue
  fi
  run_one "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs_max" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
