/* See vm-fds.h. */
#include "core/virt/vm-fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/tap.h"
#include "core/image/image.h"

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* One entry; FD is ours from here (closed on error too). */
static int add(struct vm_fds *f, int fd, const char *kind, const char *key, const char *path)
{
    if (f->n == VMM_FDS_MAX) {
        close(fd);
        return err_set("more than %d descriptors for one guest", VMM_FDS_MAX);
    }
    if (path && strchr(path, '\n')) {
        close(fd);
        return err_set("%s %s: a path with a newline cannot be handed to tvm-vmm", kind,
                       key ? key : path);
    }
    char *line = NULL;
    if (asprintf(&line, "%s %s %s", kind, key ? key : "-", path && *path ? path : "-") < 0) {
        close(fd);
        return err_set("out of memory");
    }
    f->fd[f->n] = fd;
    f->line[f->n] = line;
    f->is_tap[f->n] = false;
    f->n++;
    return 0;
}

static int add_file(struct vm_fds *f, const char *kind, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("cannot read %s '%s'", kind, path);
    return add(f, fd, kind, NULL, path);
}

/* CD-ROMs on a SCSI controller: tvm-vmm reads their medium as raw,
 * read-only. */
static bool is_scsi_cdrom(const struct domain_disk *d)
{
    return is(d->device, "cdrom") && is(d->target_bus, "scsi");
}

/* As tvm-vmm's board: disks of type file/block on PCI, and CD-ROM media. */
static int add_disk(struct vm_fds *f, const struct domain_disk *d)
{
    bool cdrom = is_scsi_cdrom(d);
    if ((!domain_disk_on_pci(d) && !cdrom) || (!is(d->type, "file") && !is(d->type, "block")) ||
        !d->source || !*d->source)
        return 0; /* tvm-vmm ignores it or refuses the domain itself */
    const char *t = d->target_dev && *d->target_dev ? d->target_dev : "?";
    if (strpbrk(t, " \t\n"))
        return err_set("disk '%s': target dev with white space", t);
    enum image_format fmt = IMAGE_FORMAT_RAW; /* never probed, as tvm-vmm */
    if (!cdrom && d->driver_type && image_format_parse(d->driver_type, &fmt) < 0)
        return err_prefix("disk %s: ", t);
    unsigned flags = d->readonly || cdrom ? IMAGE_OPEN_RDONLY : 0;
    struct image_file files[IMAGE_MAX_CHAIN_DEPTH + 1];
    int n = 0;
    if (image_open_files(d->source, fmt, flags, files, IMAGE_MAX_CHAIN_DEPTH + 1, &n) < 0)
        return err_prefix("disk %s (%s): ", t, d->source);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = add(f, files[i].fd, "disk", t, files[i].path);
        else
            close(files[i].fd);
        files[i].fd = -1;
    }
    image_files_close(files, n);
    return rc;
}

/* The bridge as tvm-vmm's board picks it; other types are its to refuse. */
static const char *nic_bridge(const struct domain_nic *n)
{
    if (is(n->type, "bridge"))
        return n->source;
    if (is(n->type, "network"))
        return n->source_bridge;
    return NULL;
}

static int add_tap(struct vm_fds *f, const struct domain_nic *n, size_t index)
{
    if (!domain_nic_on_pci(n))
        return 0;
    if (!is(n->type, "ethernet") && !is(n->type, "bridge") && !is(n->type, "network"))
        return 0; /* tvm-vmm says why it refuses it */
    struct tap t;
    struct tap_config tc = {.ifname = n->target_dev, .bridge = nic_bridge(n), .mac = n->mac};
    if (tap_open(&tc, &t) < 0)
        return err_prefix("interface %s: ", n->mac);
    char key[24];
    snprintf(key, sizeof key, "%zu", index);
    if (add(f, t.fd, "tap", key, t.name) < 0)
        return -1;
    /* The admin's tap outlives us on its bridge: a failed start takes it
     * off again (tap_close(); ours vanish with their last descriptor). */
    f->is_tap[f->n - 1] = true;
    f->tap[f->n - 1] = t;
    return 0;
}

int vm_fds_open(const struct domain *d, struct vm_fds *f)
{
    f->n = 0;
    int kvm = host_kvm_open();
    int rc = kvm < 0 ? -1 : add(f, kvm, "kvm", NULL, "/dev/kvm");
    if (rc == 0 && d->os_kernel && *d->os_kernel)
        rc = add_file(f, "kernel", d->os_kernel);
    if (rc == 0 && d->os_initrd && *d->os_initrd)
        rc = add_file(f, "initrd", d->os_initrd);
    /* Without <kernel> the guest boots a BIOS image, read at every reset. */
    if (rc == 0 && !(d->os_kernel && *d->os_kernel))
        rc = add_file(f, "bios", d->os_loader && *d->os_loader ? d->os_loader : VMM_BIOS_DEFAULT);
    for (size_t i = 0; rc == 0 && i < d->ndisks; i++)
        rc = add_disk(f, &d->disks[i]);
    for (size_t i = 0; rc == 0 && i < d->nnics; i++)
        rc = add_tap(f, &d->nics[i], i);
    if (rc < 0) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err_msg());
        vm_fds_abandon(f);
        return err_set("%s", msg);
    }
    return 0;
}

int vm_fds_write_map(const struct vm_fds *f, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        if (fd >= 0)
            close(fd);
        return err_errno("cannot create %s", path);
    }
    fprintf(out, "# FD KIND KEY PATH: what tvm opened for tvm-vmm (vmm-protocol.h)\n");
    for (int i = 0; i < f->n; i++)
        fprintf(out, "%d %s\n", 3 + i, f->line[i]);
    if (fclose(out) != 0)
        return err_errno("cannot write %s", path);
    return 0;
}

static void release(struct vm_fds *f, bool undo_taps)
{
    for (int i = 0; i < f->n; i++) {
        if (undo_taps && f->is_tap[i]) {
            tap_close(&f->tap[i]);
        } else {
            close(f->fd[i]);
        }
        free(f->line[i]);
    }
    f->n = 0;
}

void vm_fds_release(struct vm_fds *f)
{
    release(f, false);
}

void vm_fds_abandon(struct vm_fds *f)
{
    release(f, true);
}
