#!/usr/bin/env bash
# vncviewer and console --graphics refuse what they cannot show, with
# virsh's wording where it has one and changing nothing: an unknown domain,
# one that is not running, a --mode that is not a render mode (a usage
# error), a missing argument. What they show is checked on real guests
# in lab/t-tui-graphics and unit/test-viewer.
source "$(dirname "$0")/lib.sh"

cat >"$tmp/g.xml" <<'XML'
<domain type='kvm'>
  <name>g</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel></os>
  <devices><video><model type='virtio'/></video></devices>
</domain>
XML
ok tvm define "$tmp/g.xml"

run 1 tvm vncviewer nosuch
err_has "domain 'nosuch' not found"
run 1 tvm vncviewer g
err_has "Domain is not running"
run 1 tvm console g --graphics
err_has "Domain is not running"
run 2 tvm vncviewer g --mode bogus
err_has "--mode: 'bogus' is not one of auto, 256, truecolor, sixel, kitty"
run 2 tvm vncviewer
err_has "usage: vncviewer DOMAIN [--mode auto|256|truecolor|sixel|kitty]"
ok tvm help vncviewer
out_has "show a running guest's screen on this terminal"
ok tvm domstate g
out_has "shut off"
echo "vncviewer: ok"
