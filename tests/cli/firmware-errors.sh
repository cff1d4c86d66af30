#!/usr/bin/env bash
# A domain without <kernel> boots the BIOS; what cannot work is refused by
# name before anything runs: a missing or unreadable <os><loader> (file and
# element named), UEFI (<os firmware='efi'>, <loader type='pflash'>), and
# <bootmenu> attributes out of libvirt's range at define. tvm-vmm itself
# names a loader that is not a BIOS image (its size) without booting.
set -euo pipefail
: "${TVM:?} ${TVM_VMM:?}"

T=$(mktemp -d /tmp/tvm-fw-XXXXXX)
trap 'rm -rf "$T"' EXIT
export TVM_RUNDIR=$T/run
DB=$T/db/tvm.db
fail() { echo "FAIL: $*" >&2; exit 1; }

expect_fail() { # TEXT CMD...: CMD fails and its stderr has TEXT
    local want=$1 rc=0
    shift
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -ne 0 ] || fail "'$*' succeeded; expected: $want"
    grep -qF -- "$want" "$T/err" || fail "'$*': stderr lacks '$want': $(cat "$T/err")"
}

fw_xml() { # NAME OS-ATTRS OS-EXTRA
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os$2>
    <type arch='x86_64'>hvm</type>
    $3
  </os>
</domain>
XML
}
define() { fw_xml "$@" >"$T/$1.xml" && "$TVM" --db "$DB" define "$T/$1.xml" >/dev/null; }
state() { "$TVM" --db "$DB" domstate "$1" | head -1; }

define noloader "" "<loader readonly='yes' type='rom'>$T/no-such-bios.bin</loader>"
expect_fail "cannot read firmware (<os><loader>) '$T/no-such-bios.bin': No such file or directory" \
    "$TVM" --db "$DB" start noloader
[ "$(state noloader)" = "shut off" ] || fail "noloader state: $(state noloader)"

head -c 1000 /dev/zero >"$T/unreadable.bin"
chmod 000 "$T/unreadable.bin"
if ! (exec 3<"$T/unreadable.bin") 2>/dev/null; then # root reads it anyway
    define unreadable "" "<loader>$T/unreadable.bin</loader>"
    expect_fail "cannot read firmware (<os><loader>) '$T/unreadable.bin'" \
        "$TVM" --db "$DB" start unreadable
fi

define efi " firmware='efi'" ""
expect_fail "<os firmware='efi'>: only BIOS firmware (SeaBIOS) is supported, not UEFI" \
    "$TVM" --db "$DB" start efi
define pflash "" "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
expect_fail "<loader type='pflash'>: only a BIOS image (type='rom') is supported" \
    "$TVM" --db "$DB" start pflash
[ -z "$(ls -A "$TVM_RUNDIR" 2>/dev/null)" ] || fail "run directory left behind: $(ls -A "$TVM_RUNDIR")"

# <bootmenu>: enable is yes/no, timeout 0-65535 ms; the line is named.
fw_xml badmenu "" "<bootmenu enable='maybe'/>" >"$T/badmenu.xml"
expect_fail "badmenu.xml:7: <bootmenu enable>: invalid value 'maybe' (yes or no)" \
    "$TVM" --db "$DB" define "$T/badmenu.xml"
fw_xml badwait "" "<bootmenu enable='yes' timeout='70000'/>" >"$T/badwait.xml"
expect_fail "<bootmenu timeout>: invalid value '70000' (0-65535 ms)" \
    "$TVM" --db "$DB" define "$T/badwait.xml"
fw_xml menu "" "<boot dev='cdrom'/><boot dev='hd'/><bootmenu enable='yes' timeout='3000'/>" >"$T/menu.xml"
"$TVM" --db "$DB" define "$T/menu.xml" >/dev/null
"$TVM" --db "$DB" dumpxml menu | grep -qF "<bootmenu enable=\"yes\" timeout=\"3000\"/>" ||
    "$TVM" --db "$DB" dumpxml menu | grep -qF "<bootmenu enable='yes' timeout='3000'/>" ||
    fail "bootmenu not kept: $("$TVM" --db "$DB" dumpxml menu)"

# tvm-vmm: a file that is no BIOS image is refused by name and size.
head -c 100 /dev/zero >"$T/tiny.bin"
fw_xml tiny "" "<loader>$T/tiny.bin</loader>" >"$T/tiny.xml"
rc=0
"$TVM_VMM" --domain "$T/tiny.xml" --rundir "$T/vmm" --no-sandbox >"$T/out" 2>"$T/err" </dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "tvm-vmm booted a 100-byte BIOS"
grep -qF "$T/tiny.bin" "$T/err" || fail "tvm-vmm's error does not name the file: $(cat "$T/err")"
echo "ok"
