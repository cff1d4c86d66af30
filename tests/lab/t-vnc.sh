#!/usr/bin/env bash
# The graphical console (issue 11), sandbox on: a guest with
# <graphics type='vnc' port='5957' listen='127.0.0.1' passwd=...> and an
# 800x600 framebuffer (<video><model type='virtio'><resolution/>) paints a
# red top half and a blue bottom half into /dev/fb0 (efifb); vncsnapshot,
# a real VNC client, sees that picture at 800x600 only with the password,
# and `tvm screenshot` gives the same. A second guest in VGA text mode
# (model 'vga', autoport) prints a line on tty0 that the VNC picture and
# the screen's text show, and reads a line that `tvm send-key` types (on
# its virtio keyboard: <input type='keyboard' bus='virtio'>); then a VNC
# client (tests/lab/vnc-probe.c) moves, clicks and scrolls, and the guest
# reads those events from its virtio tablet's /dev/input/eventN with the
# expected coordinates (0..32767 over the screen) and buttons.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
command -v vncsnapshot >/dev/null || fail "vncsnapshot is missing (scripts/install-deps.sh)"
PROBE=${TVM_BUILD:?}/tests/jpeg-probe
[ -x "$PROBE" ] || fail "$PROBE is not built"
VNC_PROBE=$TVM_BUILD/tests/vnc-probe
[ -x "$VNC_PROBE" ] || fail "$VNC_PROBE is not built"

esc() { echo "$1" | sed 's/ /%20/g; s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }
qmp_to() { # NAME JSON: one QMP command on NAME's control socket
    { echo '{"execute": "qmp_capabilities"}'; echo "$2"; sleep 1; } |
        socat -t 5 - "UNIX-CONNECT:$TVM_RUNDIR/$(uuid_of "$1")/control.sock"
}
# near R G B WANT_R WANT_G WANT_B: each component within 60 (JPEG).
near() {
    local i
    local -a got=($1 $2 $3) want=($4 $5 $6)
    for i in 0 1 2; do
        [ "${got[$i]}" -ge $((want[i] - 60)) ] && [ "${got[$i]}" -le $((want[i] + 60)) ] || return 1
    done
}
# ppm_px FILE X Y: "R G B" of a binary PPM with a 15-byte header (P6\nW H\n255\n, W and H of 3 digits).
ppm_px() {
    local w
    w=$(sed -n 2p "$1" | cut -d' ' -f1)
    od -An -tu1 -j $((15 + ($3 * w + $2) * 3)) -N3 "$1" | xargs
}

pattern='r=/tmp/r;b=/tmp/b;printf "\000\000\377\000" >$r;printf "\377\000\000\000" >$b;i=0;while [ $i -lt 18 ];do cat $r $r >$r.n;mv $r.n $r;cat $b $b >$b.n;mv $b.n $b;i=$((i+1));done;{ head -c 960000 $r;head -c 960000 $b; } >/dev/fb0 && echo FB-PATTERN-DONE;sleep 600'
# (the kernel command line keeps no double quotes: single ones instead)
pattern=${pattern//\"/\'}
guest_xml fb 1 256 "console=ttyS0 quiet panic=-1 vt.global_cursor_default=0 tvm.run=$(esc "$pattern")" restart \
    "    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' port='5957' autoport='no' listen='127.0.0.1' passwd='secret12'/>
    <video><model type='virtio'><resolution x='800' y='600'/></model></video>" >"$T/fb.xml"
tvm define "$T/fb.xml" >/dev/null || fail "define fb"

step "start: the VNC server listens on 127.0.0.1:5957 and on vnc.sock (0600)"
expect_out "Domain 'fb' started" tvm start fb
u=$(uuid_of fb)
[ -S "$TVM_RUNDIR/$u/vnc.sock" ] || fail "no vnc.sock in $(ls "$TVM_RUNDIR/$u")"
[ "$(stat -c %a "$TVM_RUNDIR/$u/vnc.sock")" = 600 ] || fail "vnc.sock is $(stat -c %a "$TVM_RUNDIR/$u/vnc.sock")"
grep -q 'Seccomp:[[:space:]]*2' /proc/"$(vmm_pid fb)"/status || fail "tvm-vmm runs without its seccomp filter"
[ "$(tvm vncdisplay fb)" = "127.0.0.1:57" ] || fail "vncdisplay: '$(tvm vncdisplay fb)'"
[ "$(tvm domdisplay fb)" = "vnc://127.0.0.1:57" ] || fail "domdisplay: '$(tvm domdisplay fb)'"
grep -rq secret12 "$TVM_RUNDIR/$u/vmm.log" && fail "the VNC password is in vmm.log"

step "the guest paints its framebuffer"
wait_count fb FB-PATTERN-DONE 1

step "vncsnapshot with the password sees 800x600, red above, blue below"
printf 'secret12' | openssl enc -provider legacy -provider default -des-cbc -nopad -nosalt \
    -K e84ad660c4721ae0 -iv 0000000000000000 >"$T/passwd" || fail "cannot write a VNC password file"
timeout 60 vncsnapshot -quiet -passwd "$T/passwd" 127.0.0.1:57 "$T/fb.jpg" </dev/null >"$T/snap.out" 2>&1 ||
    fail "vncsnapshot: $(cat "$T/snap.out")"
mapfile -t px < <("$PROBE" "$T/fb.jpg" 400 150 400 450 20 20 780 580)
[ "${px[0]}" = "800 600" ] || fail "vncsnapshot's picture is ${px[0]}, not 800 600"
near ${px[1]} 255 0 0 || fail "top half is '${px[1]}', not red"
near ${px[3]} 255 0 0 || fail "top left is '${px[3]}', not red"
near ${px[2]} 0 0 255 || fail "bottom half is '${px[2]}', not blue"
near ${px[4]} 0 0 255 || fail "bottom right is '${px[4]}', not blue"

step "without the password, no picture"
rm -f "$T/nopw.jpg"
timeout 30 vncsnapshot -quiet 127.0.0.1:57 "$T/nopw.jpg" </dev/null >/dev/null 2>&1 && [ -s "$T/nopw.jpg" ] &&
    fail "vncsnapshot got a picture without the password"
echo 0123456789 >"$T/wrong"
printf 'wrongpw1' | openssl enc -provider legacy -provider default -des-cbc -nopad -nosalt \
    -K e84ad660c4721ae0 -iv 0000000000000000 >"$T/wrong"
timeout 30 vncsnapshot -quiet -passwd "$T/wrong" 127.0.0.1:57 "$T/wrong.jpg" </dev/null >/dev/null 2>&1 &&
    [ -s "$T/wrong.jpg" ] && fail "vncsnapshot got a picture with a wrong password"

step "tvm screenshot gives the same picture (PPM and PNG)"
expect_out "Screenshot saved to $T/shot.ppm, with type of image/x-portable-pixmap" tvm screenshot fb "$T/shot.ppm"
[ "$(head -c 15 "$T/shot.ppm" | tr '\n' ' ')" = "P6 800 600 255 " ] || fail "screenshot header: $(head -c 15 "$T/shot.ppm" | od -c)"
[ "$(ppm_px "$T/shot.ppm" 400 150)" = "255 0 0" ] || fail "screenshot top: $(ppm_px "$T/shot.ppm" 400 150)"
[ "$(ppm_px "$T/shot.ppm" 400 450)" = "0 0 255" ] || fail "screenshot bottom: $(ppm_px "$T/shot.ppm" 400 450)"
expect_out "with type of image/png" tvm screenshot fb "$T/shot.png"
[ "$(head -c 8 "$T/shot.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "not a PNG"
[ "$(od -An -tu1 -j 16 -N8 "$T/shot.png" | xargs)" = "0 0 3 32 0 0 2 88" ] || fail "PNG is not 800x600"
tvm destroy fb >/dev/null

step "VGA text mode: a line on tty0 shows in the screen's text and its picture"
text='echo TEXT-LINE-42 >/dev/tty0;read -r l </dev/tty0;echo KEYS:$l'
# the tablet's events, read from its evdev node until a line is typed, then dumped in hex
text+=';for e in /sys/class/input/event*;do grep -q tablet $e/device/name && d=/dev/input/${e##*/};done'
text+=';cat $d >/tmp/ev & sleep 1;echo TABLET:$d;read -r l </dev/tty0;kill $!;od -An -tx1 -v /tmp/ev|sed s/^/EV:/;echo EV-END;sleep 600'
guest_xml txt 1 256 "console=tty0 console=ttyS0 quiet panic=-1 tvm.run=$(esc "$text")" restart \
    "    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
    <input type='tablet' bus='virtio'/>
    <input type='keyboard' bus='virtio'/>" >"$T/txt.xml"
tvm define "$T/txt.xml" >/dev/null || fail "define txt"
expect_out "Domain 'txt' started" tvm start txt
wait_count txt TVM-GUEST-UP 1
disp=$(tvm vncdisplay txt)
[[ $disp =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "vncdisplay txt: '$disp'"
deadline=$((SECONDS + 60))
until qmp_to txt '{"execute": "x-tvm-query-screen"}' | grep -q 'TEXT-LINE-42'; do
    [ $SECONDS -lt $deadline ] || fail "the tty0 line is not on the screen: $(qmp_to txt '{"execute": "x-tvm-query-screen"}')"
    sleep 1
done
row=$(qmp_to txt '{"execute": "x-tvm-query-screen"}' | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l).get("return", {})
    if "lines" in r:
        print([i for i, t in enumerate(r["lines"]) if "TEXT-LINE-42" in t][0])')
expect_out "image/x-portable-pixmap" tvm screenshot txt "$T/txt.ppm"
[ "$(head -c 15 "$T/txt.ppm" | tr '\n' ' ')" = "P6 640 400 255 " ] || fail "text screenshot header: $(head -c 15 "$T/txt.ppm" | od -c)"
lit=$(od -An -tu1 -v -j $((15 + row * 16 * 640 * 3)) -N $((16 * 640 * 3)) "$T/txt.ppm" | tr -s ' ' '\n' | grep -c '^[1-9]' || true)
[ "$lit" -gt 100 ] || fail "row $row of the text picture is blank ($lit lit bytes)"
timeout 60 vncsnapshot -quiet "$disp" "$T/txt.jpg" </dev/null >"$T/snap.out" 2>&1 || fail "vncsnapshot txt: $(cat "$T/snap.out")"
[ "$("$PROBE" "$T/txt.jpg" | head -1)" = "640 400" ] || fail "text VNC picture is $("$PROBE" "$T/txt.jpg" | head -1)"

step "tvm send-key types into the shell reading tty0 (linux names, xt, atset1) on the virtio keyboard"
tvm send-key txt KEY_T >/dev/null || fail "send-key KEY_T"
tvm send-key txt --codeset xt 0x17 >/dev/null || fail "send-key xt 0x17"
tvm send-key txt --holdtime 50 --codeset atset1 0x1c >/dev/null || fail "send-key atset1 0x1c"
wait_count txt "^KEYS:ti" 1 60
expect_err "invalid keycode: 'KEY_NOPE'" tvm send-key txt KEY_NOPE
expect_err "unknown codeset: 'bogus'" tvm send-key txt --codeset bogus 1

step "a VNC client's pointer reaches the guest's virtio tablet"
wait_count txt "^TABLET:/dev/input/event" 1 60
# 640x400 text screen: the middle, a left click, the far corner with a
# right click, one wheel notch down (VNC button 5)
"$VNC_PROBE" "$disp" pointer 320,200,0 320,200,1 320,200,0 639,399,4 639,399,0 639,399,16 639,399,0 ||
    fail "vnc-probe could not send the pointer events"
tvm send-key txt KEY_ENTER >/dev/null || fail "send-key KEY_ENTER"
wait_count txt "^EV-END" 1 60
# struct input_event on x86-64: 16 bytes of time, u16 type, u16 code, s32 value
got=$(tr -d '\r' <"$LOGDIR/txt.console.log" | sed -n 's/^EV://p' | python3 -c '
import struct, sys
raw = bytes.fromhex("".join(sys.stdin.read().split()))
for i in range(0, len(raw) - 23, 24):
    t, c, v = struct.unpack_from("<HHi", raw, i + 16)
    if (t, c) in ((3, 0), (3, 1), (1, 0x110), (1, 0x111), (2, 8)):
        print(t, c, v, end=";")')
# ABS_X/ABS_Y of pixel (320,200): 320*32767/639, 200*32767/399
want="3 0 16409;3 1 16424;1 272 1;1 272 0;3 0 32767;3 1 32767;1 273 1;1 273 0;2 8 -1;"
[ "$got" = "$want" ] || fail "the tablet's events are '$got', wanted '$want'"
tvm destroy txt >/dev/null
echo "ok"
