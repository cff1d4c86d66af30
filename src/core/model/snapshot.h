/* libvirt domain snapshot XML (<domainsnapshot>). */
#ifndef TVM_CORE_SNAPSHOT_H
#define TVM_CORE_SNAPSHOT_H

#include "core/model/domain.h"

struct snapshot_disk {
    char *name;     /* vda */
    char *snapshot; /* internal | external | no */
    char *source;   /* external file */
};

struct snapshot {
    char *name;
    char *description;
    char *state;         /* running | shutoff | paused ... */
    char *parent;        /* parent snapshot name or NULL */
    int64_t creation_time; /* seconds since the epoch */
    char *memory;        /* no | internal | external */
    char *memory_file;
    char *domain_uuid;   /* from the embedded <domain>, if any */
    struct snapshot_disk *disks;
    size_t ndisks;
    void *doc;
};

int snapshot_parse(const char *xml, size_t len, const char *origin, struct snapshot **out);
/* What libvirt asks of a snapshot being redefined (its record restored):
 * a creation time, a state and the domain's definition, refused with
 * libvirt's messages. */
int snapshot_check_redefine(const struct snapshot *s, const char *origin);
/* snapshot-edit: AFTER may differ from BEFORE in its <description> only;
 * -1 naming what may change otherwise. */
int snapshot_check_edit(const struct snapshot *before, const struct snapshot *after,
                        const char *origin);
char *snapshot_format(const struct snapshot *s);
void snapshot_free(struct snapshot *s);

#endif
