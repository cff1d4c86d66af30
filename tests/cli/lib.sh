# Helpers for the command-line tests: each test sources this file, gets a
# private directory ($tmp) with its own database and run directory, and
# drives the real tvm binary ($TVM) through `tvm`.
set -euo pipefail

: "${TVM:?set TVM to the tvm binary}"
: "${TVM_SRC:?set TVM_SRC to the source tree}"
DATA="$TVM_SRC/tests/data/xml"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvm-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
DB="$tmp/tvm.db"
export TVM_RUNDIR="$tmp/run"
export TZ=UTC
mkdir -p "$TVM_RUNDIR"

tvm() {
    "$TVM" --db "$DB" "$@"
}

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$tmp/out" ]; then
        echo "--- stdout:" >&2
        cat "$tmp/out" >&2
    fi
    if [ -s "$tmp/err" ]; then
        echo "--- stderr:" >&2
        cat "$tmp/err" >&2
    fi
    exit 1
}

# run EXPECTED_RC CMD...: runs CMD with stdout in $tmp/out and stderr in
# $tmp/err and checks its exit code.
run() {
    local want=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, want $want"
}

# ok CMD...: run and expect success.
ok() {
    run 0 "$@"
}

out_has() {
    grep -qF -- "$1" "$tmp/out" || fail "stdout lacks '$1'"
}

out_lacks() {
    ! grep -qF -- "$1" "$tmp/out" || fail "stdout has '$1'"
}

err_has() {
    grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1'"
}

# out_is TEXT: stdout is exactly TEXT (TEXT as printf %s would write it).
out_is() {
    local want
    want=$(printf '%s' "$1")
    [ "$(cat "$tmp/out")" = "$want" ] || fail "stdout is not: $want"
}

err_is() {
    [ "$(cat "$tmp/err")" = "$1" ] || fail "stderr is not: $1"
}

# names: the defined domains, one per line (from list --all --name).
names() {
    "$TVM" --db "$DB" list --all --name | sed '/^$/d'
}

# Run directly (ctest picks up every tests/cli/*.sh), this file tests its
# own helpers: each must fail when what it checks is false.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    must_fail() {
        if ("$@") >/dev/null 2>&1; then
            echo "FAIL: '$*' passed" >&2
            exit 1
        fi
    }
    run 0 true
    must_fail run 0 false
    must_fail run 1 true
    run 3 sh -c 'echo hello; echo oops >&2; exit 3'
    out_has hello
    err_has oops
    out_is hello
    must_fail out_has absent
    must_fail out_lacks hello
    must_fail err_has absent
    must_fail out_is hell
    must_fail err_is other
    ok tvm version
    out_has "tvm "
    [ -z "$(names)" ] || fail "a new database lists domains"
    echo "lib: ok"
fi
