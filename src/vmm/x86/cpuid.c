/* CPUID for the guest: what KVM supports on this host, with a topology
 * that agrees with itself everywhere Linux looks (leaf 1, 4, 0xB, 0x1F,
 * 0x80000008, 0x8000001E), the hypervisor bit, and KVM's signature leaves
 * so the guest uses kvm-clock and the other paravirtual features.
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/base/err.h"
#include "vm.h"

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define KVM_SIGNATURE_LEAF 0x40000000u

struct topo {
    unsigned threads, cores, sockets;
    unsigned smt_shift, core_shift; /* APIC id bits below core, below package */
};

static unsigned order(unsigned n)
{
    unsigned s = 0;
    while ((1u << s) < n)
        s++;
    return s;
}

static struct topo topology(const struct vm_config *cfg)
{
    struct topo t = {
        .threads = cfg->threads ? cfg->threads : 1,
        .cores = cfg->cores,
        .sockets = cfg->sockets ? cfg->sockets : 1,
    };
    if (!t.cores)
        t.cores = (cfg->vcpus + t.threads * t.sockets - 1) / (t.threads * t.sockets);
    if (!t.cores)
        t.cores = 1;
    t.smt_shift = order(t.threads);
    t.core_shift = t.smt_shift + order(t.cores);
    return t;
}

unsigned vcpu_apic_id(const struct vm_config *cfg, unsigned index)
{
    struct topo t = topology(cfg);
    unsigned thread = index % t.threads;
    unsigned core = (index / t.threads) % t.cores;
    unsigned pkg = index / (t.threads * t.cores);
    return (pkg << t.core_shift) | (core << t.smt_shift) | thread;
}

int cpuid_init(struct vm *vm)
{
    size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = calloc(1, sz);
    if (!c)
        return err_set("out of memory");
    c->nent = CPUID_MAX_ENTRIES;
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
        free(c);
        return err_errno("KVM_GET_SUPPORTED_CPUID");
    }
    free(vm->cpuid);
    vm->cpuid = c;
    return 0;
}

static bool is_amd(const struct kvm_cpuid2 *c)
{
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == 0)
            return c->entries[i].ebx == 0x68747541; /* "Auth" of AuthenticAMD */
    return false;
}

static bool has_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn)
            return true;
    return false;
}

/* Drop every subleaf of fn; the caller appends its own. */
static void drop_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
    unsigned j = 0;
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function != fn)
            c->entries[j++] = c->entries[i];
    c->nent = j;
}

static void add_entry(struct kvm_cpuid2 *c, struct kvm_cpuid_entry2 e)
{
    if (c->nent < CPUID_MAX_ENTRIES)
        c->entries[c->nent++] = e;
}

/* Extended topology (0xB, 0x1F): level 0 SMT, level 1 core, then invalid. */
static void add_ext_topology(struct kvm_cpuid2 *c, uint32_t fn, const struct topo *t, unsigned apic)
{
    drop_leaf(c, fn);
    struct kvm_cpuid_entry2 e = {.function = fn, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX};
    e.index = 0;
    e.eax = t->smt_shift;
    e.ebx = t->threads;
    e.ecx = 0 | (1u << 8);
    e.edx = apic;
    add_entry(c, e);
    e.index = 1;
    e.eax = t->core_shift;
    e.ebx = t->threads * t->cores;
    e.ecx = 1 | (2u << 8);
    add_entry(c, e);
    e.index = 2;
    e.eax = e.ebx = 0;
    e.ecx = 2;
    add_entry(c, e);
}

static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid2 *c, uint32_t fn, uint32_t index)
{
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == index)
            return &c->entries[i];
    return NULL;
}

/* XSAVE state components (leaf 0xD) only for features the guest sees:
 * a host whose XCR0 has AVX while the CPUID flags hide it (TCG's EPYC
 * model does this) would otherwise make Linux's XSAVE size check fail. */
static void fix_xsave(struct kvm_cpuid2 *c)
{
    struct kvm_cpuid_entry2 *l1 = entry(c, 1, 0), *l7 = entry(c, 7, 0), *d = entry(c, 0xD, 0);
    if (!l1 || !d)
        return;
    uint64_t drop = 0;
    if (!(l1->ecx & (1u << 28)))
        drop |= 1u << 2; /* AVX */
    if (!l7 || !(l7->ebx & (1u << 14)))
        drop |= 3u << 3; /* MPX */
    if (!l7 || !(l7->ebx & (1u << 16)))
        drop |= 7u << 5; /* AVX-512 */
    if (!l7 || !(l7->ecx & (1u << 3)))
        drop |= 1u << 9; /* PKRU */
    d->eax &= ~(uint32_t)drop;
    uint32_t max = 576; /* legacy area + XSAVE header */
    for (unsigned i = 2; i < 32; i++) {
        struct kvm_cpuid_entry2 *s = entry(c, 0xD, i);
        if (!s)
            continue;
        if (drop & (1ULL << i)) {
            s->eax = s->ebx = s->ecx = s->edx = 0;
        } else if ((d->eax & (1u << i)) && s->eax + s->ebx > max) {
            max = s->eax + s->ebx;
        }
    }
    d->ecx = max;
    if (d->ebx > max)
        d->ebx = max;
}

int cpuid_setup_vcpu(struct vm *vm, struct vcpu *v)
{
    const struct kvm_cpuid2 *base = vm->cpuid;
    size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = malloc(sz);
    if (!c)
        return err_set("out of memory");
    memcpy(c, base, sizeof *base + base->nent * sizeof base->entries[0]);
    struct topo t = topology(&vm->cfg);
    unsigned per_pkg = t.threads * t.cores;
    bool amd = is_amd(c);

    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            e->ebx =
                (e->ebx & 0x0000FFFF) | (v->apic_id << 24) | ((1u << t.core_shift) & 0xFF) << 16;
            e->ecx |= CPUID_1_ECX_HYPERVISOR;
            if (per_pkg > 1)
                e->edx |= CPUID_1_EDX_HTT;
            else
                e->edx &= ~CPUID_1_EDX_HTT;
            break;
        case 4:
            /* Cache leaves: cores per package, and who shares each level
             * (L3 per package, L1/L2 per core). */
            if (!(e->eax & 0x1F))
                break;
            e->eax &= 0x3FF;
            e->eax |= (((1u << t.core_shift) >> t.smt_shift) - 1) << 26;
            {
                unsigned level = (e->eax >> 5) & 7;
                unsigned share = level >= 3 ? (1u << t.core_shift) : (1u << t.smt_shift);
                e->eax |= (share - 1) << 14;
            }
            break;
        case 0x80000008:
            if (amd)
                e->ecx = (e->ecx & ~0xF0FFu) | (t.core_shift << 12) | ((per_pkg - 1) & 0xFF);
            break;
        case 0x8000001E:
            e->eax = v->apic_id;
            e->ebx = ((t.threads - 1) << 8) | ((v->apic_id >> t.smt_shift) & 0xFF);
            e->ecx = v->apic_id >> t.core_shift; /* one node per package */
            e->edx = 0;
            break;
        default:
            break;
        }
    }
    fix_xsave(c);
    if (has_leaf(c, 0xB))
        add_ext_topology(c, 0xB, &t, v->apic_id);
    if (has_leaf(c, 0x1F))
        add_ext_topology(c, 0x1F, &t, v->apic_id);
    /* KVM's signature leaves come with KVM_GET_SUPPORTED_CPUID (kvm-clock,
     * PV EOI, async PF ... in 0x40000001); make sure the signature is whole. */
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == KVM_SIGNATURE_LEAF) {
            e->ebx = 0x4b4d564b; /* "KVMK" */
            e->ecx = 0x564b4d56; /* "VMKV" */
            e->edx = 0x4d;       /* "M\0\0\0" */
            if (e->eax < KVM_SIGNATURE_LEAF + 1)
                e->eax = KVM_SIGNATURE_LEAF + 1;
        }
    }
    int rc = ioctl(v->fd, KVM_SET_CPUID2, c);
    free(c);
    if (rc < 0)
        return err_errno("KVM_SET_CPUID2 (vCPU %u)", v->index);
    return 0;
}
