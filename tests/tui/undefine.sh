# Undefine asks first: 'n' keeps the domain, 'y' removes it (screen and store).
source "$(dirname "$0")/lib.bash"

define keepme 1 256
define dropme 1 256
tui_start 100 30
wait_for " dropme "
# the list is by name: dropme is first
keys u
wait_for "Undefine (remove the definition of) domain 'dropme'?"
keys n
wait_for "undefine of 'dropme' cancelled"
"$TVM" --db "$DB" list --all --name | grep -qx dropme || fail "'n' removed the domain"
row dropme | grep -q dropme || fail "'n' removed the row"

# F9 asks the same; y removes it
keys F9
wait_for "domain 'dropme'?"
keys y
wait_gone " dropme "
"$TVM" --db "$DB" list --all --name | grep -qx dropme && fail "domain still in the store"
"$TVM" --db "$DB" list --all --name | grep -qx keepme || fail "the other domain went too"
row keepme | grep -q keepme || fail "keepme row missing"

keys q
wait_for "TVM-EXIT=0"
echo ok
