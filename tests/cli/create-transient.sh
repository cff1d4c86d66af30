# create FILE (a transient domain) where no guest can boot: a definition
# that clashes with a stored domain is refused with virsh's own message
# (virsh's test driver is asked the same), options tvm cannot honour are
# refused by name, and a create whose start fails leaves nothing: no
# record, no run directory, no event of a domain that never ran, the
# inventory as it was. The transient domain's life (listed while it runs,
# gone after destroy or a killed tvm-vmm, define/undefine switching it) is
# driven with a real guest in tests/lab/t-lifecycle.sh.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

# The test driver's own domain 'test', defined in tvm with the same uuid.
TEST_UUID=6695eb01-f6a4-8304-79aa-97f2502e193f
xml() { # name uuid [arch]
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='${3:-x86_64}'>hvm</type><kernel>$tmp/no-kernel</kernel></os>
</domain>
XML
}
xml test "$TEST_UUID" >"$tmp/test.xml"
xml test 11111111-2222-3333-4444-666666666666 >"$tmp/same-name.xml"
xml other "$TEST_UUID" >"$tmp/same-uuid.xml"
xml tr 11111111-2222-3333-4444-555555555555 >"$tmp/tr.xml"
xml sparc 11111111-2222-3333-4444-777777777777 sparc >"$tmp/sparc.xml"
ok tvm define "$tmp/test.xml"
snapshot() { tvm list --all --uuid; tvm events | grep -v "^$" | wc -l; ls -A "$TVM_RUNDIR"; }
before=$(snapshot)

# virsh_err FILE: the message virsh's test driver gives for `create FILE`.
virsh_err() {
    (cd "$tmp" && { virsh -c test:///default create "$1" 2>&1 >/dev/null || true; } |
        sed -n '2s/^error: //p')
}
for f in same-name.xml same-uuid.xml; do
    want=$(virsh_err "$f")
    case $want in "operation failed: domain 'test' "*) ;; *) fail "virsh said '$want' for $f" ;; esac
    run 1 tvm create "$tmp/$f"
    err_has "Failed to create domain from $tmp/$f: $want"
done
[ "$(snapshot)" = "$before" ] || fail "a refused create changed the inventory: $(snapshot)"

# A persistent domain of the same name and uuid: libvirt would run it on
# the new XML; tvm refuses, saying what to do instead.
run 1 tvm create "$tmp/test.xml"
err_has "domain 'test' is already defined; start it (tvm start test) or undefine it first"

# Options: --autodestroy by name with the reason, unknown ones by name.
run 1 tvm create "$tmp/tr.xml" --autodestroy
err_has "create --autodestroy is not supported: tvm has no client connection"
run 2 tvm create "$tmp/tr.xml" --reset-nvram
err_has "command 'create' doesn't support option --reset-nvram"
run 2 tvm create
# The checks define makes: a guest tvm-vmm cannot run is refused, naming the field.
run 1 tvm create "$tmp/sparc.xml"
err_has "sparc"
run 1 tvm create "$tmp/missing.xml"
err_has "missing.xml"
[ "$(snapshot)" = "$before" ] || fail "a refused create changed the inventory: $(snapshot)"

# A start that fails (no kernel file, or no usable /dev/kvm here): virsh's
# prefix with the start's reason, and nothing remains of the domain.
run 1 tvm create "$tmp/tr.xml"
err_has "Failed to create domain from $tmp/tr.xml: "
run 1 tvm dominfo tr
err_has "'tr'"
ok tvm list --all --name
out_lacks tr
ok tvm list --transient --all
out_lacks tr
[ "$(snapshot)" = "$before" ] || fail "a failed create left something: $(snapshot) (was $before)"
! pgrep -f -- "--rundir $TVM_RUNDIR/" >/dev/null || fail "a tvm-vmm process was left running"

# Once its name is free again, the same file defines a persistent domain.
ok tvm define "$tmp/tr.xml"
ok tvm dominfo tr
grep -qE '^Persistent: +yes$' "$tmp/out" || fail "defined domain not persistent"
ok tvm list --transient --all --name
out_lacks tr
ok tvm undefine tr

# dumpxml --update-cpu: a <cpu> libvirt would rewrite as a named model
# (host-model, custom with a <model>) is refused by name, since tvm-vmm
# gives the host's CPU whatever it says; one libvirt leaves alone
# (host-passthrough, maximum, no <cpu>, a bare topology) prints as without
# the option.
cpu_case() { # RC CPU-ELEMENT
    sed "s|<vcpu>1</vcpu>|<vcpu>1</vcpu>$2|" "$tmp/tr.xml" >"$tmp/cpu.xml"
    ok tvm define "$tmp/cpu.xml"
    ok tvm dumpxml tr
    cp "$tmp/out" "$tmp/plain"
    run "$1" tvm dumpxml tr --update-cpu
    if [ "$1" = 0 ]; then
        cmp -s "$tmp/out" "$tmp/plain" || fail "--update-cpu changed the XML of $2"
    else
        err_has "dumpxml --update-cpu is not supported for <cpu mode="
        err_has "no CPU model table"
    fi
    ok tvm undefine tr
}
cpu_case 0 ""
cpu_case 0 "<cpu mode='host-passthrough'/>"
cpu_case 0 "<cpu mode='maximum'/>"
cpu_case 0 "<cpu><topology sockets='1' cores='1' threads='1'/></cpu>"
cpu_case 1 "<cpu mode='host-model'/>"
cpu_case 1 "<cpu mode='custom'><model>Skylake-Client</model></cpu>"
cpu_case 1 "<cpu><model>qemu64</model></cpu>"
echo "ok"
