# Domains defined or undefined by another tvm show up without a keypress.
source "$(dirname "$0")/lib.bash"

define first 1 256
tui_start 100 30
wait_for " first "
wait_for "domains 1"

define second 2 512
wait_for " second " 5
wait_for "domains 2"

"$TVM" --db "$DB" undefine first >/dev/null
wait_gone " first " 5
wait_for "domains 1"

keys q
wait_for "TVM-EXIT=0"
echo ok
