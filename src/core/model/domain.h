/* The domain model: a typed view of one libvirt domain XML document.
 *
 * The XML document is the source of truth. domain_parse() validates it,
 * normalises what virsh normalises (memory in KiB, a generated uuid and MAC
 * addresses, currentMemory defaulting to memory) and fills this struct for
 * the code that needs typed values (store columns, the VMM's launch, the
 * TUI). Everything tvm does not understand stays in the document and is
 * written back unchanged by domain_format(). Changes (rename, description,
 * vcpus ...) go through the domain_set_*() calls, which edit the document
 * and the struct together so the two never disagree.
 */
#ifndef TVM_CORE_DOMAIN_H
#define TVM_CORE_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/mac.h"
#include "core/base/name.h"
#include "core/base/uuid.h"

/* virDomainState numbering, so values match virsh and libvirt clients. */
enum domain_state {
    DOMAIN_NOSTATE = 0,
    DOMAIN_RUNNING = 1,
    DOMAIN_BLOCKED = 2,
    DOMAIN_PAUSED = 3,
    DOMAIN_SHUTDOWN = 4, /* being shut down */
    DOMAIN_SHUTOFF = 5,
    DOMAIN_CRASHED = 6,
    DOMAIN_PMSUSPENDED = 7,
};
/* "running", "shut off", ... as virsh prints them. */
const char *domain_state_name(enum domain_state s);

/* A device's <address type='pci' domain= bus= slot= function=/>, as
 * libvirt writes it. set is false when the device has none (or an address
 * of another type). domain-address.c parses and assigns them. */
struct domain_pci_addr {
    bool set;
    unsigned domain, bus, slot, function;
    bool multifunction;
};

/* <address type='drive' controller= bus= target= unit=/>: where a disk sits
 * on a SCSI controller (unit is its LUN); set false without one. */
struct domain_drive_addr {
    bool set;
    unsigned controller, bus, target, unit;
};

struct domain_disk {
    char *type;        /* file | block | volume | network */
    char *device;      /* disk | cdrom | floppy | lun */
    char *driver_name; /* qemu */
    char *driver_type; /* raw | qcow2 ... */
    char *cache;       /* none | writeback | writethrough | directsync | unsafe */
    char *discard;     /* unmap | ignore */
    char *source;      /* file path or block device (type file/block) */
    char *source_pool; /* type volume */
    char *source_volume;
    char *target_dev; /* vda, sda, hdc ... */
    char *target_bus; /* virtio | sata | scsi | ide | usb */
    bool readonly;
    bool shareable;
    unsigned boot_order; /* 0: none */
    char *serial;
    struct domain_pci_addr pci;
    struct domain_drive_addr drive;
};

struct domain_nic {
    char *type; /* network | bridge | ethernet | user | direct */
    char mac[MAC_STR_LEN];
    char *source; /* network name, bridge name or direct dev */
    /* type 'network', running: the network's bridge (<source bridge=...>,
     * as libvirt writes it into the live XML); NULL otherwise */
    char *source_bridge;
    char *model; /* virtio | e1000 ... */
    char *target_dev;
    char *link_state; /* up | down | NULL */
    unsigned boot_order;
    struct domain_pci_addr pci;
};

struct domain_graphics {
    char *type; /* vnc | spice */
    int port;   /* -1 with autoport */
    bool autoport;
    char *listen;
    char *passwd;
};

/* serial, console and channel share libvirt's character device shape. */
struct domain_chardev {
    char *element;     /* serial | console | channel */
    char *type;        /* pty | file | unix | null ... */
    char *source_path; /* file/unix */
    char *target_type; /* isa-serial, serial, virtio, virtio (channel) ... */
    int target_port;
    char *target_name; /* channels: org.qemu.guest_agent.0 ... */
};

struct domain_device {
    char *element; /* input | video | memballoon | rng | controller | watchdog ... */
    char *type;    /* input type, controller type, video model type ... */
    char *model;   /* memballoon/rng/controller model */
    char *bus;     /* input bus */
    char *backend; /* rng backend (/dev/urandom) */
    int index;     /* controller index, -1 if none */
    /* video: <model vram='KiB'><resolution x= y=/></model>; 0 when absent */
    unsigned vram_kib, res_x, res_y;
    struct domain_pci_addr pci;
};

struct domain {
    char *name;
    char uuid[UUID_STR_LEN];
    char *title;
    char *description;
    char *type; /* kvm */
    /* <metadata><tvm:template xmlns:tvm=DOMAIN_TVM_NS/></metadata>: a
     * template is cloned, never started (domain-clone.c). */
    bool is_template;

    uint64_t memory_kib;         /* <memory>: maximum at boot */
    uint64_t current_memory_kib; /* <currentMemory> */
    uint64_t max_memory_kib;     /* <maxMemory>, 0 if absent */
    unsigned max_memory_slots;

    unsigned vcpus;         /* <vcpu> */
    unsigned vcpus_current; /* <vcpu current=...>, = vcpus if absent */
    char *vcpu_placement;

    char *cpu_mode; /* host-passthrough | host-model | custom | maximum */
    char *cpu_model;
    unsigned cpu_sockets, cpu_dies, cpu_cores, cpu_threads; /* 0 if no <topology> */

    char *os_type; /* hvm */
    char *os_arch;
    char *os_machine;
    char *os_kernel;
    char *os_initrd;
    char *os_cmdline;
    char *os_loader;      /* <loader>: a BIOS image (no <kernel>: firmware boot) */
    char *os_loader_type; /* <loader type=...>: rom (or absent); pflash is refused */
    char *os_firmware;    /* <os firmware=...>: bios (or absent); efi is refused */
    char *os_boot[4];     /* <boot dev=...> in order */
    unsigned os_nboot;
    bool os_bootmenu;        /* <bootmenu enable='yes'> */
    int os_bootmenu_timeout; /* its timeout= in ms, -1 when absent */

    bool acpi;
    bool apic;
    char *clock_offset;

    char *on_poweroff; /* destroy | restart | preserve | rename-restart */
    char *on_reboot;
    char *on_crash;

    struct domain_disk *disks;
    size_t ndisks;
    struct domain_nic *nics;
    size_t nnics;
    struct domain_graphics *graphics;
    size_t ngraphics;
    struct domain_chardev *chardevs;
    size_t nchardevs;
    struct domain_device *devices; /* input, video, memballoon, rng, controller ... */
    size_t ndevices;
    /* The <memballoon> (libvirt allows one): its settings here, its model
     * and <address> on its entry in devices[]. */
    struct domain_memballoon {
        bool present;
        bool autodeflate;      /* autodeflate='on' */
        unsigned stats_period; /* <stats period>: seconds between refreshes, 0: none */
    } memballoon;

    void *doc; /* xmlDocPtr: the document itself, owned */
};

/* The most vCPUs a guest may have: tvm-vmm numbers them by xAPIC id,
 * below the broadcast id 255. */
#define DOMAIN_MAX_VCPUS 255u

/* Whether tvm-vmm can run this guest at all (os type hvm, arch x86_64 or
 * i686, at most DOMAIN_MAX_VCPUS vCPUs), as libvirt checks a definition
 * against the driver's capabilities: -1 with "origin:LINE: <elem>: ..."
 * naming the limit. */
int domain_check_runnable(const struct domain *d, const char *origin);

/* Parse domain XML. `origin` names the source in errors ("web.xml", "<stdin>").
 * Errors carry the line and the element: "web.xml:12: <memory>: unknown unit 'XB'". */
int domain_parse(const char *xml, size_t len, const char *origin, struct domain **out);
/* The document as text, formatted as virsh dumpxml does. Caller frees. */
char *domain_format(const struct domain *d);
/* The same without secrets (graphics passwd), as virsh dumpxml prints it
 * unless --security-info is given. Caller frees. */
char *domain_format_public(const struct domain *d);
/* The same for a definition as stored (XML text), without parsing it into
 * a struct domain; ORIGIN names it in errors. NULL with a message on error. */
char *domain_xml_public(const char *xml, const char *origin);
void domain_free(struct domain *d);

/* Edits that keep document and struct in step. Each validates its input. */
int domain_set_name(struct domain *d, const char *name);
int domain_set_title(struct domain *d, const char *title);
int domain_set_description(struct domain *d, const char *desc);
int domain_set_uuid(struct domain *d, const char *uuid);
int domain_set_vcpus_current(struct domain *d, unsigned n);
int domain_set_current_memory(struct domain *d, uint64_t kib);
/* <memballoon><stats period='S'/>; 0 removes <stats>, as libvirt writes it. */
int domain_set_memballoon_period(struct domain *d, unsigned period);
int domain_set_nic_mac(struct domain *d, size_t index, const char *mac);
/* <source bridge=BRIDGE> of the index-th NIC, of type 'network': the live
 * XML tvm hands to tvm-vmm says which bridge the network runs on. */
int domain_set_nic_network_bridge(struct domain *d, size_t index, const char *bridge);
/* A <disk type='volume'> resolved for the live XML: type 'file' with
 * <source file=PATH> (BLOCK: type 'block', <source dev=PATH>), the pool and
 * volume attributes gone. */
int domain_set_disk_path(struct domain *d, size_t index, const char *path, bool block);
/* <driver type=FORMAT> of the index-th disk (a <driver name='qemu'> made
 * first when it has none): an external snapshot's overlay is qcow2. */
int domain_set_disk_format(struct domain *d, size_t index, const char *format);
/* The live XML of a disk a running guest's snapshot put onto an overlay,
 * as libvirt shows it: <backingStore type='file'> with <format type=FORMAT>
 * and <source file=PATH> (the image it wrote to until then) after its
 * <source>, holding what was the disk's <backingStore> (or an empty one,
 * the end of the chain). Call before moving the disk onto the overlay. */
int domain_push_disk_backing(struct domain *d, size_t index, const char *path, const char *format);
/* What only a running guest has, for its live XML (virsh dumpxml without
 * --inactive); domain_parse() drops the id again, so neither reaches a
 * stored definition through define. <domain id='ID'>: */
int domain_set_run_id(struct domain *d, int64_t id);
/* <target dev=DEV> of the index-th NIC: the host tap it really uses. */
int domain_set_nic_target_dev(struct domain *d, size_t index, const char *dev);
/* The live port of the INDEXth <graphics> (document order): port='PORT',
 * autoport kept, as libvirt shows a running guest's automatic port. */
int domain_set_graphics_port(struct domain *d, size_t index, int port);
/* At define and edit, as libvirt parses an inactive definition: a tap name
 * with libvirt's own prefixes (vnet, macvtap, macvlan) is dropped. */
int domain_drop_generated_ifnames(struct domain *d);

/* domain-drive.c: a CD-ROM's medium. <source file=PATH> (<source dev=PATH>
 * and type='block' when BLOCK) of the index-th disk, placed where libvirt
 * writes it; PATH NULL removes <source> (an empty drive). */
int domain_set_disk_source(struct domain *d, size_t index, const char *path, bool block);
/* The index-th <disk> element as text (virsh change-media --print-xml);
 * caller frees. */
char *domain_disk_xml(struct domain *d, size_t index);

/* domain-clone.c. tvm's own metadata lives in <metadata> under this
 * namespace, so it survives dumpxml, edit and define like libvirt's. */
#define DOMAIN_TVM_NS "urn:x-tvm:domain:1"
/* Marks (or unmarks) the domain a template: <tvm:template/> in <metadata>. */
int domain_set_template(struct domain *d, bool on);
/* What virt-clone changes in a copy of a definition besides disks and
 * MACs: the name and uuid (<sysinfo>'s system uuid too), no <title>, no
 * template mark, automatic ports for graphics that had fixed ones, and
 * no interface <target dev> (the host names a new tap). */
int domain_prepare_clone(struct domain *d, const char *name, const char *uuid);
/* <disk type='volume'>: the index-th disk's <source volume=VOLUME>. */
int domain_set_disk_volume(struct domain *d, size_t index, const char *volume);

/* domain-address.c: PCI slots. tvm-vmm has one PCI bus (0) whose slot 0 is
 * the host bridge; the devices it puts there are the ones the predicates
 * below accept. domain_assign_pci() checks the addresses those devices
 * have (bus 0, function 0, slot 1-31, no slot used twice by any device)
 * and gives each one without an address the lowest free slot in document
 * order, writing <address> into the document as libvirt does. Returns how
 * many it assigned, or -1 with a message naming the device. */
bool domain_disk_on_pci(const struct domain_disk *disk);
bool domain_nic_on_pci(const struct domain_nic *nic);
bool domain_device_on_pci(const struct domain_device *dev);
int domain_assign_pci(struct domain *d);
/* True if every device the predicates accept has its address (tvm's live
 * XML always does, after domain_assign_pci()). */
bool domain_pci_complete(const struct domain *d);
/* Virtio consoles (<console><target type='virtio'/>) each get a device of
 * their own in tvm-vmm, but libvirt gives a console no PCI address to
 * store: the first sits in the slot of the virtio-serial controller with
 * index 0 (libvirt adds one for a virtio console), the others (and all of
 * them without such a controller) in the Nth slot no device of the domain
 * has. Derived from the addresses, so both sides agree. 0 if the bus is
 * full. */
unsigned domain_console_pci_slot(const struct domain *d, unsigned n);

#endif
