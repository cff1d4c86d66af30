# The same script run by tvm (--batch) and by virsh on its test driver must
# print the same bytes: messages, tables, info layouts, snapshot tree.
# tvm first gets the objects the test driver starts with (domain 'test',
# network 'default', pool 'default-pool', running).
source "$(dirname "$0")/lib.sh"
# virsh is the oracle; scripts/install-deps.sh installs it: missing is a failure.
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

cat >"$tmp/script.tvm" <<TVM
define $DATA/domain/minimal.xml
list --all --with-snapshot --name
desc minimal x
desc minimal
desc minimal --title
desc minimal --title --new-desc "a title"
desc minimal --title
domrename minimal m2
autostart m2
autostart m2 --disable
domblklist m2
undefine m2
net-define $DATA/network/nat.xml
net-info natted
net-list --all --name
net-autostart natted
net-autostart natted --disable
net-undefine natted
pool-define $DATA/pool/dir.xml
pool-info images
pool-list --all --name
pool-autostart images
pool-autostart images --disable
pool-undefine images
pool-define-as p2 dir --target $tmp/p2
pool-build p2
pool-start p2
pool-list --all --name
pool-refresh p2
pool-destroy p2
pool-list --inactive --details
pool-delete p2
pool-undefine p2
vol-create-as default-pool v1 10M
vol-info v1 --pool default-pool
vol-info --vol v1 --pool default-pool
vol-info --vol=v1 --pool=default-pool
vol-info v1 default-pool --bytes
vol-create-as default-pool v2 20M --format raw
vol-info --pool default-pool v2
vol-delete v1 --pool default-pool
vol-delete --pool default-pool v2
vol-list default-pool
vol-list default-pool --details
snapshot-create test $DATA/snapshot/first.xml --redefine
snapshot-create test $DATA/snapshot/second.xml --redefine --current
snapshot-list test
snapshot-list test --parent
snapshot-list test --tree
snapshot-list test --name
snapshot-current test --name
snapshot-current --domain test --name
list --all --with-snapshot --uuid
list --all --without-snapshot --name
snapshot-list --domain=test --name
domuuid --domain test
desc --domain test
snapshot-create test $tmp/wide.xml --redefine
snapshot-list test
domuuid test
dumpxml test --inactive --xpath //disk/target
dumpxml test --inactive --xpath "//disk|//interface/mac" --wrap
dumpxml test --inactive --xpath //os/type/@arch --wrap
dumpxml --domain test --inactive --xpath=//name/text()
dumpxml test --inactive --xpath //nosuch
dumpxml test --inactive --xpath //nosuch --wrap
net-dumpxml default --xpath //ip
pool-dumpxml default-pool --xpath //target/permissions --wrap
TVM
# A name of wide characters (two columns each): tables align by display
# width, as virsh's do.
sed -e 's|<name>second</name>|<name>快照-一</name>|' -e 's|1795445952|1795445999|' \
    "$DATA/snapshot/second.xml" >"$tmp/wide.xml"

ok tvm define "$DATA/domain/virsh-test.xml"
ok tvm net-define "$DATA/network/virsh-default.xml"
# the test driver's default-pool runs on /default-pool; tvm's runs under $tmp
sed "s:<path>/default-pool</path>:<path>$tmp/default-pool</path>:" \
    "$DATA/pool/virsh-default-pool.xml" >"$tmp/default-pool.xml"
ok tvm pool-create "$tmp/default-pool.xml" --build
ok tvm --batch "$tmp/script.tvm"
mv "$tmp/out" "$tmp/tvm.out"
virsh -c test:///default "$(tr '\n' ';' <"$tmp/script.tvm")" >"$tmp/virsh.out" 2>"$tmp/virsh.err" ||
    fail "virsh failed: $(cat "$tmp/virsh.err")"
if ! cmp -s "$tmp/virsh.out" "$tmp/tvm.out"; then
    diff -u "$tmp/virsh.out" "$tmp/tvm.out" >&2 || true
    fail "tvm's output differs from virsh's (- virsh, + tvm)"
fi
echo "virsh-oracle: ok ($(grep -c . "$tmp/script.tvm") commands, identical output)"
