#!/usr/bin/env bash
# The terminal viewer's redraw cost and bytes written per frame for each
# render mode (symbols truecolor / 256, sixel, kitty) and VGA text, for a
# full-screen change and a one-band change, side by side with the same
# renderer redrawing every row (ratios): tvm-viewer-bench.
#   bench/viewer.sh [FRAMES [COLS ROWS]]   (env TVM_BUILD: the build directory)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${TVM_BUILD:-$SRC/build}/bench/tvm-viewer-bench
[ -x "$BENCH" ] || { echo "viewer bench: $BENCH is not built" >&2; exit 1; }
exec "$BENCH" "$@"
