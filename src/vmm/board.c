/* The board of tvm-vmm (see board.h): one table of the machine's devices,
 * and the one place where the parsed domain becomes typed configs.
 */
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "board.h"
#include "console.h"
#include "core/base/err.h"
#include "core/base/tap.h"
#include "core/model/domain.h"
#include "core/proto/vmm-protocol.h"
#include "dev/acpi-pm.h"
#include "dev/fw_cfg.h"
#include "dev/legacy.h"
#include "display.h"
#include "fdmap.h"
#include "pci.h"
#include "runfile.h"
#include "virtio/vconsole.h"
#include "virtio/virtio.h"
#include "x86/acpi.h"
#include "x86/bios.h"
#include "sandbox.h"

#define BOARD_MAX_VIRTIO (PCI_MAX_DEVICES - 1)

struct board {
    struct vm *vm;
    struct domain *dom;
    struct board_opts o;
    unsigned nup; /* entries of the table whose init succeeded */

    struct serial *serial;
    bool console_up, stdin_on_loop, echo_stdout;
    char console_path[PATH_MAX];

    struct i8042 *kbd;
    struct display *display;

    struct pci_bus *pci;
    struct virtio_dev *virtio[BOARD_MAX_VIRTIO];
    unsigned nvirtio;
    struct virtio_dev *input[3]; /* by enum virtio_input_kind: the first of each */

    struct fw_cfg *fw_cfg; /* firmware boot only */

    struct acpi_config acpi;
    struct acpi_pci acpi_pci;
    uint32_t apic_ids[VM_MAX_VCPUS];
};

static bool is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

static bool is_virtio_model(const char *m)
{
    return is(m, "virtio") || is(m, "virtio-transitional") || is(m, "virtio-non-transitional");
}

void board_vm_config(const struct domain *d, struct vm_config *c)
{
    memset(c, 0, sizeof *c);
    c->ram_bytes = d->memory_kib * 1024;
    c->vcpus = d->vcpus_current ? d->vcpus_current : d->vcpus;
    c->sockets = d->cpu_sockets;
    c->cores = d->cpu_cores;
    c->threads = d->cpu_threads;
    c->kernel = d->os_kernel;
    if (!d->os_kernel || !*d->os_kernel)
        c->bios = d->os_loader && *d->os_loader ? d->os_loader : VMM_BIOS_DEFAULT;
    c->initrd = d->os_initrd;
    c->cmdline = d->os_cmdline;
    c->reboot_restarts =
        !d->on_reboot || is(d->on_reboot, "restart") || is(d->on_reboot, "rename-restart");
    c->crash_restarts = is(d->on_crash, "restart") || is(d->on_crash, "rename-restart");
    c->poweroff_restarts = is(d->on_poweroff, "restart") || is(d->on_poweroff, "rename-restart");
}

/* ---- serial port and its console socket ---- */

static void guest_output(void *opaque, const uint8_t *buf, size_t len)
{
    struct board *b = opaque;
    console_guest_output(buf, len);
    if (b->echo_stdout && write(STDOUT_FILENO, buf, len) < 0)
        b->echo_stdout = false;
}

static void guest_input(void *opaque, const uint8_t *buf, size_t len)
{
    struct board *b = opaque;
    serial_receive(b->serial, buf, len);
}

static void stdin_ready(void *opaque, uint32_t events)
{
    struct board *b = opaque;
    uint8_t buf[512];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n > 0) {
        guest_input(b, buf, n);
    } else if (n == 0 || (events & (EPOLLHUP | EPOLLERR))) {
        loop_del(b->o.loop, STDIN_FILENO);
        b->stdin_on_loop = false;
    }
}

static int serial_up(struct board *b)
{
    if (snprintf(b->console_path, sizeof b->console_path, "%s/%s", b->o.rundir, VMM_SOCK_CONSOLE) >=
        (int)sizeof b->console_path)
        return err_set("%s: path too long", b->o.rundir);
    b->echo_stdout = b->o.foreground;
    if (console_init(b->o.loop, b->console_path, b->o.console_log) < 0)
        return err_prefix("console: ");
    b->console_up = true;
    console_set_input_handler(guest_input, b);
    /* stdin may be a file or /dev/null: not worth failing for */
    if (b->o.foreground && isatty(STDIN_FILENO) == 0) {
        if (loop_add(b->o.loop, STDIN_FILENO, EPOLLIN, stdin_ready, b) == 0)
            b->stdin_on_loop = true;
        else
            err_clear();
    }
    b->serial = serial_init(b->vm, SERIAL_COM1_BASE, SERIAL_COM1_IRQ, guest_output, b);
    return b->serial ? 0 : -1;
}

static void serial_reset_(struct board *b)
{
    serial_reset(b->serial);
}

static void serial_down(struct board *b)
{
    if (b->stdin_on_loop)
        loop_del(b->o.loop, STDIN_FILENO);
    if (b->console_up)
        console_close();
    sandbox_unlink(b->console_path);
    serial_free(b->serial);
}

/* ---- i8042, RTC, PCI host bridge ---- */

static int i8042_up(struct board *b)
{
    b->kbd = i8042_init(b->vm);
    return b->kbd ? 0 : -1;
}

static bool firmware_boot(const struct board *b)
{
    return b->vm->cfg.bios != NULL;
}

static uint8_t boot_dev_code(const char *dev)
{
    if (is(dev, "hd"))
        return BIOS_BOOT_HD;
    if (is(dev, "cdrom"))
        return BIOS_BOOT_CDROM;
    if (is(dev, "network"))
        return BIOS_BOOT_NETWORK;
    if (is(dev, "fd"))
        return BIOS_BOOT_FLOPPY;
    return 0;
}

/* A BIOS reads memory sizes, CPUs and <os><boot dev>s from CMOS (none
 * given: the hard disk, libvirt's default). */
static int rtc_up(struct board *b)
{
    bool localtime = is(b->dom->clock_offset, "localtime");
    if (!firmware_boot(b))
        return rtc_init(b->vm, localtime);
    struct bios_cmos c = {.ram_bytes = b->vm->ram_size, .ncpus = b->vm->nvcpus};
    for (unsigned i = 0; i < b->dom->os_nboot && i < 3; i++)
        c.boot[i] = boot_dev_code(b->dom->os_boot[i]);
    if (!b->dom->os_nboot)
        c.boot[0] = BIOS_BOOT_HD;
    uint8_t nvram[128] = {0};
    bios_cmos_fill(&c, nvram);
    return rtc_init_nvram(b->vm, localtime, nvram);
}

/* Slots come from the domain's <address>es, which tvm assigned at start
 * (domain-address.c). A domain handed to tvm-vmm by hand may lack some:
 * they get the very assignment tvm would make, from the same function. */
static int pci_up(struct board *b)
{
    if (!domain_pci_complete(b->dom)) {
        int n = domain_assign_pci(b->dom);
        if (n < 0)
            return err_prefix("PCI: ");
        fprintf(stderr,
                "tvm-vmm: %d device(s) without a PCI <address>: given the slots tvm start "
                "would give\n",
                n);
    }
    b->pci = pci_init(b->vm);
    return b->pci ? 0 : err_prefix("PCI: ");
}

/* ---- virtio devices: typed configs from the domain ---- */

/* Puts DEV on the bus at SLOT and starts it; the board owns it from here. */
static int plug(struct board *b, struct virtio_dev *dev, unsigned slot)
{
    if (!dev)
        return -1;
    if (b->nvirtio == BOARD_MAX_VIRTIO) {
        virtio_dev_free(dev);
        return err_set("too many virtio devices (at most %d)", BOARD_MAX_VIRTIO);
    }
    if (virtio_pci_add(b->pci, dev, (int)slot) < 0) {
        err_prefix("%s: ", dev->id);
        virtio_dev_free(dev);
        return -1;
    }
    if (virtio_dev_start(dev) < 0) {
        virtio_dev_free(dev);
        return -1;
    }
    b->virtio[b->nvirtio++] = dev;
    return 0;
}

static int add_disk(struct board *b, const struct domain_disk *d)
{
    const char *t = d->target_dev ? d->target_dev : "?";
    if (!is(d->type, "file") && !is(d->type, "block"))
        return err_set("disk %s: type '%s' is not supported (file or block)", t,
                       d->type ? d->type : "");
    if (!d->source || !*d->source)
        return err_set("disk %s: no <source>", t);
    struct virtio_blk_config_in c = {
        .path = d->source,
        .format = d->driver_type,
        .serial = d->serial,
        .target = t,
        .readonly = d->readonly,
        .direct = is(d->cache, "none") || is(d->cache, "directsync"),
    };
    /* tvm opened and locked the chain: its files come from the map. */
    struct image_opener from_tvm = fdmap_disk_opener(t);
    if (fdmap_loaded())
        c.opener = &from_tvm;
    return plug(b, virtio_blk_new(b->vm, &c), d->pci.slot);
}

/* What tvm-vmm has: disks on virtio, CD-ROMs on a virtio-scsi controller.
 * Anything else is refused by name: a guest that silently lacks a disk is
 * worse than one that does not start. */
static int check_disk(const struct domain_disk *d)
{
    const char *t = d->target_dev ? d->target_dev : "?";
    const char *dev = d->device ? d->device : "disk";
    const char *bus = d->target_bus ? d->target_bus : "";
    if (is(dev, "disk") && is(bus, "virtio"))
        return 0;
    if (is(dev, "cdrom") && is(bus, "scsi"))
        return 0;
    if (is(dev, "cdrom"))
        return err_set("disk %s: <disk device='cdrom'> with <target bus='%s'> is not supported: "
                       "tvm-vmm has CD-ROMs on bus='scsi' (a virtio-scsi controller)",
                       t, bus);
    if (is(dev, "disk"))
        return err_set("disk %s: <target bus='%s'> is not supported for <disk device='disk'>: "
                       "tvm-vmm has disks on bus='virtio'",
                       t, bus);
    return err_set("disk %s: <disk device='%s'> is not supported (device='disk' on bus='virtio', "
                   "device='cdrom' on bus='scsi')",
                   t, dev);
}

static int add_disks(struct board *b)
{
    for (size_t i = 0; i < b->dom->ndisks; i++) {
        const struct domain_disk *d = &b->dom->disks[i];
        if (check_disk(d) < 0)
            return -1;
        if (domain_disk_on_pci(d) && add_disk(b, d) < 0)
            return -1;
    }
    return 0;
}

/* A CD-ROM's medium: its <source>, or none (an empty drive). */
static int cdrom_source(const struct domain_disk *d, const char **path)
{
    *path = NULL;
    if (!is(d->type, "file") && !is(d->type, "block"))
        return err_set("disk %s: type '%s' is not supported (file or block)", d->target_dev,
                       d->type ? d->type : "");
    if (d->driver_type && !is(d->driver_type, "raw"))
        return err_set("disk %s: <driver type='%s'>: a CD-ROM's medium is read as raw only",
                       d->target_dev, d->driver_type);
    if (d->source && *d->source)
        *path = d->source;
    return 0;
}

/* One <controller type='scsi' model='virtio-scsi'>: a virtio-scsi adapter
 * with the CD-ROMs whose <address type='drive'> names its index. */
static int add_scsi_controller(struct board *b, const struct domain_device *ctl)
{
    struct virtio_scsi_lun_in luns[64];
    struct image_opener from_tvm[64]; /* tvm opened the media: from the map */
    unsigned n = 0;
    for (size_t i = 0; i < b->dom->ndisks; i++) {
        const struct domain_disk *d = &b->dom->disks[i];
        if (!is(d->target_bus, "scsi") || !d->drive.set || (int)d->drive.controller != ctl->index)
            continue;
        if (d->drive.bus != 0)
            return err_set("disk %s: <address type='drive' bus='%u'>: a virtio-scsi controller "
                           "has bus 0 only",
                           d->target_dev, d->drive.bus);
        if (n == sizeof luns / sizeof luns[0])
            return err_set("controller scsi %d: more than %zu CD-ROMs", ctl->index,
                           sizeof luns / sizeof luns[0]);
        luns[n] = (struct virtio_scsi_lun_in){
            .name = d->target_dev, .target = d->drive.target, .lun = d->drive.unit};
        if (cdrom_source(d, &luns[n].path) < 0)
            return -1;
        from_tvm[n] = fdmap_disk_opener(d->target_dev);
        if (fdmap_loaded())
            luns[n].opener = &from_tvm[n];
        n++;
    }
    struct virtio_scsi_config_in c = {.index = (unsigned)ctl->index, .luns = luns, .nluns = n};
    return plug(b, virtio_scsi_new(b->vm, &c), ctl->pci.slot);
}

static bool has_scsi_controller(const struct domain *dom, unsigned index)
{
    for (size_t i = 0; i < dom->ndevices; i++) {
        const struct domain_device *x = &dom->devices[i];
        if (is(x->element, "controller") && is(x->type, "scsi") && x->index == (int)index)
            return true;
    }
    return false;
}

static int add_scsi(struct board *b)
{
    for (size_t i = 0; i < b->dom->ndisks; i++) {
        const struct domain_disk *d = &b->dom->disks[i];
        if (is(d->target_bus, "scsi") && !d->drive.set)
            return err_set("disk %s: no <address type='drive'> (tvm start writes it)",
                           d->target_dev);
        if (is(d->target_bus, "scsi") && !has_scsi_controller(b->dom, d->drive.controller))
            return err_set("disk %s: no <controller type='scsi' index='%u'>", d->target_dev,
                           d->drive.controller);
    }
    for (size_t i = 0; i < b->dom->ndevices; i++) {
        const struct domain_device *x = &b->dom->devices[i];
        if (!is(x->element, "controller") || !is(x->type, "scsi"))
            continue;
        if (!is(x->model, "virtio-scsi"))
            return err_set("controller scsi %d: model '%s' is not supported (virtio-scsi)",
                           x->index, x->model ? x->model : "");
        if (add_scsi_controller(b, x) < 0)
            return -1;
    }
    return 0;
}

/* The bridge a NIC's tap joins: <source bridge> for type 'bridge', the
 * network's bridge that tvm wrote into the live XML for type 'network',
 * none for 'ethernet'. Other types are refused (a guest that silently
 * lacks its NIC is worse). */
static int nic_bridge(const struct domain_nic *n, const char **bridge)
{
    *bridge = NULL;
    if (is(n->type, "ethernet"))
        return 0;
    if (is(n->type, "bridge")) {
        if (!n->source || !*n->source)
            return err_set("interface %s: type 'bridge' needs <source bridge='...'/>", n->mac);
        *bridge = n->source;
        return 0;
    }
    if (is(n->type, "network")) {
        if (!n->source_bridge || !*n->source_bridge)
            return err_set("interface %s: network '%s' has no bridge in the live XML (start "
                           "the guest with tvm, which starts the network)",
                           n->mac, n->source ? n->source : "");
        *bridge = n->source_bridge;
        return 0;
    }
    return err_set("interface %s: type '%s' is not supported (use 'network', 'bridge' or "
                   "'ethernet')",
                   n->mac, n->type ? n->type : "");
}

/* VMM_FILE_NICS (vmm-protocol.h): which tap each NIC got, for tvm's live
 * XML. Written now, still privileged and before the control socket serves,
 * so it is there by the time tvm sees the guest started. */
static int write_nics(struct board *b, const char *text)
{
    return runfile_write(b->o.rundir, VMM_FILE_NICS, text);
}

/* <interface> with model virtio (or none) is a virtio-net on a tap; other
 * models are ignored with a warning. */
static int add_nics(struct board *b)
{
    char taps[BOARD_MAX_VIRTIO * (20 + MAC_STR_LEN + IFNAMSIZ + 3)] = "";
    size_t used = 0;
    for (size_t i = 0; i < b->dom->nnics; i++) {
        const struct domain_nic *n = &b->dom->nics[i];
        if (!domain_nic_on_pci(n)) {
            fprintf(stderr, "tvm-vmm: warning: interface %s: model '%s' is not emulated; ignored\n",
                    n->mac, n->model);
            continue;
        }
        struct virtio_net_config_in c = {
            .mac = n->mac,
            .ifname = n->target_dev,
            .link_down = is(n->link_state, "down"),
            .fd = -1,
        };
        if (nic_bridge(n, &c.bridge) < 0)
            return -1;
        /* tvm made the tap and put it on its bridge. */
        struct tap from_tvm = {.fd = -1};
        if (fdmap_loaded()) {
            char index[24];
            snprintf(index, sizeof index, "%zu", i);
            int fd = fdmap_take("tap", index, NULL);
            if (fd < 0 || tap_adopt(fd, &from_tvm) < 0)
                return err_prefix("interface %s: ", n->mac);
            c.tap = &from_tvm;
        }
        int rc = plug(b, virtio_net_new(b->vm, &c), n->pci.slot);
        tap_close(&from_tvm); /* only if the device did not take it */
        if (rc < 0)
            return err_prefix("interface %s: ", n->mac);
        const char *tap = virtio_net_tap_name(b->virtio[b->nvirtio - 1]);
        if (tap)
            used +=
                (size_t)snprintf(taps + used, sizeof taps - used, "%zu %s %s\n", i, n->mac, tap);
    }
    return used && b->o.rundir ? write_nics(b, taps) : 0;
}

/* <input bus='virtio'>: a tablet, mouse or keyboard; the display feeds
 * the first of each kind. Other buses are the i8042's (ps2) or not
 * emulated. */
static int board_input_kind(const struct domain_device *d)
{
    if (!is(d->element, "input") || !is(d->bus, "virtio"))
        return -1;
    if (is(d->type, "tablet"))
        return VIRTIO_INPUT_TABLET;
    if (is(d->type, "mouse"))
        return VIRTIO_INPUT_MOUSE;
    if (is(d->type, "keyboard"))
        return VIRTIO_INPUT_KEYBOARD;
    return -1;
}

static int add_inputs(struct board *b)
{
    for (size_t i = 0; i < b->dom->ndevices; i++) {
        const struct domain_device *d = &b->dom->devices[i];
        int kind = board_input_kind(d);
        if (kind < 0) {
            if (is(d->element, "input") && is(d->bus, "virtio"))
                fprintf(stderr, "tvm-vmm: warning: input type '%s' on bus virtio is not "
                                "emulated; ignored\n", d->type ? d->type : "");
            continue;
        }
        struct virtio_input_config_in c = {.kind = (enum virtio_input_kind)kind};
        if (plug(b, virtio_input_new(b->vm, &c), d->pci.slot) < 0)
            return -1;
        if (!b->input[kind])
            b->input[kind] = b->virtio[b->nvirtio - 1];
    }
    return 0;
}

static int add_rngs(struct board *b)
{
    for (size_t i = 0; i < b->dom->ndevices; i++) {
        const struct domain_device *d = &b->dom->devices[i];
        if (is(d->element, "rng") && is(d->model, "virtio") &&
            plug(b, virtio_rng_new(b->vm), d->pci.slot) < 0)
            return -1;
    }
    return 0;
}

/* Every <console><target type='virtio'/></console> is a one-port virtio
 * console, the Nth of them named consoleN (libvirt's alias when the first
 * console is the serial one), on socket VMM_SOCK_VCONSOLE_FMT. */
static int add_consoles(struct board *b)
{
    unsigned n = 0;
    for (size_t i = 0; i < b->dom->nchardevs; i++) {
        const struct domain_chardev *cd = &b->dom->chardevs[i];
        if (!is(cd->element, "console") || !is(cd->target_type, "virtio"))
            continue;
        char name[16], sock[32], path[PATH_MAX];
        snprintf(name, sizeof name, "console%u", ++n);
        snprintf(sock, sizeof sock, VMM_SOCK_VCONSOLE_FMT, n);
        unsigned slot = domain_console_pci_slot(b->dom, n);
        if (!slot)
            return err_set("%s: no free PCI slot left on bus 0", name);
        if (snprintf(path, sizeof path, "%s/%s", b->o.rundir, sock) >= (int)sizeof path)
            return err_set("%s: %s/%s: path too long", name, b->o.rundir, sock);
        struct virtio_console_config_in c = {.con = console_new(b->o.loop, path, NULL),
                                             .name = name};
        if (!c.con)
            return err_prefix("%s: ", name);
        if (plug(b, virtio_console_new(b->vm, &c), slot) < 0)
            return err_prefix("%s: ", name);
    }
    return 0;
}

int board_balloon_config(const struct domain *d, struct virtio_balloon_config_in *c)
{
    memset(c, 0, sizeof *c);
    if (!d->memballoon.present)
        return 0;
    for (size_t i = 0; i < d->ndevices; i++) {
        const struct domain_device *x = &d->devices[i];
        if (!is(x->element, "memballoon"))
            continue;
        if (!is_virtio_model(x->model)) {
            if (x->model && !is(x->model, "none"))
                fprintf(stderr,
                        "tvm-vmm: warning: memballoon model '%s' is not emulated; ignored\n",
                        x->model);
            return 0;
        }
        c->target_bytes = d->current_memory_kib * 1024;
        c->stats_period = d->memballoon.stats_period;
        c->deflate_on_oom = d->memballoon.autodeflate;
        return 1;
    }
    return 0;
}

/* One <memballoon model='virtio'> at most (the model refuses more): a
 * virtio-balloon whose target at boot is <currentMemory>. */
static int add_balloon(struct board *b)
{
    struct virtio_balloon_config_in c;
    if (board_balloon_config(b->dom, &c) <= 0)
        return 0;
    for (size_t i = 0; i < b->dom->ndevices; i++)
        if (is(b->dom->devices[i].element, "memballoon"))
            return plug(b, virtio_balloon_new(b->vm, &c), b->dom->devices[i].pci.slot);
    return 0;
}

static const struct {
    const char *what;
    int (*add)(struct board *b);
} virtio_kinds[] = {
    {"disks", add_disks}, {"SCSI controllers", add_scsi}, {"network interfaces", add_nics},
    {"rng", add_rngs},    {"consoles", add_consoles},     {"memballoon", add_balloon},
    {"input devices", add_inputs},
};

static void virtio_down(struct board *b)
{
    memset(b->input, 0, sizeof b->input);
    while (b->nvirtio > 0)
        virtio_dev_free(b->virtio[--b->nvirtio]);
}

static int virtio_up(struct board *b)
{
    for (size_t i = 0; i < sizeof virtio_kinds / sizeof virtio_kinds[0]; i++)
        if (virtio_kinds[i].add(b) < 0)
            return err_prefix("%s: ", virtio_kinds[i].what);
    return 0;
}

/* ---- the display: <video>, <graphics type='vnc'> ---- */

int board_display_config(const struct domain *d, struct display_config *c)
{
    memset(c, 0, sizeof *c);
    c->port = -1;
    const struct domain_device *video = NULL;
    for (size_t i = 0; i < d->ndevices && !video; i++)
        if (is(d->devices[i].element, "video") && domain_device_on_pci(&d->devices[i]))
            video = &d->devices[i];
    const struct domain_graphics *vnc = NULL;
    for (size_t i = 0; i < d->ngraphics; i++) {
        if (is(d->graphics[i].type, "vnc") && !vnc)
            vnc = &d->graphics[i];
        else
            fprintf(stderr, "tvm-vmm: warning: graphics type '%s' is not served; ignored\n",
                    d->graphics[i].type);
    }
    if (vnc && !video)
        fprintf(stderr, "tvm-vmm: warning: <graphics type='vnc'> without a <video> device: "
                        "nothing to show; add <video><model type='virtio'/></video>\n");
    if (!video)
        return 0;
    /* A VGA card starts in text mode; the others are linear framebuffers. */
    c->vga = (struct vga_config){
        .text = !video->type || is(video->type, "vga") || is(video->type, "cirrus"),
        .width = video->res_x,
        .height = video->res_y,
        .vram_bytes = (uint64_t)video->vram_kib * 1024,
        .slot = (int)video->pci.slot,
    };
    if (vnc) {
        c->vnc_tcp = true;
        c->graphics_index = (int)(vnc - d->graphics);
        c->listen = vnc->listen;
        c->port = vnc->autoport ? -1 : vnc->port;
        c->passwd = vnc->passwd;
    }
    return 1;
}

static int display_up(struct board *b)
{
    struct display_config c;
    bool video = board_display_config(b->dom, &c) > 0;
    c.loop = b->o.loop;
    c.rundir = b->o.rundir;
    c.name = b->dom->name;
    c.kbd = b->kbd;
    c.tablet = b->input[VIRTIO_INPUT_TABLET];
    c.mouse = b->input[VIRTIO_INPUT_MOUSE];
    c.keyboard = b->input[VIRTIO_INPUT_KEYBOARD];
    c.pci = video ? b->pci : NULL;
    b->display = display_new(b->vm, &c);
    if (!b->display)
        return err_prefix("display: ");
    if (video)
        b->vm->cfg.screen = vga_screen_of(b->display);
    return 0;
}

static void display_down(struct board *b)
{
    b->vm->cfg.screen = NULL;
    display_free(b->display);
    b->display = NULL;
}

/* ---- ACPI: PM block, power button, tables ---- */

static bool has_acpi(const struct board *b)
{
    return b->dom->acpi; /* libvirt: no <features><acpi/>, no ACPI */
}

static int build_acpi(struct vm *vm, void *opaque, uint64_t *rsdp)
{
    struct acpi_config *c = opaque;
    uint8_t *mem = vm_gpa_ptr(vm, ACPI_REGION_GPA, ACPI_REGION_LEN);
    if (!mem)
        return err_set("no guest RAM for the ACPI tables");
    return acpi_build_tables(mem, ACPI_REGION_GPA, ACPI_REGION_LEN, c, rsdp);
}

static void press_power_button(void *opaque)
{
    (void)opaque;
    acpi_pm_press_power_button();
}

static int acpi_up(struct board *b)
{
    struct vm *vm = b->vm;
    if (acpi_pm_init(vm) < 0)
        return err_prefix("ACPI PM: ");
    vm_set_power_button(vm, press_power_button, NULL);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        b->apic_ids[i] = vcpu_apic_id(&vm->cfg, i);
    pci_acpi_describe(&b->acpi_pci);
    b->acpi = (struct acpi_config){
        .ncpus = vm->nvcpus,
        .apic_ids = b->apic_ids,
        .pm_base = ACPI_PM_BASE,
        .sci_irq = ACPI_SCI_IRQ,
        .timer_gsi = 0,
        .pci = &b->acpi_pci,
    };
    /* A BIOS gets the tables through fw_cfg (firmware_up) and places them itself. */
    if (!firmware_boot(b)) {
        vm->cfg.firmware = build_acpi;
        vm->cfg.firmware_opaque = &b->acpi;
    }
    return 0;
}

static void acpi_reset(struct board *b)
{
    (void)b;
    acpi_pm_reset();
}

static void acpi_down(struct board *b)
{
    vm_set_power_button(b->vm, NULL, NULL);
    b->vm->cfg.firmware = NULL;
    acpi_pm_close();
}

/* ---- firmware boot: fw_cfg for the BIOS ---- */

/* The Open Firmware path QEMU writes into bootorder for disk D, which
 * SeaBIOS matches against the devices it finds: a virtio-blk disk is
 * /pci@i0cf8/scsi@SLOT/disk@0,0; a SCSI disk or CD-ROM on a virtio-scsi
 * controller /pci@i0cf8/scsi@SLOT/channel@0/disk@TARGET,LUN, with the
 * drive address libvirt gives sdX by default (controller N/7, unit N%7,
 * which QEMU's virtio-scsi takes as target 0, lun unit). 0: no path. */
static int disk_boot_path(const struct domain *dom, const struct domain_disk *d, char *buf,
                          size_t len)
{
    if (domain_disk_on_pci(d))
        return snprintf(buf, len, "/pci@i0cf8/scsi@%x/disk@0,0", d->pci.slot) < (int)len ? 1 : 0;
    if (!is(d->target_bus, "scsi") || !d->target_dev || strncmp(d->target_dev, "sd", 2) != 0)
        return 0;
    unsigned idx = 0;
    for (const char *p = d->target_dev + 2; *p; p++) {
        if (*p < 'a' || *p > 'z' || idx > 10000)
            return 0;
        idx = idx * 26 + (unsigned)(*p - 'a' + 1);
    }
    idx--;
    for (size_t i = 0; i < dom->ndevices; i++) {
        const struct domain_device *c = &dom->devices[i];
        if (is(c->element, "controller") && is(c->type, "scsi") && c->index == (int)(idx / 7) &&
            c->pci.slot)
            return snprintf(buf, len, "/pci@i0cf8/scsi@%x/channel@0/disk@0,%x", c->pci.slot,
                            idx % 7) < (int)len
                       ? 1
                       : 0;
    }
    return 0;
}

/* bootorder: one device path a line, lowest <boot order> first. */
static int add_bootorder(struct board *b)
{
    char text[4096] = "";
    size_t used = 0;
    const struct domain *dom = b->dom;
    for (unsigned order = 1, found = 1; found; order++) {
        found = 0;
        char path[128];
        for (size_t i = 0; i < dom->ndisks; i++) {
            const struct domain_disk *d = &dom->disks[i];
            if (d->boot_order < order)
                continue;
            found = 1;
            if (d->boot_order != order)
                continue;
            if (!disk_boot_path(dom, d, path, sizeof path)) {
                fprintf(stderr,
                        "tvm-vmm: warning: disk %s: the BIOS cannot boot from it "
                        "(bus %s); its <boot order> is ignored\n",
                        d->target_dev ? d->target_dev : "?", d->target_bus ? d->target_bus : "?");
                continue;
            }
            used += (size_t)snprintf(text + used, sizeof text - used, "%s\n", path);
        }
        for (size_t i = 0; i < dom->nnics; i++) {
            const struct domain_nic *n = &dom->nics[i];
            if (n->boot_order < order)
                continue;
            found = 1;
            if (n->boot_order == order && domain_nic_on_pci(n))
                used += (size_t)snprintf(text + used, sizeof text - used,
                                         "/pci@i0cf8/ethernet@%x/ethernet-phy@0\n", n->pci.slot);
        }
        if (used >= sizeof text)
            return err_set("bootorder: too many boot devices");
    }
    if (!used)
        return 0;
    text[used - 1] = '\0'; /* no newline after the last one */
    return fw_cfg_add_file(b->fw_cfg, "bootorder", text, used);
}

/* A text-mode <video> (vga, cirrus) gets Debian's ISA VGA BIOS as an
 * option ROM through fw_cfg ("vgaroms/": SeaBIOS runs it without a PCI
 * device whose ids it must match). It needs only what dev/vga.c has: the
 * standard VGA registers and the text buffer at 0xB8000, so the BIOS's and
 * the boot loader's text shows on the screen as well as on the serial
 * console (SeaBIOS's split mode). It finds no Bochs VBE interface: text
 * and legacy modes only. Read now, before the sandbox. */
static int add_vga_rom(struct board *b)
{
    const struct vm_screen *s = b->vm->cfg.screen;
    if (!s || !s->text)
        return 0;
    FILE *f = fopen(BIOS_VGA_ROM, "rbe");
    if (!f)
        return err_errno("VGA BIOS %s (Debian package seabios)", BIOS_VGA_ROM);
    static uint8_t rom[BIOS_VGA_ROM_MAX + 1];
    size_t n = fread(rom, 1, sizeof rom, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n < 512 || n > BIOS_VGA_ROM_MAX || rom[0] != 0x55 || rom[1] != 0xAA)
        return err_set("VGA BIOS %s: not an option ROM of at most %d KiB", BIOS_VGA_ROM,
                       BIOS_VGA_ROM_MAX >> 10);
    return fw_cfg_add_file(b->fw_cfg, "vgaroms/vgabios-isavga.bin", rom, n);
}

static int firmware_up(struct board *b)
{
    struct vm *vm = b->vm;
    b->fw_cfg = fw_cfg_new(vm, true);
    if (!b->fw_cfg)
        return -1;
    struct boot_e820_entry e820[8];
    int n = bios_e820(vm->ram_size, e820, 8);
    if (n < 0 || fw_cfg_add_int(b->fw_cfg, FW_CFG_NB_CPUS, vm->nvcpus, 2) < 0 ||
        fw_cfg_add_int(b->fw_cfg, FW_CFG_MAX_CPUS, vm->nvcpus, 2) < 0 ||
        fw_cfg_add_int(b->fw_cfg, FW_CFG_BOOT_MENU, b->dom->os_bootmenu, 2) < 0 ||
        fw_cfg_add_file(b->fw_cfg, "etc/e820", e820, (size_t)n * sizeof e820[0]) < 0 ||
        add_bootorder(b) < 0)
        return -1;
    uint8_t wait[2] = {(uint8_t)b->dom->os_bootmenu_timeout,
                       (uint8_t)(b->dom->os_bootmenu_timeout >> 8)};
    if (b->dom->os_bootmenu && b->dom->os_bootmenu_timeout >= 0 &&
        fw_cfg_add_file(b->fw_cfg, "etc/boot-menu-wait", wait, 2) < 0)
        return -1;
    /* BIOS and boot loader text go to the serial port, the console tvm
     * reads, also with a screen (QEMU: only without one): a framebuffer
     * <video> has no VGA BIOS, and the serial console is what tvm shows. */
    uint8_t port[2] = {SERIAL_COM1_BASE & 0xFF, SERIAL_COM1_BASE >> 8};
    if (fw_cfg_add_file(b->fw_cfg, "etc/sercon-port", port, 2) < 0)
        return -1;
    if (has_acpi(b) && bios_acpi_files(b->fw_cfg, &b->acpi) < 0)
        return err_prefix("ACPI: ");
    return add_vga_rom(b);
}

/* ---- the table ---- */

/* In start-up order. wanted NULL: always there. reset puts the device
 * back in power-on state at every VM reset (virtio devices reset through
 * their transport's own hook). exit also copes with an init that failed
 * half-way. i8042 and RTC belong to the VM, which frees them. */
static const struct board_device {
    const char *name;
    bool (*wanted)(const struct board *b);
    int (*init)(struct board *b);
    void (*reset)(struct board *b);
    void (*exit)(struct board *b);
} devices[] = {
    {"serial", NULL, serial_up, serial_reset_, serial_down},
    {"i8042", NULL, i8042_up, NULL, NULL},
    {"rtc", NULL, rtc_up, NULL, NULL},
    {"pci", NULL, pci_up, NULL, NULL},
    {"virtio", NULL, virtio_up, NULL, virtio_down},
    {"display", NULL, display_up, NULL, display_down},
    {"acpi", has_acpi, acpi_up, acpi_reset, acpi_down},
    {"firmware", firmware_boot, firmware_up, NULL, NULL},
};
#define NDEVICES (sizeof devices / sizeof devices[0])

static bool present(const struct board *b, size_t i)
{
    return i < b->nup && (!devices[i].wanted || devices[i].wanted(b));
}

static void board_reset(void *opaque)
{
    struct board *b = opaque;
    for (size_t i = 0; i < NDEVICES; i++)
        if (present(b, i) && devices[i].reset)
            devices[i].reset(b);
}

struct board *board_new(struct vm *vm, struct domain *dom, const struct board_opts *o)
{
    struct board *b = calloc(1, sizeof *b);
    if (!b) {
        err_set("out of memory");
        return NULL;
    }
    b->vm = vm;
    b->dom = dom;
    b->o = *o;
    if (vm_add_reset_hook(vm, board_reset, b) < 0) {
        free(b);
        return NULL;
    }
    for (; b->nup < NDEVICES; b->nup++) {
        const struct board_device *d = &devices[b->nup];
        if (d->wanted && !d->wanted(b))
            continue;
        if (d->init(b) < 0) {
            b->nup++; /* its exit takes down what it built before failing */
            board_free(b);
            return NULL;
        }
    }
    return b;
}

void board_free(struct board *b)
{
    if (!b)
        return;
    while (b->nup > 0) {
        size_t i = --b->nup;
        if ((!devices[i].wanted || devices[i].wanted(b)) && devices[i].exit)
            devices[i].exit(b);
    }
    free(b);
}
