# The layers link in one direction (CMakeLists.txt, design.md): no layer
# library needs a symbol that only a library above it defines, tvm-vmm's
# library uses base, model, proto and image only (and tvmvnc, the VNC
# server it alone links, which itself uses base, model, proto and image
# only and never the VMM's internals), tvm's terminal viewer (tvmviewer,
# libvncclient + libchafa) uses base, model and proto only and is never
# linked into tvm-vmm, and the TUI reaches the store only through the
# commands (no TUI object names a store_* symbol).
# Static archives link even with such a back-edge as long as the binary
# pulls in the upper library too, so this reads the archives themselves.
source "$(dirname "$0")/lib.sh"

: "${TVM_BUILD:?set TVM_BUILD to the build directory}"
command -v nm >/dev/null || fail "nm (package binutils) is missing"

# Lowest first; a library may use the ones before it.
order=(tvmbase tvmmodel tvmproto tvmimage tvmpool tvmstore tvmvirt tvmviewer tvmcmd tvmtui)
declare -A level
for i in "${!order[@]}"; do
    level[${order[$i]}]=$i
done

lib_path() {
    local p="$TVM_BUILD/lib$1.a"
    [ -f "$p" ] || fail "$p is missing (is TVM_BUILD a build directory?)"
    echo "$p"
}

# Global symbols each library defines: "SYMBOL LIB" lines.
for lib in "${order[@]}" tvmvmm tvmvnc; do
    nm -g --defined-only "$(lib_path "$lib")" 2>/dev/null |
        awk -v lib="$lib" 'NF == 3 { print $3, lib }'
done | sort -u >"$tmp/defined"

# undefined LIB: the symbols LIB's objects need from outside themselves.
undefined() {
    nm -g --undefined-only "$(lib_path "$1")" 2>/dev/null | awk 'NF >= 2 && $1 == "U" { print $2 }' | sort -u
}

problems=0
report() {
    echo "layers: $*" >&2
    problems=$((problems + 1))
}

# check LIB ALLOWED...: every symbol LIB needs that a layer library defines
# must be defined by LIB itself or one of ALLOWED. One pass over the
# symbol tables (awk), not one per symbol: the archives need thousands.
check() {
    local lib=$1
    shift
    local line
    while read -r line; do
        report "lib$lib.a needs ${line%% *}, defined only above it in:${line#* }"
    done < <(undefined "$lib" | awk -v allowed=" $lib $* " '
        FNR == NR { owners[$1] = owners[$1] " " $2; next }
        $1 in owners {
            n = split(owners[$1], o, " "); ok = 0
            for (i = 1; i <= n; i++) if (index(allowed, " " o[i] " ")) ok = 1
            if (!ok) print "'"'"'" $1 "'"'"'" owners[$1]
        }' "$tmp/defined" -)
}

for i in "${!order[@]}"; do
    check "${order[$i]}" "${order[@]:0:$i}"
done
check tvmvmm tvmbase tvmmodel tvmproto tvmimage tvmvnc
check tvmvnc tvmbase tvmmodel tvmproto tvmimage
check tvmviewer tvmbase tvmmodel tvmproto
# tvm itself never links the VNC server (nor the VMM).
if nm -g --defined-only "$TVM" 2>/dev/null | grep -q ' T vnc_new$'; then
    report "tvm links src/vnc (tvmvnc is tvm-vmm's only)"
fi

# tvm-vmm faces the guest: no VNC client and no picture renderer in it,
# neither in its libraries' objects nor among the shared objects it loads.
for lib in tvmvmm tvmvnc; do
    { undefined "$lib" | grep -E '^(rfbInitClient|rfbGetClient|chafa_[a-z_]*)$' || true; } | while read -r sym; do
        echo "lib$lib.a needs '$sym' (libvncclient/libchafa belong to tvm's viewer)"
    done
done >"$tmp/vmm-viewer"
while read -r line; do report "$line"; done <"$tmp/vmm-viewer"
if [ -n "${TVM_VMM:-}" ] && readelf -d "$TVM_VMM" 2>/dev/null | grep -qE 'NEEDED.*(libvncclient|libchafa)'; then
    report "tvm-vmm loads libvncclient or libchafa (tvm's viewer only)"
fi

# The TUI goes through the commands layer, never the store's API.
while read -r sym; do
    report "libtvmtui.a references '$sym': the TUI must use the commands layer, not the store"
done < <(undefined tvmtui | grep -E '^store_' || true)

[ "$problems" -eq 0 ] || fail "$problems layer violation(s), listed above"
echo "layers: ok"
