/* The saved state of the whole machine (vm.h, vm_state_save/load): the
 * sections of core/proto/vmstate-file.h in this order:
 *   domain    the domain XML the guest ran with
 *   machine   run state at save time, RAM size, vCPU count, the host's
 *             wall clock when the clock below was read
 *   vcpu.N    every vCPU (x86/vcpu-state.c)
 *   irqchip   the in-kernel PIC master and slave and the IOAPIC
 *   pit       the in-kernel PIT
 *   clock     kvm-clock
 *   ...       every section devices registered (vm_add_state)
 *   ram       guest RAM: a bitmap of the 4 KiB pages that are not all
 *             zero, then those pages in order
 * A load reads every small section into memory and RAM straight into the
 * guest's memory, checks the checksum, and only then puts vCPUs, irqchip,
 * PIT, devices and clock back. The clock goes forward by the time the
 * guest spent saved (host wall clock), so the guest's time is right
 * again; kvm-clock's "stopped" flag keeps its watchdogs quiet.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "vm.h"

#define PAGE ((uint64_t)4096)
#define MAX_SECTIONS (VM_MAX_STATES + VM_MAX_VCPUS + 8)

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- guest RAM ---- */

static bool page_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    for (size_t i = 0; i < PAGE / 8; i++)
        if (w[i])
            return false;
    return true;
}

static uint64_t ram_pages(const struct vm *vm)
{
    return vm->ram_size / PAGE;
}

static size_t bitmap_bytes(uint64_t pages)
{
    return (size_t)((pages + 63) / 64 * 8);
}

static int save_ram(struct vm *vm, struct vsf_writer *w)
{
    uint64_t pages = ram_pages(vm), used = 0;
    size_t bm_len = bitmap_bytes(pages);
    uint64_t *bm = calloc(1, bm_len);
    if (!bm)
        return err_set("out of memory");
    for (uint64_t i = 0; i < pages; i++)
        if (!page_zero(vm->ram + i * PAGE)) {
            bm[i / 64] |= 1ULL << (i % 64);
            used++;
        }
    int rc = vsf_section_begin(w, VSF_SECTION_RAM, 16 + bm_len + used * PAGE);
    uint8_t hdr[16];
    uint64_t size = vm->ram_size, page = PAGE;
    memcpy(hdr, &size, 8);
    memcpy(hdr + 8, &page, 8);
    if (rc == 0)
        rc = vsf_write(w, hdr, sizeof hdr);
    if (rc == 0)
        rc = vsf_write(w, bm, bm_len);
    /* Runs of used pages in one write each. */
    for (uint64_t i = 0; rc == 0 && i < pages;) {
        if (!(bm[i / 64] >> (i % 64) & 1)) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j < pages && (bm[j / 64] >> (j % 64) & 1) && j - i < 4096)
            j++;
        rc = vsf_write(w, vm->ram + i * PAGE, (size_t)((j - i) * PAGE));
        i = j;
    }
    free(bm);
    return rc;
}

/* Zero pages are given back to the kernel (they read as zeros again): a
 * restored guest uses no more host memory than it did. */
static void zero_run(struct vm *vm, uint64_t from, uint64_t to)
{
    if (to > from)
        madvise(vm->ram + from * PAGE, (size_t)((to - from) * PAGE), MADV_DONTNEED);
}

static int load_ram(struct vm *vm, struct vsf_reader *r, uint64_t len)
{
    uint8_t hdr[16];
    uint64_t size, page;
    if (len < 16 || vsf_read(r, hdr, 16) < 0)
        return len < 16 ? err_set("saved state %s: section 'ram' is truncated", r->what) : -1;
    memcpy(&size, hdr, 8);
    memcpy(&page, hdr + 8, 8);
    if (size != vm->ram_size)
        return err_set("saved state %s: section 'ram': %" PRIu64 " bytes of RAM, the guest has "
                       "%" PRIu64,
                       r->what, size, vm->ram_size);
    if (page != PAGE)
        return err_set("saved state %s: section 'ram': page size %" PRIu64, r->what, page);
    uint64_t pages = ram_pages(vm), used = 0;
    size_t bm_len = bitmap_bytes(pages);
    uint64_t *bm = malloc(bm_len);
    if (!bm)
        return err_set("out of memory");
    int rc = vsf_read(r, bm, bm_len);
    for (uint64_t i = 0; rc == 0 && i < bm_len * 8; i++) {
        bool set = bm[i / 64] >> (i % 64) & 1;
        if (set && i >= pages)
            rc = err_set("saved state %s: section 'ram': page %" PRIu64 " is past the end of RAM",
                         r->what, i);
        used += set;
    }
    if (rc == 0 && len != 16 + bm_len + used * PAGE)
        rc = err_set("saved state %s: section 'ram' is %" PRIu64 " bytes, its bitmap says %" PRIu64,
                     r->what, len, 16 + bm_len + used * PAGE);
    uint64_t zero_from = 0;
    for (uint64_t i = 0; rc == 0 && i < pages;) {
        if (!(bm[i / 64] >> (i % 64) & 1)) {
            i++;
            continue;
        }
        zero_run(vm, zero_from, i);
        uint64_t j = i;
        while (j < pages && (bm[j / 64] >> (j % 64) & 1) && j - i < 4096)
            j++;
        rc = vsf_read(r, vm->ram + i * PAGE, (size_t)((j - i) * PAGE));
        i = zero_from = j;
    }
    if (rc == 0)
        zero_run(vm, zero_from, pages);
    free(bm);
    return rc;
}

/* ---- the KVM VM's own state ---- */

static int vm_get(struct vm *vm, unsigned long req, void *arg, const char *name)
{
    return vm_vm_ioctl(vm, req, arg) < 0 ? err_errno("%s", name) : 0;
}

static int save_irqchip(struct vm *vm, struct vsf_out *o)
{
    for (uint32_t chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_IOAPIC; chip++) {
        struct kvm_irqchip c = {.chip_id = chip};
        if (vm_get(vm, KVM_GET_IRQCHIP, &c, "KVM_GET_IRQCHIP") < 0)
            return -1;
        vsf_put_u32(o, sizeof c);
        vsf_put_bytes(o, &c, sizeof c);
    }
    return 0;
}

static int load_irqchip(struct vm *vm, struct vsf_in *in)
{
    for (uint32_t chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_IOAPIC; chip++) {
        struct kvm_irqchip c;
        uint32_t size;
        if (vsf_get_u32(in, "irqchip size", &size) < 0)
            return -1;
        if (size != sizeof c)
            return vsf_bad(in, "irqchip size", size, "KVM's struct kvm_irqchip");
        if (vsf_get_bytes(in, "irqchip", &c, sizeof c) < 0)
            return -1;
        if (c.chip_id != chip)
            return vsf_bad(in, "irqchip chip_id", c.chip_id, "PIC master, slave, IOAPIC in turn");
        if (vm_vm_ioctl(vm, KVM_SET_IRQCHIP, &c) < 0)
            return err_errno("KVM_SET_IRQCHIP %u refused the saved state", chip);
    }
    return vsf_in_done(in);
}

static int save_pit(struct vm *vm, struct vsf_out *o)
{
    struct kvm_pit_state2 p;
    if (vm_get(vm, KVM_GET_PIT2, &p, "KVM_GET_PIT2") < 0)
        return -1;
    vsf_put_u32(o, sizeof p);
    vsf_put_bytes(o, &p, sizeof p);
    return 0;
}

static int load_pit(struct vm *vm, struct vsf_in *in)
{
    struct kvm_pit_state2 p;
    uint32_t size;
    if (vsf_get_u32(in, "pit size", &size) < 0)
        return -1;
    if (size != sizeof p)
        return vsf_bad(in, "pit size", size, "KVM's struct kvm_pit_state2");
    if (vsf_get_bytes(in, "pit", &p, sizeof p) < 0 || vsf_in_done(in) < 0)
        return -1;
    if (vm_vm_ioctl(vm, KVM_SET_PIT2, &p) < 0)
        return err_errno("KVM_SET_PIT2 refused the saved state");
    return 0;
}

static int save_clock(struct vm *vm, struct vsf_out *o)
{
    struct kvm_clock_data c = {0};
    if (vm_get(vm, KVM_GET_CLOCK, &c, "KVM_GET_CLOCK") < 0)
        return -1;
    vsf_put_u64(o, c.clock);
    return 0;
}

/* SAVED_AT: the host's wall clock when the clock was saved. */
static int load_clock(struct vm *vm, struct vsf_in *in, int64_t saved_at)
{
    uint64_t clock;
    if (vsf_get_u64(in, "clock", &clock) < 0 || vsf_in_done(in) < 0)
        return -1;
    int64_t away = realtime_ns() - saved_at;
    /* flags 0: KVM_CLOCK_TSC_STABLE is KVM's to say, never ours. */
    struct kvm_clock_data c = {.clock = clock + (uint64_t)(away > 0 ? away : 0)};
    if (vm_vm_ioctl(vm, KVM_SET_CLOCK, &c) < 0)
        return err_errno("KVM_SET_CLOCK");
    for (unsigned i = 0; i < vm->nvcpus; i++)
        vcpu_state_clock_stopped(&vm->vcpus[i]);
    return 0;
}

/* ---- the file ---- */

static void freeze_all(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nstates; i++)
        if (vm->states[i].ops->freeze)
            vm->states[i].ops->freeze(vm->states[i].opaque);
}

static void thaw_all(struct vm *vm)
{
    for (unsigned i = vm->nstates; i-- > 0;)
        if (vm->states[i].ops->thaw)
            vm->states[i].ops->thaw(vm->states[i].opaque);
}

static int write_small(struct vsf_writer *w, const char *name, struct vsf_out *o)
{
    int rc = vsf_write_section(w, name, o);
    vsf_out_free(o);
    return rc;
}

static int save_sections(struct vm *vm, struct vsf_writer *w, bool was_running)
{
    struct vsf_out o = {0};
    vsf_put_u8(&o, was_running);
    vsf_put_u64(&o, vm->ram_size);
    vsf_put_u32(&o, vm->nvcpus);
    vsf_put_u64(&o, (uint64_t)realtime_ns());
    if (write_small(w, "machine", &o) < 0)
        return -1;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        char name[VSF_NAME_MAX];
        snprintf(name, sizeof name, "vcpu.%u", i);
        if (vcpu_state_save(vm, &vm->vcpus[i], &o) < 0 || write_small(w, name, &o) < 0) {
            vsf_out_free(&o);
            return -1;
        }
    }
    if (save_irqchip(vm, &o) < 0 || write_small(w, "irqchip", &o) < 0 || save_pit(vm, &o) < 0 ||
        write_small(w, "pit", &o) < 0 || save_clock(vm, &o) < 0 ||
        write_small(w, "clock", &o) < 0) {
        vsf_out_free(&o);
        return -1;
    }
    for (unsigned i = 0; i < vm->nstates; i++) {
        const char *name = vm->states[i].name;
        if (vm->states[i].ops->save(vm->states[i].opaque, &o) < 0 || write_small(w, name, &o) < 0) {
            vsf_out_free(&o);
            return err_prefix("%s: ", name);
        }
    }
    return 0;
}

int vm_state_save(struct vm *vm, int fd, const char *domain_xml, bool was_running, uint64_t *bytes)
{
    return vm_state_save_with(vm, fd, domain_xml, was_running, NULL, NULL, bytes);
}

int vm_state_save_with(struct vm *vm, int fd, const char *domain_xml, bool was_running,
                       int (*frozen)(void *opaque), void *opaque, uint64_t *bytes)
{
    for (unsigned i = 0; i < vm->nstates; i++)
        if (!vm->states[i].ops->save)
            return err_set("%s: saving its state is not supported", vm->states[i].name);
    if (!vm_has_kvm_vm(vm))
        return err_set("the guest is not running");
    struct vsf_writer w;
    vsf_writer_init(&w, fd);
    struct vsf_out dom = {0};
    vsf_put_bytes(&dom, domain_xml, strlen(domain_xml));
    freeze_all(vm);
    int rc = frozen ? frozen(opaque) : 0;
    if (rc == 0)
        rc = vsf_write_header(&w);
    if (rc == 0)
        rc = write_small(&w, VSF_SECTION_DOMAIN, &dom);
    if (rc == 0)
        rc = save_sections(vm, &w, was_running);
    if (rc == 0)
        rc = save_ram(vm, &w);
    if (rc == 0)
        rc = vsf_write_end(&w);
    thaw_all(vm);
    vsf_out_free(&dom);
    if (rc == 0 && bytes)
        *bytes = w.off;
    return rc;
}

/* ---- loading ---- */

struct loaded {
    char name[VSF_NAME_MAX];
    uint8_t *buf;
    struct vsf_in in;
    bool used;
};

struct load {
    struct vm *vm;
    const char *what;
    struct loaded s[MAX_SECTIONS];
    unsigned n;
    bool ram;
};

static void load_free(struct load *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->s[i].buf);
}

static struct loaded *find(struct load *l, const char *name)
{
    for (unsigned i = 0; i < l->n; i++)
        if (strcmp(l->s[i].name, name) == 0) {
            l->s[i].used = true;
            l->s[i].in.section = l->s[i].name;
            return &l->s[i];
        }
    err_set("saved state %s: no section '%s' (saved from another machine?)", l->what, name);
    return NULL;
}

/* Every section into memory, RAM into the guest, the checksum checked. */
static int read_all(struct load *l, struct vsf_reader *r)
{
    for (;;) {
        uint64_t len;
        int rc = vsf_next(r, &len);
        if (rc == 1)
            break;
        if (rc < 0)
            return -1;
        for (unsigned i = 0; i < l->n; i++)
            if (strcmp(l->s[i].name, r->name) == 0)
                return err_set("saved state %s: section '%s' appears twice", l->what, r->name);
        if (strcmp(r->name, VSF_SECTION_RAM) == 0) {
            if (l->ram)
                return err_set("saved state %s: section 'ram' appears twice", l->what);
            l->ram = true;
            if (load_ram(l->vm, r, len) < 0)
                return -1;
            continue;
        }
        if (l->n == MAX_SECTIONS)
            return err_set("saved state %s: more than %d sections", l->what, MAX_SECTIONS);
        struct loaded *s = &l->s[l->n];
        memcpy(s->name, r->name, sizeof s->name);
        if (vsf_read_section(r, &s->buf, &s->in) < 0)
            return -1;
        l->n++;
    }
    if (!l->ram)
        return err_set("saved state %s: no section 'ram'", l->what);
    return 0;
}

static int check_machine(struct load *l, int64_t *saved_at)
{
    struct loaded *s = find(l, "machine");
    if (!s)
        return -1;
    bool running;
    uint64_t ram, at;
    uint32_t vcpus;
    if (vsf_get_bool(&s->in, "running", &running) < 0 || vsf_get_u64(&s->in, "ram", &ram) < 0 ||
        vsf_get_u32(&s->in, "vcpus", &vcpus) < 0 || vsf_get_u64(&s->in, "saved at", &at) < 0 ||
        vsf_in_done(&s->in) < 0)
        return -1;
    if (ram != l->vm->ram_size)
        return vsf_bad(&s->in, "ram", ram, "the guest's memory size");
    if (vcpus != l->vm->nvcpus)
        return vsf_bad(&s->in, "vcpus", vcpus, "the guest's vCPU count");
    *saved_at = (int64_t)at;
    return 0;
}

static int apply(struct load *l)
{
    struct vm *vm = l->vm;
    int64_t saved_at = 0;
    if (!find(l, VSF_SECTION_DOMAIN) || check_machine(l, &saved_at) < 0)
        return -1;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        char name[VSF_NAME_MAX];
        snprintf(name, sizeof name, "vcpu.%u", i);
        struct loaded *s = find(l, name);
        if (!s || vcpu_state_load(vm, &vm->vcpus[i], &s->in) < 0)
            return err_prefix("saved state %s: ", l->what);
    }
    struct loaded *s;
    if (!(s = find(l, "irqchip")) || load_irqchip(vm, &s->in) < 0 || !(s = find(l, "pit")) ||
        load_pit(vm, &s->in) < 0)
        return err_prefix("saved state %s: ", l->what);
    for (unsigned i = 0; i < vm->nstates; i++) {
        s = find(l, vm->states[i].name);
        if (!s)
            return -1;
        if (!vm->states[i].ops->load)
            return err_set("%s: loading its state is not supported", vm->states[i].name);
        if (vm->states[i].ops->load(vm->states[i].opaque, &s->in) < 0 || vsf_in_done(&s->in) < 0)
            return err_prefix("saved state %s: %s: ", l->what, vm->states[i].name);
    }
    if (!(s = find(l, "clock")) || load_clock(vm, &s->in, saved_at) < 0)
        return err_prefix("saved state %s: ", l->what);
    for (unsigned i = 0; i < l->n; i++)
        if (!l->s[i].used)
            return err_set("saved state %s: section '%s' belongs to nothing in this guest", l->what,
                           l->s[i].name);
    return 0;
}

int vm_state_load(struct vm *vm, int fd, const char *what)
{
    if (vm_has_run(vm))
        return err_set("the guest has already run: a saved state loads only into a guest "
                       "started paused that never ran");
    if (!vm_has_kvm_vm(vm))
        return err_set("the guest has no machine yet");
    struct load *l = calloc(1, sizeof *l);
    if (!l)
        return err_set("out of memory");
    l->vm = vm;
    l->what = what;
    struct vsf_reader r;
    vsf_reader_init(&r, fd, what);
    freeze_all(vm);
    int rc = vsf_read_header(&r);
    if (rc == 0)
        rc = read_all(l, &r);
    if (rc == 0)
        rc = apply(l);
    thaw_all(vm);
    load_free(l);
    free(l);
    return rc;
}
