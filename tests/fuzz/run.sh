#!/usr/bin/env bash
# Runs every libFuzzer target of a TVM_FUZZ build for a bounded time, each
# over a fresh copy of its seed corpus (tests/fuzz/corpus/<target>), and
# fails if any of them reports a crash, a leak, a sanitizer error, a
# timeout or running out of memory. Builds nothing:
#
#   CC=clang cmake -S . -B build-fuzz -DTVM_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
#   cmake --build build-fuzz -j
#   tests/fuzz/run.sh build-fuzz                 # every target, 60 s each
#   FUZZ_SECONDS=300 tests/fuzz/run.sh build-fuzz fuzz-qcow2
#
# Environment:
#   FUZZ_SECONDS    time per target (default 60)
#   FUZZ_ARTIFACTS  where a failing input and its log are kept
#                   (default ./fuzz-artifacts)
#   FUZZ_MERGE=1    afterwards, merge what the run found into the
#                   repository's corpora (minimised, for a maintainer to
#                   review and commit)
# One line per target: status, executions, coverage (edges, features) and
# corpus size. Exit 0 when every target ran clean, 1 otherwise, 2 on usage.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-}
if [ -z "$build" ] || [ ! -d "$build/tests/fuzz" ]; then
    echo "usage: $0 BUILD_DIR [TARGET...]  (a build configured with -DTVM_FUZZ=ON)" >&2
    exit 2
fi
build=$(cd "$build" && pwd)
shift
seconds=${FUZZ_SECONDS:-60}
artifacts=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for bin in "$build"/tests/fuzz/fuzz-*; do
        [ -x "$bin" ] && [ -f "$bin" ] && targets+=("$(basename "$bin")")
    done
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "run.sh: no fuzz targets in $build/tests/fuzz (built with -DTVM_FUZZ=ON?)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tvm-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/$t"
    if [ ! -x "$bin" ]; then
        echo "$t: FAIL no such target in $build/tests/fuzz"
        failed=1
        continue
    fi
    dir="$work/$t"
    mkdir -p "$dir/corpus" "$dir/out"
    [ -d "$here/corpus/$t" ] && cp "$here/corpus/$t"/* "$dir/corpus/" 2>/dev/null
    log="$dir/log"
    # -timeout: one input running this long is a hang, reported like a crash.
    # -rss_limit_mb: ASan's quarantine counts; a target above it has a leak
    # or an input that makes the code under test allocate without bound.
    (cd "$dir/out" && TMPDIR="$dir" "$bin" -max_total_time="$seconds" -timeout=30 \
        -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$dir/out/" \
        "$dir/corpus" >"$log" 2>&1)
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[^ ]*\).*/\1/p' <<<"$last")
    # A sanitizer report that did not stop the run is still a failure.
    if [ $rc -eq 0 ] && grep -qE '^(==[0-9]+==ERROR|SUMMARY: [A-Za-z]+Sanitizer)|runtime error:' "$log"; then
        rc=1
    fi
    if [ $rc -eq 0 ]; then
        echo "$t: ok ${seconds}s, ${execs:-?} execs, cov ${cov:-?} ft ${ft:-?}, corpus ${corp:-?}"
        if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -d "$here/corpus/$t" ]; then
            "$bin" -merge=1 "$here/corpus/$t" "$dir/corpus" >"$dir/merge.log" 2>&1 ||
                echo "$t: merge into $here/corpus/$t failed (see $dir/merge.log)"
        fi
        continue
    fi
    failed=1
    kind=$(grep -m1 -oE 'FUZZ PROPERTY BROKEN: .*' "$log")
    [ -n "$kind" ] || kind=$(grep -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer): [a-z-]+[^ ]*' "$log" | head -n 1)
    [ -n "$kind" ] || kind=$(grep -m1 -oE 'runtime error: .*' "$log")
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    keep="$artifacts/$t"
    mkdir -p "$keep"
    cp "$log" "$keep/log"
    [ -n "$crash" ] && [ -f "$crash" ] && cp "$crash" "$keep/"
    echo "$t: FAIL (exit $rc) ${kind:-see log}; input: ${crash:+$keep/$(basename "$crash")}; log: $keep/log"
    echo "  reproduce: $bin $keep/$(basename "${crash:-INPUT}")"
    grep -E '^(==[0-9]+==ERROR|    #[0-9]+ |SUMMARY|FUZZ PROPERTY)|runtime error:' "$log" | head -n 30 | sed 's/^/  | /'
done
exit $failed
