#!/usr/bin/env bash
# The event log keeps a bounded history: the newest TVM_EVENTS_KEEP events
# (by count) that are at most TVM_EVENTS_MAX_DAYS days old; a bad bound is
# an error naming the variable, and it changes nothing.
. "$(dirname "$0")/lib.sh"

# 150 define/undefine pairs: 300 events, of which 100 are kept.
for i in $(seq 1 150); do
    echo "define $DATA/domain/minimal.xml"
    echo "undefine minimal"
done >"$tmp/churn.tvm"
TVM_EVENTS_KEEP=100 run 0 tvm --batch "$tmp/churn.tvm"
ok tvm events
[ "$(grep -c "domain 'minimal'" "$tmp/out")" -eq 100 ] ||
    fail "want the newest 100 events, got $(grep -c "domain 'minimal'" "$tmp/out")"
tail -1 "$tmp/out" | grep -q "undefined" || fail "the newest event is not the last undefine"
head -1 "$tmp/out" | grep -q "defined added" || fail "the oldest kept event is not a define"

# Events older than the age bound go (ids grow with time: the oldest rows
# are dropped first); recent ones stay.
old_ms=$(($(date +%s) * 1000 - 100 * 86400 * 1000))
sqlite3 "$DB" "INSERT INTO events (id, time_ms, object_kind, object_name, event, detail)
               VALUES (1, $old_ms, 'domain', 'ancient', 'defined', 'added');"
ok tvm events --domain ancient
out_has "domain 'ancient': defined"
ok tvm define "$DATA/domain/minimal.xml"
ok tvm events --domain ancient
out_lacks "ancient"
ok tvm events --domain minimal
[ "$(grep -c "domain 'minimal'" "$tmp/out")" -eq 101 ] || fail "recent events were dropped"

# a bad bound: refused by name, nothing is defined
TVM_EVENTS_KEEP=lots run 1 tvm undefine minimal
err_has "TVM_EVENTS_KEEP='lots': want a whole number from 1 to"
TVM_EVENTS_MAX_DAYS=0 run 1 tvm undefine minimal
err_has "TVM_EVENTS_MAX_DAYS='0'"
ok tvm dominfo minimal
echo "events-bounded: ok"
