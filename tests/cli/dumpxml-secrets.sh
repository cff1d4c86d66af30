#!/usr/bin/env bash
# Issue 10, finding 13 (dumpxml's half): as virsh, dumpxml leaves out the
# VNC passwd unless --security-info is given; the stored definition keeps it.
source "$(dirname "$0")/lib.sh"

sed 's|</devices>|<graphics type="vnc" port="-1" passwd="s3cr3t-pw"/></devices>|' \
    "$DATA/domain/minimal.xml" >"$tmp/vnc.xml"
grep -q 's3cr3t-pw' "$tmp/vnc.xml" || fail "test domain has no <graphics passwd>"
ok tvm define "$tmp/vnc.xml"
dom=$(names)

ok tvm dumpxml "$dom"
out_lacks "s3cr3t-pw"
out_lacks "passwd="
out_has "<graphics type='vnc'"
ok tvm dumpxml --security-info "$dom"
out_has "passwd='s3cr3t-pw'"
ok tvm dumpxml "$dom" --inactive
out_lacks "s3cr3t-pw"
echo "dumpxml-secrets: ok"
