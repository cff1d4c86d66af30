#!/usr/bin/env bash
# The TUI's graphical console (issue 11) on two real guests booted side by
# side, read back from tmux as a user would see it:
#   - txt, VGA text mode (video 'vga'), a shell loop reading lines on tty0:
#     `g` shows its screen as text (capture-pane reads the line it printed
#     on tty0, light grey on black as VGA drew it); keys typed there and a
#     bracketed paste (tmux paste-buffer -p: capitals and symbols, through
#     the US keymap) reach that shell (it echoes them back on ttyS0 and
#     tty0); the Ctrl-G menu's Ctrl-Alt-F2 switches the guest to its second
#     VT (its own line shows, tty1's goes) and Ctrl-Alt-F1 back; Ctrl-T switches
#     to the serial console pane and back; Ctrl-] returns to the list.
#   - fb, a 1024x768 framebuffer painted red | green over blue | white:
#     the pane (symbols: tmux) shows those colours in those quadrants
#     (capture-pane -e, SGR colours per cell); a larger terminal rescales
#     the picture; `G`, the full-screen view as `tvm vncviewer`, shows them
#     too and Ctrl-] comes back to the TUI.
# Env: TVM, TVM_SRC, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${LAB_KERNEL:?} ${LAB_INITRD:?}"
source "$TVM_SRC/tests/tui/lib.bash"
source "$TVM_SRC/tests/lab/guest-xml.sh"
BOOT=${LAB_BOOT_TIMEOUT:-240}
LOGDIR=$TMP/log

cleanup_guests() {
    "$TVM" --db "$DB" destroy txt >/dev/null 2>&1 || true
    "$TVM" --db "$DB" destroy fb >/dev/null 2>&1 || true
    cleanup
}
trap cleanup_guests EXIT

step() { echo "== [$SECONDS s] $*"; }
fail() {
    echo "FAIL: $*" >&2
    if tmux -L "$SOCK" has-session 2>/dev/null; then
        echo "---- screen ----" >&2
        tmux -L "$SOCK" capture-pane -p -t tvm >&2 || true
        echo "----------------" >&2
    fi
    for f in "$LOGDIR"/*.console.log "$TVM_RUNDIR"/*/vmm.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" | tr -d '\r' >&2; echo >&2; }
    done
    exit 1
}
# By the clock: in the lab each capture-pane takes a while.
wait_for() { # TEXT [SECONDS]
    local end=$((SECONDS + ${2:-10}))
    until screen | grep -qF -- "$1"; do
        [ $SECONDS -lt $end ] || fail "'$1' did not appear within ${2:-10}s"
        sleep 0.1
    done
}
wait_gone() { # TEXT [SECONDS]
    local end=$((SECONDS + ${2:-10}))
    while screen | grep -qF -- "$1"; do
        [ $SECONDS -lt $end ] || fail "'$1' still on the screen after ${2:-10}s"
        sleep 0.1
    done
}
# wait_log NAME PATTERN [SECONDS]: PATTERN (grep -E) in NAME's console log.
wait_log() {
    local end=$((SECONDS + ${3:-$BOOT}))
    until grep -qaE -- "$2" "$LOGDIR/$1.console.log" 2>/dev/null; do
        [ $SECONDS -lt $end ] || fail "$1: '$2' not in its console log within ${3:-$BOOT}s"
        sleep 0.5
    done
}
esc() { echo "$1" | sed 's/ /%20/g; s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }

# colours [FIRST LAST]: the SGR colours of the screen (capture-pane -e),
# lines FIRST..LAST (1-based), as the quadrants of the picture drawn there:
# "TL TR BL BR" colour names, each at a quarter in from its corners of the
# cells that carry a colour.
colours() {
    # -N: a row's trailing spaces are kept (a picture's right edge is coloured spaces)
    tmux -L "$SOCK" capture-pane -p -e -N -t tvm | sed -n "${1},${2}p" | python3 -c '
import re, sys
def xterm(i):
    base = [(0,0,0),(205,0,0),(0,205,0),(205,205,0),(0,0,238),(205,0,205),(0,205,205),(229,229,229),
            (127,127,127),(255,0,0),(0,255,0),(255,255,0),(92,92,255),(255,0,255),(0,255,255),(255,255,255)]
    if i < 16: return base[i]
    if i < 232:
        i -= 16; v = [0, 95, 135, 175, 215, 255]
        return (v[i // 36], v[i // 6 % 6], v[i % 6])
    g = 8 + (i - 232) * 10
    return (g, g, g)
def name(c):
    if c is None: return None
    rgb = xterm(c[1]) if c[0] == "i" else c[1:]
    ref = {"red": (255,0,0), "green": (0,255,0), "blue": (0,0,255), "white": (255,255,255), "black": (0,0,0)}
    return min(ref, key=lambda k: sum((a - b) ** 2 for a, b in zip(ref[k], rgb)))
grid = []
for line in sys.stdin.read().split("\n"):
    fg = bg = None; rev = False; row = []
    for m in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b])", line):
        if m.group(1) is not None:
            ps = [int(x) if x else 0 for x in m.group(1).split(";")]
            j = 0
            while j < len(ps):
                p = ps[j]
                if p == 0: fg = bg = None; rev = False
                elif p == 7: rev = True
                elif p == 27: rev = False
                elif p in (38, 48):
                    if ps[j + 1] == 5: c = ("i", ps[j + 2]); j += 2
                    else: c = ("rgb", ps[j + 2], ps[j + 3], ps[j + 4]); j += 4
                    if p == 38: fg = c
                    else: bg = c
                elif p == 39: fg = None
                elif p == 49: bg = None
                j += 1
        else:
            ch = m.group(2); f, b = (bg, fg) if rev else (fg, bg)
            row.append(b if ch == " " else f if ch == "\u2588" else None)
    grid.append(row)
cells = [(y, x) for y, r in enumerate(grid) for x, c in enumerate(r) if c is not None]
if not cells: print("none"); sys.exit()
y0 = min(y for y, _ in cells); y1 = max(y for y, _ in cells)
x0 = min(x for _, x in cells); x1 = max(x for _, x in cells)
def at(fy, fx):
    y = y0 + round((y1 - y0) * fy); x = x0 + round((x1 - x0) * fx)
    return name(grid[y][x]) if x < len(grid[y]) else None
print(at(.25, .25), at(.25, .75), at(.75, .25), at(.75, .75), x1 - x0 + 1, y1 - y0 + 1)'
}

step "define and start both guests"
# (tty2 is written first: the kernel switches only to a VT that is allocated)
text='echo VT2-SCREEN >/dev/tty2;echo TEXT-LINE-42 >/dev/tty0;while read -r l </dev/tty0;do echo GOT:$l;echo GOT:$l >/dev/tty0;done'
guest_xml txt 1 256 "console=tty0 console=ttyS0 quiet panic=-1 tvm.run=$(esc "$text")" restart \
    "    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>" >"$TMP/txt.xml"
# red | green over blue | white, 1024x768 XRGB (bytes B G R X), rows built by doubling
pattern='cd /tmp;printf "\000\000\377\000" >r;printf "\000\377\000\000" >g;printf "\377\000\000\000" >b;printf "\377\377\377\000" >w;for f in r g b w;do i=0;while [ $i -lt 9 ];do cat $f $f >$f.n;mv $f.n $f;i=$((i+1));done;done;cat r g >t;cat b w >u;for f in t u;do i=0;while [ $i -lt 7 ];do cat $f $f >$f.n;mv $f.n $f;i=$((i+1));done;cat $f $f $f >$f.n;mv $f.n $f;done;cat t u >/dev/fb0 && echo FB-PATTERN-DONE;sleep 600'
pattern=${pattern//\"/\'}
guest_xml fb 1 256 "console=ttyS0 quiet panic=-1 vt.global_cursor_default=0 tvm.run=$(esc "$pattern")" restart \
    "    <serial type='pty'><target port='0'/></serial>
    <video><model type='virtio'><resolution x='1024' y='768'/></model></video>" >"$TMP/fb.xml"
"$TVM" --db "$DB" define "$TMP/txt.xml" >/dev/null || fail "define txt"
"$TVM" --db "$DB" define "$TMP/fb.xml" >/dev/null || fail "define fb"
"$TVM" --db "$DB" start txt >/dev/null || fail "start txt"
"$TVM" --db "$DB" start fb >/dev/null || fail "start fb"

tui_start 120 40
wait_for " txt "
wait_log txt "TVM-GUEST-UP"

step "txt: the details' graphics tab shows the port autoport chose, as vncdisplay and dumpxml"
# the list is sorted by name: fb, txt
keys j
disp=$("$TVM" --db "$DB" vncdisplay txt) || fail "vncdisplay txt"
port=$((5900 + ${disp##*:}))
keys 4
wait_for "vnc, port $port (automatic), listen 127.0.0.1" 10
"$TVM" --db "$DB" dumpxml txt | grep -qF "<graphics type='vnc' port='$port' autoport='yes' listen='127.0.0.1'>" ||
    fail "live dumpxml lacks port $port: $("$TVM" --db "$DB" dumpxml txt | grep graphics)"
"$TVM" --db "$DB" dumpxml --inactive txt | grep -qF "<graphics type='vnc' port='-1' autoport='yes'" ||
    fail "inactive dumpxml: $("$TVM" --db "$DB" dumpxml --inactive txt | grep graphics)"
keys 1

step "txt: the graphical console pane shows tty0's text as text"
keys g
wait_for "graphics: txt (text 80x25)" 30
# the view's connection came from tvm by QMP getfd + add_client, not by vnc.sock
grep -qs "vnc: a client handed over by QMP add_client (skipauth)" "$TVM_RUNDIR"/*/vmm.log ||
    fail "the pane's VNC connection was not handed over by add_client"
wait_for "TEXT-LINE-42" 30
n=$(screen | grep -nF "TEXT-LINE-42" | head -1 | cut -d: -f1)
line=$(tmux -L "$SOCK" capture-pane -p -e -t tvm | sed -n "${n}p")
# VGA's light grey on black: SGR 37 and 40 (tmux may write them as one sequence)
grep -qE $'\e\\[[0-9;]*37[;m].*TEXT-LINE-42' <<<"$line" || fail "TEXT-LINE-42 not light grey: $(cat -v <<<"$line")"

step "txt: typed keys and a paste reach the shell on tty0"
keys 'echo typed' Space 'ok' Enter
wait_log txt '^GOT:echo typed ok' 60
wait_for "GOT:echo typed ok" 30
tmux -L "$SOCK" set-buffer -b gp 'Paste Me! A+b=C @home'
tmux -L "$SOCK" paste-buffer -p -b gp -t tvm
keys Enter
wait_log txt '^GOT:Paste Me! A\+b=C @home' 60
wait_for "GOT:Paste Me! A+b=C @home" 30

step "txt: the Ctrl-G menu switches the guest's VT (Ctrl-Alt-F2, then Ctrl-Alt-F1)"
keys C-g
wait_for "Ctrl-Alt-F12" 10
keys Down Down Enter
wait_for "sent Ctrl-Alt-F2 to 'txt'" 10
wait_for "VT2-SCREEN" 30
wait_gone "TEXT-LINE-42" 30
keys C-g
wait_for "Ctrl-Alt-F12" 10
keys Down Enter
wait_for "sent Ctrl-Alt-F1 to 'txt'" 10
wait_for "TEXT-LINE-42" 30
wait_gone "VT2-SCREEN" 30

step "txt: Ctrl-T to the serial console pane and back, Ctrl-] to the list"
keys C-t
wait_for "console: txt" 10
wait_for "GOT:echo typed ok" 10
keys C-t
wait_for "graphics: txt (text 80x25)" 10
wait_for "TEXT-LINE-42" 30
keys C-]
wait_for "Enter menu" 10
wait_gone "graphics: txt" 10

step "fb: the pane shows the pattern's colours in their quadrants"
wait_log fb "^FB-PATTERN-DONE"
keys k
keys g
wait_for "graphics: fb (framebuffer 1024x768)" 30
top=$(screen | grep -nF "graphics: fb" | head -1 | cut -d: -f1)
got=
end=$((SECONDS + 60)) # python3 and capture-pane are slow in the lab: by the clock
until got=$(colours $((top + 1)) 38) && [[ $got == "red green blue white "* ]]; do
    [ $SECONDS -lt $end ] || break
    sleep 0.2
done
[[ $got == "red green blue white "* ]] || fail "pane quadrants: '$got', wanted red green blue white"
read -r _ _ _ _ w1 h1 <<<"$got"
echo "pane picture ${w1}x${h1} cells"

step "fb: a larger terminal rescales the picture"
tmux -L "$SOCK" resize-window -t tvm -x 140 -y 56
sleep 1
top=$(screen | grep -nF "graphics: fb" | head -1 | cut -d: -f1)
end=$((SECONDS + 60))
while :; do
    got=$(colours $((top + 1)) 54)
    read -r _ _ _ _ w2 h2 <<<"$got"
    [[ $got == "red green blue white "* ]] && [ "${h2:-0}" -gt "$h1" ] && break
    [ $SECONDS -lt $end ] || break
    sleep 0.2
done
[[ $got == "red green blue white "* ]] || fail "after resize: '$got'"
[ "$h2" -gt "$h1" ] && [ "$w2" -gt "$w1" ] || fail "the picture did not grow: ${w1}x${h1} -> ${w2}x${h2}"
echo "pane picture ${w2}x${h2} cells"
keys C-]
wait_for "Enter menu" 10

step "fb: G, the full-screen view (tvm vncviewer), and back"
keys G
wait_for "fb: framebuffer 1024x768   Ctrl-] leave  Ctrl-G menu" 30
end=$((SECONDS + 60))
until got=$(colours 1 55) && [[ $got == "red green blue white "* ]]; do
    [ $SECONDS -lt $end ] || break
    sleep 0.2
done
[[ $got == "red green blue white "* ]] || fail "full-screen quadrants: '$got'"
read -r _ _ _ _ w3 h3 <<<"$got"
[ "$h3" -gt "$h2" ] || fail "full screen picture ${w3}x${h3} is not larger than the pane's ${w2}x${h2}"
keys C-]
wait_for "left the graphical console of 'fb'" 30
wait_for "F1Help"

keys q
wait_for "TVM-EXIT=0" 30
echo ok
