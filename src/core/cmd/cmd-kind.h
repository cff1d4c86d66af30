/* The object kinds behind define, edit, undefine and dumpxml: one row per
 * kind (domain, network, pool) says how to parse its XML, where the store
 * keeps it and how virsh words its messages, so each verb is one exec for
 * every kind. An entry picks its kind through cmd_entry.data:
 *     .exec = cmd_kind_define_exec, .data = &cmd_kind_network
 * Volumes (keyed by pool and name, no uuid) and snapshots (keyed by domain)
 * have verbs of their own. */
#ifndef TVM_CORE_CMD_KIND_H
#define TVM_CORE_CMD_KIND_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base/uuid.h"
#include "core/cmd/cmd.h"

/* What the kind-generic verbs need of a stored object. */
struct cmd_kind_row {
    char name[256];
    char uuid[UUID_STR_LEN];
    bool active;
};

struct cmd_kind {
    const char *kind;  /* "network": in errors and the event log */
    const char *label; /* "Network %s", "Domain '%s'": virsh's messages start so */
    /* Undefine of an active object: "Requested operation is not valid:
     * BUSY_NOUN 'NAME' is still active", with " (tvm STOP_VERB NAME)" when
     * there is such a verb. */
    const char *busy_noun;
    const char *stop_verb;

    int (*parse)(const char *xml, size_t len, const char *origin, void **obj);
    void (*free)(void *obj);
    const char *(*name)(const void *obj);
    const char *(*uuid)(const void *obj);

    /* Name or uuid. -1 with "KIND 'KEY' not found" when missing. */
    int (*get_row)(struct cmd_ctx *ctx, const char *key, struct cmd_kind_row *row);
    int (*get_xml)(struct cmd_ctx *ctx, const char *key, char **xml);
    int (*insert)(struct cmd_ctx *ctx, const void *obj);
    int (*update)(struct cmd_ctx *ctx, const void *obj);
    int (*delete)(struct cmd_ctx *ctx, const char *uuid);
    /* Brings row->active in line with the host before edit or undefine
     * looks at it; NULL when the stored flag is the truth. */
    int (*refresh)(struct cmd_ctx *ctx, struct cmd_kind_row *row);
};

extern const struct cmd_kind cmd_kind_domain, cmd_kind_network, cmd_kind_pool;

/* define FILE: insert, or update the object with the same uuid and name. */
enum cmd_result cmd_kind_define_exec(struct cmd_ctx *ctx, struct cmd_args *args);
/* edit NAME: $EDITOR on the stored XML; the uuid stays, a new name must be free. */
enum cmd_result cmd_kind_edit_exec(struct cmd_ctx *ctx, struct cmd_args *args);
/* dumpxml NAME: the stored XML. */
enum cmd_result cmd_kind_dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args);
/* undefine NAME of an inactive object (domains have their own: snapshots). */
enum cmd_result cmd_kind_undefine_exec(struct cmd_ctx *ctx, struct cmd_args *args);

#endif
