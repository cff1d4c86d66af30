/* The virtio-pci modern transport (virtio 1.2, 4.1): the device's
 * registers in memory BAR 4 (common config, ISR, device config, notify,
 * each announced by a vendor capability), MSI-X table and PBA in BAR 1.
 *
 * Notifications: once the driver sets DRIVER_OK each queue's notify
 * address becomes a KVM ioeventfd on the queue's kick eventfd, so a kick
 * wakes the device's worker without leaving the kernel; before that (or if
 * KVM refuses) the MMIO write lands here and we write the eventfd.
 * Interrupts: each MSI-X vector gets a GSI route and an irqfd when first
 * used; a masked vector keeps its pending bit until unmasked. Without
 * MSI-X the ISR and an INTx line are used.
 *
 * A VM reset throws the KVM VM away, and with it every route, irqfd and
 * ioeventfd: pci_generation() tells us to make them again.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "pci.h"
#include "virtio/virtio.h"
#include "vm.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

#define BAR_MSIX 1
#define BAR_VIRTIO 4
#define MSIX_BAR_SIZE 0x1000
#define MSIX_PBA_OFF 0x800
#define VIRTIO_BAR_SIZE 0x4000
#define COMMON_OFF 0x0000
#define COMMON_LEN 0x40
#define ISR_OFF 0x1000
#define DEVICE_OFF 0x2000
#define NOTIFY_OFF 0x3000
#define NOTIFY_MULT 4

/* virtio_pci_cap.cfg_type */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5

#define MAX_VECTORS (VIRTIO_MAX_QUEUES + 1)
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_MASKED 1

struct msix_vec {
    uint32_t addr_lo, addr_hi, data, ctrl;
    int efd;      /* irqfd eventfd */
    int gsi;      /* its route, -1 before the first use */
    bool routed;  /* the route carries the current message */
    bool irqfd;   /* efd is bound to gsi */
    unsigned gen; /* pci_generation() the two above belong to */
    bool pending;
};

struct vpci {
    struct pci_device pci;
    struct virtio_dev *dev;
    struct pci_bus *bus;
    uint8_t msix_cap;
    uint8_t pcicfg_cap; /* VIRTIO_PCI_CAP_PCI_CFG: BAR access through config space */

    uint32_t dfselect, gfselect;
    uint16_t queue_select;
    uint16_t config_vector;
    uint16_t queue_vector[VIRTIO_MAX_QUEUES];
    uint8_t isr;
    uint8_t intx;

    unsigned nvec;
    struct msix_vec vec[MAX_VECTORS];

    bool ioeventfd[VIRTIO_MAX_QUEUES];
    uint64_t ioeventfd_addr[VIRTIO_MAX_QUEUES];
    unsigned ioeventfd_gen;
};

static struct vpci *from_pci(struct pci_device *d)
{
    return (struct vpci *)((char *)d - offsetof(struct vpci, pci));
}

/* ---- interrupts ---- */

static uint16_t msix_ctrl(const struct vpci *p)
{
    uint16_t c;
    memcpy(&c, p->pci.cfg + p->msix_cap + 2, 2);
    return c;
}

static bool msix_enabled(const struct vpci *p)
{
    return msix_ctrl(p) & MSIX_CTRL_ENABLE;
}

/* Route and irqfd for vector V, made on first use and again after a VM
 * reset (new generation) or a new message in the table. */
static int bind_vector(struct vpci *p, struct msix_vec *v)
{
    unsigned gen = pci_generation(p->bus);
    if (!pci_has_vm(p->bus))
        return err_set("no KVM VM");
    if (v->gen != gen) {
        v->gsi = -1; /* the old VM's routes and irqfds are gone */
        v->routed = v->irqfd = false;
        v->gen = gen;
    }
    if (!v->routed) {
        uint64_t addr = (uint64_t)v->addr_hi << 32 | v->addr_lo;
        if (pci_msi_route(p->bus, &v->gsi, addr, v->data) < 0)
            return -1;
        v->routed = true;
    }
    if (!v->irqfd) {
        struct kvm_irqfd irqfd = {.fd = (uint32_t)v->efd, .gsi = (uint32_t)v->gsi};
        if (pci_vm_ioctl(p->bus, KVM_IRQFD, &irqfd) < 0 && errno != EBUSY)
            return err_errno("KVM_IRQFD");
        v->irqfd = true;
    }
    return 0;
}

static void deliver(struct vpci *p, unsigned n)
{
    struct msix_vec *v = &p->vec[n];
    if (v->gen != pci_generation(p->bus) || !v->routed || !v->irqfd) {
        if (bind_vector(p, v) < 0) {
            /* No irqfd (no KVM VM, or KVM said no): inject directly. */
            struct kvm_msi msi = {
                .address_lo = v->addr_lo, .address_hi = v->addr_hi, .data = v->data};
            static struct guest_log_site msi_lost; /* the guest picks the message */
            if (pci_vm_ioctl(p->bus, KVM_SIGNAL_MSI, &msi) < 0 && errno != ENODEV)
                guest_log(&msi_lost, "%s: MSI lost: %s", p->dev->id, strerror(errno));
            err_clear();
            return;
        }
    }
    uint64_t one = 1;
    if (write(v->efd, &one, sizeof one) < 0) {
        /* counter saturated: an interrupt is pending anyway */
    }
}

static void msix_signal(struct vpci *p, uint16_t n)
{
    if (n >= p->nvec)
        return; /* VIRTIO_MSI_NO_VECTOR: the driver wants no interrupt */
    if ((msix_ctrl(p) & MSIX_CTRL_MASKALL) || (p->vec[n].ctrl & MSIX_ENTRY_MASKED)) {
        p->vec[n].pending = true;
        return;
    }
    deliver(p, n);
}

static void intx_signal(struct vpci *p, uint8_t isr_bit)
{
    p->isr |= isr_bit;
    uint16_t cmd;
    memcpy(&cmd, p->pci.cfg + PCI_COMMAND, 2);
    if (!(cmd & PCI_COMMAND_INTX_DISABLE))
        vm_irq_line(pci_vm(p->bus), p->intx, true);
}

static void signal_queue(void *opaque, unsigned q)
{
    struct vpci *p = opaque;
    if (msix_enabled(p)) {
        p->isr |= 1;
        msix_signal(p, p->queue_vector[q]);
    } else {
        intx_signal(p, 1);
    }
}

static void signal_config(void *opaque)
{
    struct vpci *p = opaque;
    if (msix_enabled(p)) {
        p->isr |= 2;
        msix_signal(p, p->config_vector);
    } else {
        intx_signal(p, 2);
    }
}

/* Unmasking delivers what arrived while masked (PCI 3.0, 6.8.3.5). */
static void deliver_pending(struct vpci *p)
{
    if (!msix_enabled(p) || (msix_ctrl(p) & MSIX_CTRL_MASKALL))
        return;
    for (unsigned i = 0; i < p->nvec; i++) {
        if (p->vec[i].pending && !(p->vec[i].ctrl & MSIX_ENTRY_MASKED)) {
            p->vec[i].pending = false;
            deliver(p, i);
        }
    }
}

/* ---- ioeventfd ---- */

static void ioeventfd_set(struct vpci *p, unsigned q, bool on)
{
    unsigned gen = pci_generation(p->bus);
    if (p->ioeventfd[q] && p->ioeventfd_gen != gen)
        p->ioeventfd[q] = false; /* belonged to a KVM VM that is gone */
    if (!pci_has_vm(p->bus) || p->ioeventfd[q] == on)
        return;
    uint64_t bar = pci_bar_addr(&p->pci, BAR_VIRTIO);
    uint64_t addr = on ? bar + NOTIFY_OFF + NOTIFY_MULT * q : p->ioeventfd_addr[q];
    if (on && !bar)
        return;
    struct kvm_ioeventfd io = {
        .addr = addr,
        .len = 2, /* the driver writes the 16-bit queue index */
        .fd = p->dev->kick_fd[q],
        .flags = on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
    };
    if (pci_vm_ioctl(p->bus, KVM_IOEVENTFD, &io) < 0) {
        static struct guest_log_site refused; /* at every DRIVER_OK the guest sets */
        if (on)
            guest_log(&refused, "%s: KVM_IOEVENTFD: %s (kicks go through MMIO exits)", p->dev->id,
                      strerror(errno));
        return;
    }
    p->ioeventfd[q] = on;
    p->ioeventfd_addr[q] = addr;
    p->ioeventfd_gen = gen;
}

/* ---- common configuration (4.1.4.3) ---- */

static void transport_reset(struct vpci *p)
{
    for (unsigned q = 0; q < p->dev->num_queues; q++) {
        ioeventfd_set(p, q, false);
        p->queue_vector[q] = VIRTIO_NO_VECTOR;
    }
    p->config_vector = VIRTIO_NO_VECTOR;
    p->dfselect = p->gfselect = 0;
    p->queue_select = 0;
    p->isr = 0;
    vm_irq_line(pci_vm(p->bus), p->intx, false);
}

static void common_read(struct vpci *p, uint64_t off, uint8_t *data, uint32_t len)
{
    struct virtio_dev *d = p->dev;
    uint8_t r[COMMON_LEN] = {0};
    uint32_t feat = p->dfselect < 2 ? (uint32_t)(d->host_features >> (32 * p->dfselect)) : 0;
    uint32_t gfeat = p->gfselect < 2 ? (uint32_t)(d->guest_features >> (32 * p->gfselect)) : 0;
    uint16_t nq = d->num_queues, qs = p->queue_select;
    memcpy(r + 0x00, &p->dfselect, 4);
    memcpy(r + 0x04, &feat, 4);
    memcpy(r + 0x08, &p->gfselect, 4);
    memcpy(r + 0x0C, &gfeat, 4);
    memcpy(r + 0x10, &p->config_vector, 2);
    memcpy(r + 0x12, &nq, 2);
    r[0x14] = d->status;
    r[0x15] = d->config_generation;
    memcpy(r + 0x16, &qs, 2);
    if (qs < nq) {
        const struct virtq *q = &d->vq[qs];
        uint16_t size = q->size, en = q->ready, noff = qs;
        memcpy(r + 0x18, &size, 2);
        memcpy(r + 0x1A, &p->queue_vector[qs], 2);
        memcpy(r + 0x1C, &en, 2);
        memcpy(r + 0x1E, &noff, 2);
        memcpy(r + 0x20, &q->desc_gpa, 8);
        memcpy(r + 0x28, &q->avail_gpa, 8);
        memcpy(r + 0x30, &q->used_gpa, 8);
    }
    memcpy(data, r + off, len);
}

/* Merges a 1..8 byte write at OFF into the 64-bit register at BASE. */
static void merge64(uint64_t *reg, uint64_t base, uint64_t off, const uint8_t *data, uint32_t len)
{
    uint8_t b[8];
    memcpy(b, reg, 8);
    memcpy(b + (off - base), data, len);
    memcpy(reg, b, 8);
}

static uint16_t valid_vector(const struct vpci *p, uint16_t v)
{
    return v < p->nvec ? v : VIRTIO_NO_VECTOR;
}

static void queue_write(struct vpci *p, uint64_t off, const uint8_t *data, uint32_t len, uint32_t v)
{
    struct virtio_dev *d = p->dev;
    unsigned qs = p->queue_select;
    if (qs >= d->num_queues)
        return;
    struct virtq *q = &d->vq[qs];
    if (off == 0x1A && len == 2) {
        p->queue_vector[qs] = valid_vector(p, v);
        return;
    }
    if (q->ready)
        return; /* the rest is fixed while the queue is enabled (4.1.4.3.2) */
    if (off == 0x18 && len == 2) {
        q->size = v;
    } else if (off == 0x1C && len == 2) {
        if (v == 1)
            virtio_dev_queue_enable(d, qs);
    } else if (off >= 0x20 && off + len <= 0x38) {
        uint64_t *reg = off < 0x28 ? &q->desc_gpa : off < 0x30 ? &q->avail_gpa : &q->used_gpa;
        uint64_t base = off < 0x28 ? 0x20 : off < 0x30 ? 0x28 : 0x30;
        if (off + len <= base + 8)
            merge64(reg, base, off, data, len);
    }
}

static void set_status(struct vpci *p, uint8_t v)
{
    struct virtio_dev *d = p->dev;
    bool was_ok = d->status & VIRTIO_CONFIG_S_DRIVER_OK;
    if (v == 0)
        transport_reset(p);
    virtio_dev_set_status(d, v);
    if (!was_ok && (d->status & VIRTIO_CONFIG_S_DRIVER_OK))
        for (unsigned q = 0; q < d->num_queues; q++)
            if (d->vq[q].ready)
                ioeventfd_set(p, q, true);
}

static void common_write(struct vpci *p, uint64_t off, const uint8_t *data, uint32_t len)
{
    uint32_t v = 0;
    memcpy(&v, data, len > 4 ? 4 : len);
    switch (off) {
    case 0x00:
        p->dfselect = v;
        return;
    case 0x08:
        p->gfselect = v;
        return;
    case 0x0C:
        if (len == 4)
            virtio_dev_set_features(p->dev, p->gfselect, v);
        return;
    case 0x10:
        if (len == 2)
            p->config_vector = valid_vector(p, v);
        return;
    case 0x14:
        set_status(p, v);
        return;
    case 0x16:
        if (len == 2)
            p->queue_select = v;
        return;
    default:
        queue_write(p, off, data, len, v);
    }
}

/* ---- BAR 4 ---- */

/* The BAR handlers, with the device lock held (config space accesses
 * through VIRTIO_PCI_CAP_PCI_CFG come here with it held already). */
static void bar4_read(struct vpci *p, uint64_t off, uint8_t *data, uint32_t len)
{
    struct virtio_dev *d = p->dev;
    memset(data, 0, len);
    if (off < COMMON_OFF + COMMON_LEN && off + len <= COMMON_LEN) {
        common_read(p, off, data, len);
    } else if (off == ISR_OFF) {
        data[0] = p->isr; /* reading acknowledges (4.1.4.5) */
        p->isr = 0;
        vm_irq_line(pci_vm(p->bus), p->intx, false);
    } else if (off >= DEVICE_OFF && off - DEVICE_OFF + len <= d->config_size) {
        memcpy(data, d->config + (off - DEVICE_OFF), len);
    }
}

static bool is_notify(const struct vpci *p, uint64_t off)
{
    return off >= NOTIFY_OFF && off < NOTIFY_OFF + NOTIFY_MULT * p->dev->num_queues;
}

static void bar4_write(struct vpci *p, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct virtio_dev *d = p->dev;
    if (is_notify(p, off)) {
        /* A kick that KVM did not turn into an eventfd signal itself. */
        virtio_dev_kick(d, (off - NOTIFY_OFF) / NOTIFY_MULT);
        return;
    }
    if (off + len <= COMMON_LEN) {
        common_write(p, off, data, len);
    } else if (off >= DEVICE_OFF && off - DEVICE_OFF + len <= d->config_size &&
               d->ops->config_written) {
        /* Only a device that takes config writes gets the bytes stored. */
        memcpy(d->config + (off - DEVICE_OFF), data, len);
        d->ops->config_written(d, off - DEVICE_OFF, len);
    }
}

static void virtio_bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct vpci *p = opaque;
    virtio_dev_lock(p->dev);
    bar4_read(p, off, data, len);
    virtio_dev_unlock(p->dev);
}

static void virtio_bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct vpci *p = opaque;
    if (is_notify(p, off)) {
        bar4_write(p, off, data, len); /* a kick needs no lock */
        return;
    }
    virtio_dev_lock(p->dev);
    bar4_write(p, off, data, len);
    virtio_dev_unlock(p->dev);
}

static const struct io_ops virtio_bar_ops = {.read = virtio_bar_read, .write = virtio_bar_write};

/* ---- BAR 1: MSI-X table and PBA ---- */

static void msix_read(struct vpci *p, uint64_t off, uint8_t *data, uint32_t len)
{
    uint8_t buf[16] = {0};
    memset(data, 0, len);
    if (off < 16 * p->nvec && off % 16 + len <= 16) {
        const struct msix_vec *v = &p->vec[off / 16];
        memcpy(buf + 0, &v->addr_lo, 4);
        memcpy(buf + 4, &v->addr_hi, 4);
        memcpy(buf + 8, &v->data, 4);
        memcpy(buf + 12, &v->ctrl, 4);
        memcpy(data, buf + off % 16, len);
    } else if (off >= MSIX_PBA_OFF && off - MSIX_PBA_OFF + len <= 8) {
        uint64_t pba = 0;
        for (unsigned i = 0; i < p->nvec; i++)
            pba |= (uint64_t)p->vec[i].pending << i;
        memcpy(data, (uint8_t *)&pba + (off - MSIX_PBA_OFF), len);
    }
}

static void msix_write(struct vpci *p, uint64_t off, const uint8_t *data, uint32_t len)
{
    if (off < 16 * p->nvec && off % 16 + len <= 16) {
        struct msix_vec *v = &p->vec[off / 16];
        uint8_t buf[16];
        memcpy(buf + 0, &v->addr_lo, 4);
        memcpy(buf + 4, &v->addr_hi, 4);
        memcpy(buf + 8, &v->data, 4);
        memcpy(buf + 12, &v->ctrl, 4);
        memcpy(buf + off % 16, data, len);
        uint32_t lo, hi, dt, ctrl;
        memcpy(&lo, buf, 4);
        memcpy(&hi, buf + 4, 4);
        memcpy(&dt, buf + 8, 4);
        memcpy(&ctrl, buf + 12, 4);
        if (lo != v->addr_lo || hi != v->addr_hi || dt != v->data)
            v->routed = false; /* the route must follow the new message */
        v->addr_lo = lo;
        v->addr_hi = hi;
        v->data = dt;
        v->ctrl = ctrl & MSIX_ENTRY_MASKED;
        deliver_pending(p);
    }
}

static void msix_bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct vpci *p = opaque;
    virtio_dev_lock(p->dev);
    msix_read(p, off, data, len);
    virtio_dev_unlock(p->dev);
}

static void msix_bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct vpci *p = opaque;
    virtio_dev_lock(p->dev);
    msix_write(p, off, data, len);
    virtio_dev_unlock(p->dev);
}

static const struct io_ops msix_bar_ops = {.read = msix_bar_read, .write = msix_bar_write};

/* VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): the driver picks bar/offset/length in
 * the capability, then pci_cfg_data reads or writes that BAR window. */
/* 4: BAR 4, 1: BAR 1, 0: no valid window. */
static int pcicfg_target(struct vpci *p, uint32_t *off, uint32_t *len)
{
    const uint8_t *c = p->pci.cfg + p->pcicfg_cap;
    memcpy(off, c + 8, 4);
    memcpy(len, c + 12, 4);
    if (*len != 1 && *len != 2 && *len != 4)
        return 0;
    if (c[4] == BAR_VIRTIO && *off + (uint64_t)*len <= VIRTIO_BAR_SIZE)
        return BAR_VIRTIO;
    if (c[4] == BAR_MSIX && *off + (uint64_t)*len <= MSIX_BAR_SIZE)
        return BAR_MSIX;
    return 0;
}

static bool touches(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
    return off < start + n && start < off + len;
}

/* Config space callbacks: the bus calls them with the device lock held. */
static void cfg_reading(struct pci_device *d, uint32_t off, uint32_t len)
{
    struct vpci *p = from_pci(d);
    uint32_t boff, blen;
    if (!touches(off, len, p->pcicfg_cap + 16, 4))
        return;
    uint8_t *window = d->cfg + p->pcicfg_cap + 16;
    switch (pcicfg_target(p, &boff, &blen)) {
    case BAR_VIRTIO:
        bar4_read(p, boff, window, blen);
        break;
    case BAR_MSIX:
        msix_read(p, boff, window, blen);
        break;
    }
}

static void cfg_written(struct pci_device *d, uint32_t off, uint32_t len)
{
    struct vpci *p = from_pci(d);
    uint32_t boff, blen;
    if (touches(off, len, p->pcicfg_cap + 16, 4)) {
        const uint8_t *window = d->cfg + p->pcicfg_cap + 16;
        switch (pcicfg_target(p, &boff, &blen)) {
        case BAR_VIRTIO:
            bar4_write(p, boff, window, blen);
            break;
        case BAR_MSIX:
            msix_write(p, boff, window, blen);
            break;
        }
    }
    if (touches(off, len, p->msix_cap + 2, 2))
        deliver_pending(p);
}

static void cfg_lock(struct pci_device *d)
{
    virtio_dev_lock(from_pci(d)->dev);
}

static void cfg_unlock(struct pci_device *d)
{
    virtio_dev_unlock(from_pci(d)->dev);
}

/* ---- capabilities ---- */

static uint8_t add_virtio_cap(struct vpci *p, uint8_t type, uint32_t off, uint32_t len)
{
    uint8_t cap_len = type == CAP_NOTIFY || type == CAP_PCI_CFG ? 20 : 16;
    uint8_t at = pci_add_cap(&p->pci, PCI_CAP_ID_VNDR, cap_len);
    uint8_t *c = p->pci.cfg + at;
    c[2] = cap_len;
    c[3] = type;
    c[4] = BAR_VIRTIO;
    memcpy(c + 8, &off, 4);
    memcpy(c + 12, &len, 4);
    if (type == CAP_NOTIFY) {
        uint32_t mult = NOTIFY_MULT;
        memcpy(c + 16, &mult, 4);
    }
    return at;
}

static void add_pcicfg_cap(struct vpci *p)
{
    uint8_t at = add_virtio_cap(p, CAP_PCI_CFG, 0, 0);
    p->pci.wmask[at + 4] = 0xFF;             /* bar */
    memset(p->pci.wmask + at + 8, 0xFF, 12); /* offset, length, pci_cfg_data */
    p->pcicfg_cap = at;
}

static void add_msix_cap(struct vpci *p)
{
    uint8_t at = pci_add_cap(&p->pci, PCI_CAP_ID_MSIX, 12);
    uint16_t ctrl = p->nvec - 1;
    uint32_t table = 0 | BAR_MSIX, pba = MSIX_PBA_OFF | BAR_MSIX;
    memcpy(p->pci.cfg + at + 2, &ctrl, 2);
    memcpy(p->pci.cfg + at + 4, &table, 4);
    memcpy(p->pci.cfg + at + 8, &pba, 4);
    p->pci.wmask[at + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
    p->msix_cap = at;
}

/* VM reset: power-on state for the transport, the device and MSI-X. */
static void vpci_vm_reset(void *opaque)
{
    struct vpci *p = opaque;
    virtio_dev_lock(p->dev);
    for (unsigned q = 0; q < p->dev->num_queues; q++)
        p->ioeventfd[q] = false; /* went with the old KVM VM */
    transport_reset(p);
    virtio_dev_reset(p->dev);
    for (unsigned i = 0; i < p->nvec; i++) {
        struct msix_vec *v = &p->vec[i];
        v->addr_lo = v->addr_hi = v->data = 0;
        v->ctrl = MSIX_ENTRY_MASKED;
        v->pending = v->routed = v->irqfd = false;
        v->gsi = -1;
    }
    p->pci.cfg[p->msix_cap + 3] = 0;
    p->pci.cfg[PCI_COMMAND] = 0;
    p->pci.cfg[PCI_COMMAND + 1] = 0;
    pci_device_decode(&p->pci);
    virtio_dev_unlock(p->dev);
}

/* ---- saved state: config space, transport registers, MSI-X table,
 * then the core's and the device's (virtio_dev_save) ---- */

static void vpci_freeze(void *opaque)
{
    struct vpci *p = opaque;
    virtio_dev_lock(p->dev);
}

static void vpci_thaw(void *opaque)
{
    struct vpci *p = opaque;
    virtio_dev_unlock(p->dev);
}

static int vpci_save(void *opaque, struct vsf_out *o)
{
    struct vpci *p = opaque;
    vsf_put_bytes(o, p->pci.cfg, sizeof p->pci.cfg);
    vsf_put_u32(o, p->dfselect);
    vsf_put_u32(o, p->gfselect);
    vsf_put_u16(o, p->queue_select);
    vsf_put_u16(o, p->config_vector);
    for (unsigned q = 0; q < p->dev->num_queues; q++)
        vsf_put_u16(o, p->queue_vector[q]);
    vsf_put_u8(o, p->isr);
    vsf_put_u32(o, p->nvec);
    for (unsigned i = 0; i < p->nvec; i++) {
        const struct msix_vec *v = &p->vec[i];
        vsf_put_u32(o, v->addr_lo);
        vsf_put_u32(o, v->addr_hi);
        vsf_put_u32(o, v->data);
        vsf_put_u32(o, v->ctrl);
        vsf_put_u8(o, v->pending);
    }
    return virtio_dev_save(p->dev, o);
}

static int load_vector(struct vsf_in *in, struct msix_vec *v)
{
    uint32_t ctrl;
    if (vsf_get_u32(in, "msix addr_lo", &v->addr_lo) < 0 ||
        vsf_get_u32(in, "msix addr_hi", &v->addr_hi) < 0 ||
        vsf_get_u32(in, "msix data", &v->data) < 0 || vsf_get_u32(in, "msix ctrl", &ctrl) < 0 ||
        vsf_get_bool(in, "msix pending", &v->pending) < 0)
        return -1;
    v->ctrl = ctrl & MSIX_ENTRY_MASKED;
    v->gsi = -1; /* routes and irqfds are made again at the first interrupt */
    v->routed = v->irqfd = false;
    return 0;
}

/* Only what the guest may write is taken from the file: ids, capability
 * layout and BAR sizes stay this build's. */
static void load_cfg(struct vpci *p, const uint8_t *cfg)
{
    for (size_t i = 0; i < sizeof p->pci.cfg; i++)
        p->pci.cfg[i] = (uint8_t)((p->pci.cfg[i] & ~p->pci.wmask[i]) | (cfg[i] & p->pci.wmask[i]));
    pci_device_decode(&p->pci);
}

/* After a load: notifications and interrupts as the driver left them. */
static void vpci_rewire(struct vpci *p)
{
    struct virtio_dev *d = p->dev;
    for (unsigned q = 0; q < d->num_queues; q++) {
        p->ioeventfd[q] = false;
        if ((d->status & VIRTIO_CONFIG_S_DRIVER_OK) && d->vq[q].ready)
            ioeventfd_set(p, q, true);
    }
    if (msix_enabled(p))
        deliver_pending(p);
    else if (p->isr)
        vm_irq_line(pci_vm(p->bus), p->intx, true);
    /* Requests the driver posted before the save: the worker looks. */
    for (unsigned q = 0; q < d->num_queues; q++)
        if (d->vq[q].ready)
            virtio_dev_kick(d, q);
}

static int vpci_load(void *opaque, struct vsf_in *in)
{
    struct vpci *p = opaque;
    uint8_t cfg[sizeof p->pci.cfg];
    uint32_t dfsel, gfsel, nvec;
    uint16_t qsel, cvec, qvec[VIRTIO_MAX_QUEUES];
    uint8_t isr;
    if (vsf_get_bytes(in, "pci config", cfg, sizeof cfg) < 0 ||
        vsf_get_u32(in, "device_feature_select", &dfsel) < 0 ||
        vsf_get_u32(in, "driver_feature_select", &gfsel) < 0 ||
        vsf_get_u16(in, "queue_select", &qsel) < 0 ||
        vsf_get_u16(in, "config_msix_vector", &cvec) < 0)
        return -1;
    for (unsigned q = 0; q < p->dev->num_queues; q++)
        if (vsf_get_u16(in, "queue_msix_vector", &qvec[q]) < 0)
            return -1;
    if (vsf_get_u8(in, "isr", &isr) < 0 || vsf_get_u32(in, "msix vectors", &nvec) < 0)
        return -1;
    if (nvec != p->nvec)
        return vsf_bad(in, "msix vectors", nvec, "this device's vector count");
    if (isr > 3)
        return vsf_bad(in, "isr", isr, "queue and config bits only");
    struct msix_vec vecs[MAX_VECTORS];
    for (unsigned i = 0; i < nvec; i++) {
        vecs[i] = p->vec[i];
        if (load_vector(in, &vecs[i]) < 0)
            return -1;
    }
    if (virtio_dev_load(p->dev, in) < 0)
        return -1;
    load_cfg(p, cfg);
    p->dfselect = dfsel;
    p->gfselect = gfsel;
    p->queue_select = qsel;
    p->config_vector = valid_vector(p, cvec);
    for (unsigned q = 0; q < p->dev->num_queues; q++)
        p->queue_vector[q] = valid_vector(p, qvec[q]);
    p->isr = isr;
    for (unsigned i = 0; i < nvec; i++)
        p->vec[i] = vecs[i];
    vpci_rewire(p);
    return 0;
}

static const struct vm_state_ops vpci_state = {
    .save = vpci_save, .load = vpci_load, .freeze = vpci_freeze, .thaw = vpci_thaw};

/* The VM frees the transport with the VM: its vector eventfds too. */
static void close_vectors(struct vpci *p)
{
    for (unsigned i = 0; i < MAX_VECTORS; i++) {
        if (p->vec[i].efd >= 0)
            close(p->vec[i].efd);
        p->vec[i].efd = -1;
    }
}

static void vpci_free(void *opaque)
{
    close_vectors(opaque);
    free(opaque);
}

int virtio_pci_add(struct pci_bus *bus, struct virtio_dev *dev, int slot)
{
    struct vpci *p = calloc(1, sizeof *p);
    if (!p)
        return err_set("out of memory");
    for (unsigned i = 0; i < MAX_VECTORS; i++)
        p->vec[i].efd = -1;
    struct vm *vm = pci_vm(bus);
    if (vm_own_fn(vm, p, vpci_free) < 0) {
        free(p);
        return -1;
    }
    p->dev = dev;
    p->bus = bus;
    p->nvec = dev->num_queues + 1;
    for (unsigned i = 0; i < p->nvec; i++) {
        p->vec[i].gsi = -1;
        p->vec[i].ctrl = MSIX_ENTRY_MASKED;
        p->vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->vec[i].efd < 0) {
            err_errno("%s: eventfd", dev->id);
            close_vectors(p);
            return -1;
        }
    }
    p->pci.bar_size[BAR_MSIX] = MSIX_BAR_SIZE;
    p->pci.bar_size[BAR_VIRTIO] = VIRTIO_BAR_SIZE;
    p->pci.bar_ops[BAR_MSIX] = &msix_bar_ops;
    p->pci.bar_ops[BAR_VIRTIO] = &virtio_bar_ops;
    p->pci.opaque = p;
    p->pci.cfg_written = cfg_written;
    p->pci.cfg_reading = cfg_reading;
    p->pci.lock = cfg_lock;
    p->pci.unlock = cfg_unlock;
    pci_device_setup(&p->pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + dev->ops->device_id, 1,
                     (uint32_t)dev->ops->pci_class << 8, VIRTIO_PCI_VENDOR, 0x1100);
    add_msix_cap(p);
    add_virtio_cap(p, CAP_COMMON, COMMON_OFF, COMMON_LEN);
    add_virtio_cap(p, CAP_ISR, ISR_OFF, 1);
    if (dev->config_size)
        add_virtio_cap(p, CAP_DEVICE, DEVICE_OFF, dev->config_size);
    add_virtio_cap(p, CAP_NOTIFY, NOTIFY_OFF, NOTIFY_MULT * dev->num_queues);
    add_pcicfg_cap(p);
    if (pci_add_device(bus, &p->pci, slot) < 0) {
        /* The VM still frees P; the descriptors go now, not with it. */
        close_vectors(p);
        return -1;
    }
    p->intx = pci_intx_gsi(p->pci.slot); /* used when the driver does not enable MSI-X */
    transport_reset(p);
    dev->transport = (struct virtio_transport){
        .signal_queue = signal_queue, .signal_config = signal_config, .opaque = p};
    char name[24];
    snprintf(name, sizeof name, "virtio@%02x", p->pci.slot);
    if (vm_add_state(vm, name, &vpci_state, p) < 0)
        return -1;
    return vm_add_reset_hook(vm, vpci_vm_reset, p);
}
