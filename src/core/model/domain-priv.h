/* Internal to domain*.c: the pieces of domain_parse() split by topic. */
#ifndef TVM_CORE_DOMAIN_PRIV_H
#define TVM_CORE_DOMAIN_PRIV_H

#include <libxml/tree.h>

#include "core/model/domain.h"

/* <devices>: disks, interfaces (MACs generated), graphics, chardevs, the rest. */
int domain_parse_devices(struct domain *d, xmlNodePtr devices, const char *origin);
void domain_free_devices(struct domain *d);

/* Write "N" as text of `node` with unit='KiB' (the form virsh prints). */
int domain_write_kib(xmlNodePtr node, uint64_t kib);

/* domain-defaults.c: libvirt's device defaults, written into the document. */
int domain_disk_defaults(struct domain_disk *disk, xmlNodePtr n, xmlNodePtr target);
int domain_graphics_defaults(const struct domain_graphics *g, xmlNodePtr n);
int domain_serial_port(struct domain *d, xmlNodePtr n);
int domain_controller_index(struct domain_device *dev, xmlNodePtr n);
int domain_console_compat(struct domain *d, xmlNodePtr devices);
int domain_boot_default(struct domain *d, xmlNodePtr root);
int domain_cpu_fallback_default(xmlNodePtr cpu);
int domain_disks_order(xmlNodePtr devices);
int domain_video_defaults(xmlNodePtr video);
void domain_devices_order(xmlNodePtr devices);
void domain_nic_order(xmlNodePtr nic);
/* libvirt's device order, primary video first, console ports, filesystem
 * access mode: on <devices> before anything is parsed. */
int domain_devices_compat(xmlNodePtr devices);

/* domain-address.c: the <address type='pci'> child of DEV into *A (a->set
 * false without one), range-checked and rewritten in libvirt's form. */
int domain_parse_pci_addr(xmlNodePtr dev, const char *origin, struct domain_pci_addr *a);

/* domain-drive.c: the <address type='drive'> child of DEV into *A (a->set
 * false without one), and libvirt's implicit controllers on the document
 * (drive addresses of SCSI/SATA/IDE/floppy disks, the controllers they
 * name, virtio-serial for virtio channels and consoles) before devices are
 * parsed. */
int domain_parse_drive_addr(xmlNodePtr dev, const char *origin, struct domain_drive_addr *a);
int domain_controllers_compat(xmlNodePtr devices, const char *origin);
/* libvirt's virDiskNameToIndex (sda, hda, vda: 0; sdaa: 26), -1 if none. */
long domain_disk_name_index(const char *name);
/* The bus of a <disk> element (target bus, else from its name), or NULL. */
char *domain_disk_node_bus(xmlNodePtr disk);

/* domain-clone.c: whether <metadata> holds tvm's template mark. */
bool domain_metadata_template(xmlNodePtr root);

#endif
