/* The contract between tvm and tvm-vmm: how a guest is launched, which
 * files live in its run directory, and what the control socket speaks.
 * Both sides include this header; nothing else couples them.
 *
 * Launch: tvm creates RUNDIR/<uuid>/ (0700), writes the domain XML there as
 * VMM_FILE_DOMAIN, and runs, detached (setsid, stdio to VMM_FILE_LOG):
 *     tvm-vmm --domain DIR/domain.xml --rundir DIR --fds DIR/fds [--console-log PATH]
 *             [--paused]
 * That XML is the live one: every device tvm-vmm puts on PCI carries its
 * <address> (tvm assigned and stored them, domain_assign_pci()), and each
 * <interface type='network'> names its bridge. The VMM parses it once,
 * never SQLite, and plugs every device at its address. (Given a domain
 * without addresses by hand, it makes the same domain_assign_pci() call,
 * and says so on stderr.) It creates VMM_FILE_PID, then the sockets
 * (0600), and from then on serves QMP. The QMP greeting comes before the
 * guest is built (kernel loaded, KVM VM made), which can still fail: tvm
 * treats the guest as started once query-status reports "running" (or
 * "paused" with --paused). If the VMM exits first, the last line of
 * VMM_FILE_LOG is the error to show.
 *
 * Descriptors: tvm, with its own privileges, opens what the guest needs
 * and tvm-vmm inherits the descriptors; VMM_FILE_FDS ("fds", written by
 * tvm, passed as --fds) says which is which, one line each:
 *     FD KIND KEY PATH
 * FD the number tvm-vmm has it under (3, 4, ... in line order), KEY "-"
 * or the device it belongs to, PATH the rest of the line ("-": none):
 *     FD kvm - /dev/kvm              the KVM device (every reset makes its
 *                                    VM on it again)
 *     FD kernel - PATH               <os><kernel>, read at every boot
 *     FD initrd - PATH               <os><initrd>
 *     FD bios - PATH                 the BIOS image of a domain without
 *                                    <kernel> (<os><loader>, else
 *                                    VMM_BIOS_DEFAULT), read at every reset
 *     FD disk TARGET PATH            one line per file of the chain of the
 *                                    <disk> whose <target dev> is TARGET, the
 *                                    top image first (read-write unless
 *                                    <readonly/>), then each backing file
 *                                    (read-only), PATH as the image layer
 *                                    resolves it (the XML's <source file>
 *                                    for the top); opened and locked by
 *                                    tvm (image_open_files()), O_DIRECT set
 *                                    by tvm-vmm for cache='none'
 *     FD tap INDEX NAME              the tap of the INDEXth <interface>
 *                                    (document order), already on its
 *                                    bridge, with virtio-net headers
 * The domain XML stays the whole description: the map only says where
 * its files already are. Given --fds, tvm-vmm opens none of these itself:
 * a missing line is an error naming it; a descriptor nobody used is
 * closed with a warning. Without --fds (by hand, tests) it opens them
 * itself. At most VMM_FDS_MAX lines. The sockets stay tvm-vmm's own: it
 * makes them in the run directory, which tvm owns and reads.
 *
 * Taps: once its NICs are on their taps (still privileged, before the
 * control socket serves, so before tvm sees the guest started), the VMM
 * writes VMM_FILE_NICS, one line per <interface> it put on a tap:
 *     INDEX MAC TAP
 * INDEX the interface's position among the domain's <interface> elements
 * (0-based, document order), MAC as in the XML, TAP the host device it
 * uses (the kernel's vnetN when the XML names none). It is written as
 * nics.tmp and renamed, so a reader sees all of it or nothing, and it
 * lives as long as the run directory: a tvm started later still finds
 * it. tvm shows it as each interface's <target dev> in the live XML
 * (dumpxml, domiflist). No NIC on a tap: no file.
 *
 * VNC: when its VNC server listens on TCP (<graphics type='vnc'>), the VMM
 * writes VMM_FILE_GRAPHICS the same way, one line
 *     INDEX PORT ADDR
 * INDEX the <graphics> element's position (0-based, document order), PORT
 * the TCP port it bound (autoport's choice included), ADDR the listen
 * address. tvm shows PORT in the live XML (<graphics port='N'
 * autoport='yes'>, as libvirt) and in the TUI's details.
 *
 * Exit: when the guest powers off (or on_reboot/on_crash say stop), or on
 * `quit`, the VMM writes VMM_FILE_EXIT as one JSON object
 *     {"reason": "shutdown"|"destroyed"|"crashed"|"error", "detail": "...", "exit_code": N}
 * removes its sockets and pid file, and exits. A run directory whose pid is
 * gone and that has no VMM_FILE_EXIT means the VMM was killed: tvm records
 * the domain as crashed. Either way tvm then removes the directory.
 *
 * A sandboxed VMM (see "Sandbox" below) that makes a system call its
 * filter forbids writes {"reason": "crashed", "detail": "sandbox: forbidden
 * system call N (NAME) in thread TID", "exit_code": 2} from its SIGSYS
 * handler and dies of SIGSYS; the detail starts with VMM_EXIT_SANDBOX, and
 * tvm records the guest as crashed, reason "sandbox violation".
 *
 * Sandbox: unless started with --no-sandbox or TVM_VMM_SANDBOX=0 in its
 * environment (tvm's own environment passes through, so
 * `TVM_VMM_SANDBOX=0 tvm start NAME` debugs one guest), tvm-vmm has
 * everything the guest needs first (/dev/kvm, kernel, initrd, disks with
 * their locks and taps from tvm, see "Descriptors"; its sockets and the
 * console log it makes itself), then, before the guest
 * runs: bounds RLIMIT_CORE (0), RLIMIT_NOFILE and RLIMIT_FSIZE; if started
 * by root, gives the run directory to the user "tvm" (or nobody/nogroup
 * without one) and becomes that user; empties its capability sets and
 * bounding set; sets PR_SET_NO_NEW_PRIVS; confines the file system with
 * landlock to making, writing and removing files in the run directory
 * where the kernel has landlock (the console log rotates on descriptors
 * opened before); and loads seccomp filters that allow only the system
 * calls and ioctls it makes: the main loop's for the whole process, and
 * on top of it a narrower one in each vCPU thread and device worker (a
 * violation's detail ends "in thread TID (CLASS)", CLASS "main loop",
 * "vcpu" or "device worker"). TVM_VMM_SANDBOX=log
 * does all that but has the filter only log what it would refuse (the
 * kernel's audit log), to find a missing syscall. The run directory stays
 * tvm's to read and remove; the VMM writes exit.json and removes vmm.pid
 * through a descriptor of it. TVM_VMM_SECCOMP_SELFTEST=SECONDS (tests
 * only) makes a sandboxed VMM call a forbidden syscall (ptrace, on the
 * main loop) that long after start-up; SECONDS:vcpu makes a vCPU thread
 * call one the main loop may make (accept4).
 *
 * Control socket: QMP (JSON lines). Greeting {"QMP": {...}}, then
 * qmp_capabilities, then {"execute": CMD, "arguments": {...}, "id": X} ->
 * {"return": ...} | {"error": {"class": "GenericError", "desc": "..."}}.
 * Events {"event": NAME, "data": {...}, "timestamp": {...}}: SHUTDOWN,
 * POWERDOWN, RESET, STOP, RESUME. Commands: query-status, stop, cont,
 * system_powerdown, system_reset, quit, query-cpus-fast,
 * query-memory-size-summary (later issues add more). A guest with a
 * virtio balloon adds QEMU's balloon {"value": BYTES}, query-balloon ->
 * {"actual": BYTES}, qom-get/qom-set on "/machine/peripheral/balloon0"
 * (guest-stats-polling-interval, guest-stats) and the event BALLOON_CHANGE
 * {"actual": BYTES}. A guest with a virtio-scsi controller adds eject
 * {"id": DEV, "force": B} (DEV: the CD-ROM's <target dev>, e.g. "sda";
 * the tray opens and its medium is gone) and x-tvm-change-medium {"id":
 * DEV, "fdname": NAME, "filename": PATH, "force": B}: the new medium is
 * the descriptor sent with getfd as NAME (read as raw; PATH only names it
 * in messages), the tray closes on it. Both fail while the guest has
 * locked the tray (PREVENT ALLOW MEDIUM REMOVAL) unless force is true; the
 * guest then sees an eject request. A guest with a virtio-blk disk adds
 * block_resize {"device": DEV, "size": BYTES} (DEV: the disk's <target
 * dev>; BYTES a multiple of 512, never smaller): the image grows and the
 * guest is told through the virtio config-change interrupt. Several
 * clients may connect at once.
 *
 * Named descriptors (QEMU's getfd/closefd): a client sends a descriptor by
 * SCM_RIGHTS on the control socket together with the bytes of
 *     {"execute": "getfd", "arguments": {"fdname": NAME}}
 * (qmp_getfd() in qmp-client.h does both). NAME: 1-31 characters of
 * [A-Za-z0-9_.-], not starting with a digit. tvm-vmm then holds it under
 * NAME until a command that takes an "fdname" argument claims it (the
 * command then owns it and the name is free again) or
 *     {"execute": "closefd", "arguments": {"fdname": NAME}}
 * closes it. At most 16 are held (getfd past that is refused and the
 * descriptor closed); getfd on a name in use replaces (and closes) the
 * old one; a descriptor that came with any other request, or with a
 * refused getfd, is closed once that request has run; all are closed
 * when tvm-vmm exits. Named descriptors outlive the connection that sent
 * them. Errors: "No file descriptor supplied via SCM_RIGHTS", "File
 * descriptor named 'NAME' not found". This is how a sandboxed tvm-vmm,
 * which may open no host path itself, gets a file or socket at run time;
 * names in use by convention: "vnc-*" for add_client {"protocol": "vnc",
 * "fdname": NAME} (a connected VNC client), "media-*" for change-media's
 * new ISO.
 *
 * Console socket: the raw byte stream of the guest's serial port (COM1).
 * Every connected client reads all output from the moment it connects
 * (plus the recent backlog, so an attach shows the current screen); the
 * first connected client is the writer, later ones are read-only until it
 * disconnects.
 *
 * Virtio consoles: the Nth <console> with <target type='virtio'> (N = 1,
 * 2, ... in document order; libvirt's alias "consoleN" when the first
 * console is the serial one) is a virtio-console whose port is the
 * guest's /dev/hvc0, /dev/hvc1 ... Its socket is VMM_SOCK_VCONSOLE_FMT
 * with N ("console1.sock"), with the same semantics as the serial one
 * (`tvm console NAME --devname console1`).
 *
 * Graphical console (a domain with a <video> device): VMM_SOCK_VNC
 * ("vnc.sock", 0600) is a VNC server (RFB 3.8, libvncserver) on the
 * guest's screen, there whether or not the domain has <graphics>; this is
 * where tvm's own viewer connects (libvncclient: serverHost = the
 * socket's path). With <graphics type='vnc'> the same server also listens
 * on TCP: <graphics port=N> (or autoport='yes': the first free port from
 * 5900, as libvirt) on its listen address (listen='ADDR' or <listen
 * type='address' address='ADDR'/>; none: 127.0.0.1); passwd='...' makes
 * every client, the unix socket's too, pass VNC authentication (at most 8
 * characters count, as in RFB; the password is never logged). Every
 * client shares the guest's screen; key events reach the guest's i8042
 * keyboard (keysyms mapped to a US layout; Shift is pressed or released
 * around a keysym that needs it). Pixels: the framebuffer (width x height
 * of <video><model><resolution>, default 1024x768), or in VGA text mode
 * (video model 'vga' or 'cirrus': 80x25 cells) the text drawn with tvm's
 * font at 640x400.
 * QMP for it: send-key {"keys": [{"type": "number", "data": QNUM} |
 * {"type": "qcode", "data": "ctrl"}, ...], "hold-time": MS} (QNUM as in
 * core/proto/keymap.h: set-1 code, +0x80 for E0 keys; keys are pressed in
 * order, held, released in reverse); screendump {"filename": NAME} writes
 * a binary PPM of what VNC shows, NAME a plain file name in the run
 * directory (the only place the sandbox may write); query-vnc ->
 * {"enabled": B, "host": ADDR, "service": "PORT", "family": "ipv4"|"ipv6",
 * "unix": "vnc.sock", "clients": N} (host/service only with TCP);
 * x-tvm-query-screen -> {"mode": "text", "cols": 80, "rows": 25,
 * "cursor": CELL|-1, "lines": [25 strings]} in text mode (the TUI draws
 * text mode as text), {"mode": "graphics", "width": W, "height": H}
 * otherwise.
 */
#ifndef TVM_CORE_VMM_PROTOCOL_H
#define TVM_CORE_VMM_PROTOCOL_H

#define VMM_BINARY "tvm-vmm"
#define VMM_FILE_DOMAIN "domain.xml"
#define VMM_FILE_PID "vmm.pid"
#define VMM_FILE_LOG "vmm.log"
#define VMM_FILE_EXIT "exit.json"
#define VMM_FILE_NICS "nics"
#define VMM_FILE_GRAPHICS "graphics"
#define VMM_FILE_FDS "fds"
#define VMM_FDS_MAX 128
#define VMM_SOCK_CONTROL "control.sock"
#define VMM_SOCK_CONSOLE "console.sock"
#define VMM_SOCK_VCONSOLE_FMT "console%u.sock"
#define VMM_SOCK_VNC "vnc.sock"
#define VMM_CONSOLE_BACKLOG (64 * 1024)
/* A domain without <kernel> boots this BIOS (Debian's seabios package;
 * tvm ships no firmware) unless <os><loader> names another image. */
#define VMM_BIOS_DEFAULT "/usr/share/seabios/bios-256k.bin"
/* exit.json's detail when the seccomp filter stopped the VMM. */
#define VMM_EXIT_SANDBOX "sandbox: "

#endif
