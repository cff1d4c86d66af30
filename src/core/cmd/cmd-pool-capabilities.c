/* pool-capabilities: libvirt's storage pool capabilities XML
 * (formatstoragecaps): every pool type libvirt knows, supported='yes' for
 * those tvm runs (src/core/pool), with the source formats their pools take
 * (libvirt's lists, less hfs+, whose name tvm does not pass to mount) and
 * the volume formats tvm's image layer makes; the others are defined and
 * stored only, so supported='no'. */
#include "core/cmd/cmd.h"
#include "core/pool/pool-backend.h"
#include "core/base/err.h"

#include <stdio.h>

struct pool_caps {
    const char *type;
    const char *source_default; /* NULL: no <poolOptions> */
    const char *const *source_formats;
    bool volumes_are_files; /* <volOptions>: raw and qcow2 files */
};

static const char *const fs_formats[] = {"auto", "ext2", "ext3", "ext4", "ufs",   "iso9660", "udf",
                                         "gfs",  "gfs2", "vfat", "xfs",  "ocfs2", NULL};
static const char *const netfs_formats[] = {"auto", "nfs", "glusterfs", "cifs", NULL};
static const char *const logical_formats[] = {"unknown", "lvm2", NULL};

/* libvirt's order of pool types. */
static const struct pool_caps caps[] = {
    {"dir", NULL, NULL, true},
    {"fs", "auto", fs_formats, true},
    {"netfs", "auto", netfs_formats, true},
    {"logical", "lvm2", logical_formats, false},
    {"disk", NULL, NULL, false},
    {"iscsi", NULL, NULL, false},
    {"iscsi-direct", NULL, NULL, false},
    {"scsi", NULL, NULL, false},
    {"mpath", NULL, NULL, false},
    {"rbd", NULL, NULL, false},
    {"sheepdog", NULL, NULL, false},
    {"gluster", NULL, NULL, false},
    {"zfs", NULL, NULL, false},
    {"vstorage", NULL, NULL, false},
};

static void print_enum(FILE *out, const char *name, const char *const *values)
{
    fprintf(out, "      <enum name='%s'>\n", name);
    for (size_t i = 0; values[i]; i++)
        fprintf(out, "        <value>%s</value>\n", values[i]);
    fprintf(out, "      </enum>\n");
}

static void print_pool(FILE *out, const struct pool_caps *c)
{
    const struct pool_backend *be;
    bool supported = pool_backend_find(c->type, &be) == 0;
    err_clear();
    fprintf(out, "  <pool type='%s' supported='%s'", c->type, supported ? "yes" : "no");
    if (!supported || (!c->source_default && !c->volumes_are_files)) {
        fprintf(out, "/>\n");
        return;
    }
    fprintf(out, ">\n");
    if (c->source_default) {
        fprintf(out, "    <poolOptions>\n      <defaultFormat type='%s'/>\n", c->source_default);
        print_enum(out, "sourceFormatType", c->source_formats);
        fprintf(out, "    </poolOptions>\n");
    }
    if (c->volumes_are_files) {
        static const char *const vol_formats[] = {"raw", "qcow2", NULL};
        fprintf(out, "    <volOptions>\n      <defaultFormat type='raw'/>\n");
        print_enum(out, "targetFormatType", vol_formats);
        fprintf(out, "    </volOptions>\n");
    }
    fprintf(out, "  </pool>\n");
}

static enum cmd_result pool_capabilities_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    fprintf(ctx->out, "<storagepoolCapabilities>\n");
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        print_pool(ctx->out, &caps[i]);
    fprintf(ctx->out, "</storagepoolCapabilities>\n\n");
    return CMD_OK;
}

const struct cmd_entry cmd_pool_capabilities_entry = {
    .name = "pool-capabilities",
    .usage = "pool-capabilities",
    .summary = "storage pool capabilities (the pool types tvm runs and their formats)",
    .opts = "",
    .min_args = 0,
    .max_args = 0,
    .exec = pool_capabilities_exec,
};
