# `list` pads its Name column by display width, as virsh does: a name of
# wide characters (two columns each) and one with combining accents line up
# with a plain one (rows in byte order of the names, as virsh sorts them).
source "$(dirname "$0")/lib.sh"
export LC_ALL=C.UTF-8

decomposed=$(printf 'e\xcc\x81cole') # e + combining acute: 5 columns
for name in vm 名前テスト "$decomposed"; do
    sed "s|<name>[^<]*</name>|<name>$name</name>|" "$DATA/domain/minimal.xml" >"$tmp/d.xml"
    sed -i '/<uuid>/d' "$tmp/d.xml"
    ok tvm define "$tmp/d.xml"
done
ok tvm list --all
# 名前テスト is 10 columns wide: the widest name, so the column is 10 + 3
expected=" Id   Name         State
-----------------------------
 -    $decomposed        shut off
 -    vm           shut off
 -    名前テスト   shut off
"
[ "$(cat "$tmp/out")" = "${expected%$'\n'}" ] || fail "list is not aligned by display width:
$(cat "$tmp/out")
--- wanted:
$expected"
echo "list-wide: ok"
