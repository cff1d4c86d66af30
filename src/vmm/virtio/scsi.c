/* virtio-scsi (virtio 1.2, 5.6): one host adapter per <controller
 * type='scsi' model='virtio-scsi'>, its logical units the CD-ROM drives
 * (src/vmm/scsi/cdrom.c) that libvirt's <address type='drive'> puts on it:
 * target = the address's target, LUN = its unit.
 *
 * Queues (5.6.2): 0 control, 1 event, 2 the one request queue.
 *
 * Request (5.6.6): {u8 lun[8], le64 id, u8 task_attr, u8 prio, u8 crn,
 * u8 cdb[cdb_size]} device-readable, then {le32 sense_len, le32 residual,
 * le16 status_qualifier, u8 status, u8 response, u8 sense[sense_size]} and
 * the data-in buffers device-writable. cdb_size and sense_size are the
 * config's, which the driver may change.
 *
 * LUN addressing (5.6.6.1): lun[0] = 1, lun[1] = target, lun[2..3] a
 * single-level LUN (peripheral, or flat space with 01b in the top bits),
 * lun[4..7] zero. Anything else, or a target without logical units,
 * answers VIRTIO_SCSI_S_BAD_TARGET; a LUN missing on a target that has
 * others is the target's to answer (scsi_absent_lun()).
 *
 * The event queue's buffers are kept: tvm offers neither hotplug nor
 * parameter change events (VIRTIO_SCSI_F_HOTPLUG/CHANGE), and a medium
 * change reaches the guest as a SCSI unit attention instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/proto/vmstate-file.h"
#include "scsi/cdrom.h"
#include "virtio/virtio.h"

#define Q_CONTROL 0
#define Q_EVENT 1
#define Q_REQUEST 2

/* response codes */
#define S_OK 0
#define S_OVERRUN 1
#define S_BAD_TARGET 3
#define S_FUNCTION_COMPLETE 0
#define S_FUNCTION_REJECTED 11

/* control queue request types and TMF subtypes */
#define T_TMF 0
#define T_AN_QUERY 1
#define T_AN_SUBSCRIBE 2
#define TMF_ABORT_TASK 0
#define TMF_QUERY_TASK_SET 7

/* struct virtio_scsi_config offsets */
#define CFG_NUM_QUEUES 0
#define CFG_SEG_MAX 4
#define CFG_MAX_SECTORS 8
#define CFG_CMD_PER_LUN 12
#define CFG_EVENT_INFO_SIZE 16
#define CFG_SENSE_SIZE 20
#define CFG_CDB_SIZE 24
#define CFG_MAX_CHANNEL 28
#define CFG_MAX_TARGET 30
#define CFG_MAX_LUN 32
#define CFG_SIZE 36

#define DEFAULT_CDB_SIZE 32
#define DEFAULT_SENSE_SIZE 96
/* What a driver may set cdb_size/sense_size to: beyond this a header is
 * just a larger guest buffer to skip, which nobody needs. */
#define MAX_FIELD_SIZE 256
#define REQ_FIXED 19  /* lun, id, task_attr, prio, crn */
#define RESP_FIXED 12 /* sense_len, residual, status_qualifier, status, response */
#define MAX_TARGET 255
/* max_sectors in 512-byte sectors: the READ bound of cdrom.c (4 MiB) */
#define MAX_SECTORS 8192

#define MAX_ADAPTERS 8

struct lu {
    unsigned target, lun;
    struct scsi_cdrom *cd;
};

struct vscsi {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
    unsigned index;         /* <controller index> */
    struct lu *lus;
    unsigned nlus;
    uint8_t config[CFG_SIZE];
    struct iovec din[VIRTQ_MAX_SIZE];
};

/* The adapters, for the QMP commands that name a drive. */
static struct vscsi *adapters[MAX_ADAPTERS];
static bool qmp_registered;

static struct vscsi *to_vscsi(struct virtio_dev *d)
{
    return (struct vscsi *)d;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

/* -1 if LUN[8] is not one of ours in form (see the top of the file). */
static int parse_lun(const uint8_t *lun, unsigned *target, unsigned *n)
{
    static const uint8_t zero[4];
    if (lun[0] != 1 || memcmp(lun + 4, zero, 4) != 0)
        return -1;
    unsigned method = lun[2] >> 6;
    if (method == 0 && lun[2] == 0)
        *n = lun[3];
    else if (method == 1)
        *n = (unsigned)(lun[2] & 0x3F) << 8 | lun[3];
    else
        return -1;
    *target = lun[1];
    return 0;
}

static struct lu *find_lu(struct vscsi *s, unsigned target, unsigned lun, bool *target_exists)
{
    *target_exists = false;
    for (unsigned i = 0; i < s->nlus; i++) {
        if (s->lus[i].target != target)
            continue;
        *target_exists = true;
        if (s->lus[i].lun == lun)
            return &s->lus[i];
    }
    return NULL;
}

static void report_luns(struct vscsi *s, unsigned target, struct scsi_cmd *c)
{
    uint16_t luns[VIRTQ_MAX_SIZE];
    unsigned n = 0;
    for (unsigned i = 0; i < s->nlus && n < VIRTQ_MAX_SIZE; i++)
        if (s->lus[i].target == target)
            luns[n++] = (uint16_t)s->lus[i].lun;
    scsi_report_luns(c, luns, n);
}

/* 0 with the CDB run and *response set, or -1: the request is malformed. */
static void run_cmd(struct vscsi *s, const uint8_t *lun, struct scsi_cmd *c, uint8_t *response)
{
    unsigned target, n;
    bool target_exists;
    struct lu *lu = NULL;
    if (parse_lun(lun, &target, &n) == 0)
        lu = find_lu(s, target, n, &target_exists);
    else
        target_exists = false;
    if (!target_exists) {
        *response = S_BAD_TARGET;
        return;
    }
    *response = S_OK;
    if (c->cdb[0] == SCSI_REPORT_LUNS)
        report_luns(s, target, c);
    else if (!lu)
        scsi_absent_lun(c);
    else
        scsi_cdrom_exec(lu->cd, c);
}

static void handle_request(struct vscsi *s, struct virtq_elem *e)
{
    uint32_t cdb_size = get32(s->config + CFG_CDB_SIZE);
    uint32_t sense_size = get32(s->config + CFG_SENSE_SIZE);
    uint32_t req_len = REQ_FIXED + cdb_size, resp_len = RESP_FIXED + sense_size;
    if (e->out_len < req_len || e->in_len < resp_len) {
        virtio_dev_set_broken(&s->vdev, "virtio-scsi request shorter than its header");
        return;
    }
    uint8_t lun[8];
    struct scsi_cmd c = {0};
    iov_copy_from(e->out, e->nout, 0, lun, sizeof lun);
    iov_copy_from(e->out, e->nout, REQ_FIXED, c.cdb,
                  cdb_size < SCSI_CDB_MAX ? cdb_size : SCSI_CDB_MAX);
    c.din_len = e->in_len - resp_len;
    c.ndin = iov_slice(e->in, e->nin, resp_len, c.din_len, s->din, VIRTQ_MAX_SIZE);
    c.din = s->din;

    uint8_t response;
    run_cmd(s, lun, &c, &response);

    uint8_t hdr[RESP_FIXED] = {0};
    uint32_t sense_len = c.sense_len < sense_size ? c.sense_len : sense_size;
    if (response == S_OK && c.overrun)
        response = S_OVERRUN;
    if (response == S_OK) {
        put32(hdr, sense_len);
        /* residual: what the driver asked to move and was not */
        put32(hdr + 4, c.din_len ? c.din_len - c.din_written : e->out_len - req_len);
        hdr[10] = c.status;
    } else {
        put32(hdr + 4, c.din_len ? c.din_len : e->out_len - req_len);
        sense_len = 0;
        c.din_written = 0;
    }
    put16(hdr + 8, 0);
    hdr[11] = response;
    iov_copy_to(e->in, e->nin, 0, hdr, sizeof hdr);
    if (sense_len)
        iov_copy_to(e->in, e->nin, RESP_FIXED, c.sense, sense_len);
    virtio_dev_push(&s->vdev, Q_REQUEST, e, resp_len + c.din_written);
}

/* Task management (5.6.6.2.1): every command completes before the next is
 * read, so there is never a task to abort. Asynchronous notification
 * queries (5.6.6.2.2): none offered. */
static void handle_control(struct vscsi *s, struct virtq_elem *e)
{
    uint8_t req[32] = {0};
    if (e->out_len < 4 || e->in_len < 1) {
        virtio_dev_set_broken(&s->vdev, "virtio-scsi control request without type or response");
        return;
    }
    iov_copy_from(e->out, e->nout, 0, req, e->out_len < sizeof req ? e->out_len : sizeof req);
    uint32_t type = get32(req), written = 0;
    if (type == T_TMF && e->out_len >= 24) {
        unsigned target, n;
        bool exists = false;
        uint32_t sub = get32(req + 4);
        uint8_t resp = S_FUNCTION_COMPLETE;
        if (parse_lun(req + 8, &target, &n) < 0 || (find_lu(s, target, n, &exists), !exists))
            resp = S_BAD_TARGET;
        else if (sub > TMF_QUERY_TASK_SET + 1)
            resp = S_FUNCTION_REJECTED;
        written = (uint32_t)iov_copy_to(e->in, e->nin, 0, &resp, 1);
    } else if ((type == T_AN_QUERY || type == T_AN_SUBSCRIBE) && e->out_len >= 16 &&
               e->in_len >= 5) {
        uint8_t resp[5] = {0}; /* event_actual 0, response OK */
        written = (uint32_t)iov_copy_to(e->in, e->nin, 0, resp, sizeof resp);
    } else {
        uint8_t resp = S_FUNCTION_REJECTED;
        written = (uint32_t)iov_copy_to(e->in, e->nin, 0, &resp, 1);
    }
    virtio_dev_push(&s->vdev, Q_CONTROL, e, written);
}

static void scsi_queue_notify(struct virtio_dev *dev, unsigned q)
{
    struct vscsi *s = to_vscsi(dev);
    if (q == Q_EVENT)
        return; /* kept until an event needs one: none is ever sent */
    struct virtq_elem *e = &dev->elem;
    while (!dev->broken && virtio_dev_pop(dev, q, e) > 0) {
        if (q == Q_CONTROL)
            handle_control(s, e);
        else
            handle_request(s, e);
    }
}

/* The driver may set sense_size and cdb_size (5.6.4); anything else it
 * writes, and sizes beyond MAX_FIELD_SIZE, are put back. */
static void fill_config(struct vscsi *s, uint32_t sense_size, uint32_t cdb_size)
{
    uint8_t *c = s->config;
    memset(c, 0, CFG_SIZE);
    put32(c + CFG_NUM_QUEUES, 1);
    put32(c + CFG_SEG_MAX, VIRTQ_MAX_SIZE - 2);
    put32(c + CFG_MAX_SECTORS, MAX_SECTORS);
    put32(c + CFG_CMD_PER_LUN, 128);
    put32(c + CFG_EVENT_INFO_SIZE, 16);
    put32(c + CFG_SENSE_SIZE, sense_size);
    put32(c + CFG_CDB_SIZE, cdb_size);
    put16(c + CFG_MAX_CHANNEL, 0);
    put16(c + CFG_MAX_TARGET, MAX_TARGET);
    put32(c + CFG_MAX_LUN, SCSI_MAX_LUN);
}

static void scsi_config_written(struct virtio_dev *dev, uint32_t off, uint32_t len)
{
    (void)off;
    (void)len;
    struct vscsi *s = to_vscsi(dev);
    uint32_t sense = get32(s->config + CFG_SENSE_SIZE), cdb = get32(s->config + CFG_CDB_SIZE);
    fill_config(s, sense <= MAX_FIELD_SIZE ? sense : DEFAULT_SENSE_SIZE,
                cdb <= MAX_FIELD_SIZE ? cdb : DEFAULT_CDB_SIZE);
}

static void scsi_reset(struct virtio_dev *dev)
{
    struct vscsi *s = to_vscsi(dev);
    fill_config(s, DEFAULT_SENSE_SIZE, DEFAULT_CDB_SIZE);
    for (unsigned i = 0; i < s->nlus; i++)
        scsi_cdrom_reset(s->lus[i].cd);
}

static void scsi_destroy(struct virtio_dev *dev)
{
    struct vscsi *s = to_vscsi(dev);
    for (unsigned i = 0; i < MAX_ADAPTERS; i++)
        if (adapters[i] == s)
            adapters[i] = NULL;
    for (unsigned i = 0; i < s->nlus; i++)
        scsi_cdrom_free(s->lus[i].cd);
    free(s->lus);
    free(s);
}

/* Saved state: the sizes the driver set, then each drive's, by its
 * address (the requests themselves are in the queues: none is half done
 * while the device is frozen). */
static int scsi_save(struct virtio_dev *dev, struct vsf_out *o)
{
    struct vscsi *s = to_vscsi(dev);
    vsf_put_u32(o, get32(s->config + CFG_SENSE_SIZE));
    vsf_put_u32(o, get32(s->config + CFG_CDB_SIZE));
    vsf_put_u32(o, s->nlus);
    for (unsigned i = 0; i < s->nlus; i++) {
        vsf_put_u32(o, s->lus[i].target);
        vsf_put_u32(o, s->lus[i].lun);
        scsi_cdrom_save(s->lus[i].cd, o);
    }
    return 0;
}

static int scsi_load(struct virtio_dev *dev, struct vsf_in *in)
{
    struct vscsi *s = to_vscsi(dev);
    uint32_t sense, cdb, n;
    if (vsf_get_u32(in, "sense_size", &sense) < 0 || vsf_get_u32(in, "cdb_size", &cdb) < 0 ||
        vsf_get_u32(in, "drives", &n) < 0)
        return -1;
    if (sense > MAX_FIELD_SIZE)
        return vsf_bad(in, "sense_size", sense, "at most 256");
    if (cdb > MAX_FIELD_SIZE)
        return vsf_bad(in, "cdb_size", cdb, "at most 256");
    if (n != s->nlus)
        return vsf_bad(in, "drives", n, "this adapter's drive count");
    for (unsigned i = 0; i < n; i++) {
        uint32_t target, lun;
        if (vsf_get_u32(in, "target", &target) < 0 || vsf_get_u32(in, "lun", &lun) < 0)
            return -1;
        if (target != s->lus[i].target || lun != s->lus[i].lun)
            return vsf_bad(in, "target", target, "the drives' addresses, in order");
        if (scsi_cdrom_load(s->lus[i].cd, in) < 0)
            return -1;
    }
    fill_config(s, sense, cdb);
    return 0;
}

static const struct virtio_dev_ops scsi_ops = {
    .name = "virtio-scsi",
    .device_id = VIRTIO_ID_SCSI,
    .pci_class = 0x0100, /* mass storage, SCSI */
    .queue_notify = scsi_queue_notify,
    .reset = scsi_reset,
    .config_written = scsi_config_written,
    .destroy = scsi_destroy,
    .save = scsi_save,
    .load = scsi_load,
};

/* ---- media: at start and from QMP ---- */

/* An image_opener that hands over one descriptor someone else opened. */
static int take_given_fd(void *opaque, const char *path, int oflags)
{
    (void)oflags;
    int *fd = opaque, given = *fd;
    *fd = -1;
    return given >= 0 ? given : err_set("%s: opened once already", path);
}

/* The medium PATH: from descriptor FD (>= 0, taken over), through OPENER
 * (tvm's descriptors at start), or opened here. An ISO is raw: a medium's
 * format is never probed. */
static struct image *open_medium(const char *path, int fd, const struct image_opener *opener)
{
    struct image_opener given = {take_given_fd, &fd};
    struct image *img =
        image_open_with(path, IMAGE_FORMAT_RAW, IMAGE_OPEN_RDONLY, fd >= 0 ? &given : opener);
    if (fd >= 0) /* not reached by the image layer: still ours */
        close(fd);
    if (img && image_get_size(img) < CDROM_BLOCK) {
        image_close(img);
        err_set("%s: smaller than one 2048-byte block", path);
        return NULL;
    }
    return img;
}

/* The drive named ID (its <target dev>) and its adapter. */
static struct scsi_cdrom *find_drive(const char *id, struct vscsi **owner)
{
    for (unsigned i = 0; i < MAX_ADAPTERS; i++) {
        struct vscsi *s = adapters[i];
        for (unsigned j = 0; s && j < s->nlus; j++) {
            if (strcmp(scsi_cdrom_name(s->lus[j].cd), id) == 0) {
                *owner = s;
                return s->lus[j].cd;
            }
        }
    }
    err_set("no CD-ROM drive '%s'", id);
    return NULL;
}

int virtio_scsi_change_medium(const char *id, const char *path, int fd, bool force)
{
    struct vscsi *s;
    struct scsi_cdrom *cd = find_drive(id, &s);
    if (!cd) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct image *img = NULL;
    if (path && !(img = open_medium(path, fd, NULL)))
        return err_prefix("%s: ", id);
    virtio_dev_lock(&s->vdev);
    int rc = img ? scsi_cdrom_insert(cd, img, force) : scsi_cdrom_eject(cd, force);
    virtio_dev_unlock(&s->vdev);
    return rc;
}

static const char *arg_str(struct json_object *args, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool arg_bool(struct json_object *args, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(args, key, &v) && json_object_get_boolean(v);
}

/* QMP eject {"id": TARGET-DEV, "force": bool}: as QEMU's, by drive id. */
static int qmp_eject(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    const char *id = arg_str(args, "id");
    if (!id)
        return err_set("eject: 'id' (the drive's target dev, e.g. sda) is required");
    return virtio_scsi_change_medium(id, NULL, -1, arg_bool(args, "force"));
}

/* QMP x-tvm-change-medium {"id": TARGET-DEV, "fdname": NAME, "filename":
 * PATH, "force": bool}: the medium tvm opened and sent with getfd (this
 * process opens no host path once sandboxed); PATH names it in messages. */
static int qmp_change_medium(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    const char *id = arg_str(args, "id"), *fdname = arg_str(args, "fdname");
    const char *filename = arg_str(args, "filename");
    if (!id || !fdname)
        return err_set("x-tvm-change-medium: 'id' and 'fdname' are required");
    struct vscsi *s;
    if (!find_drive(id, &s))
        return -1;
    int fd = control_take_fd(fdname);
    if (fd < 0)
        return -1;
    return virtio_scsi_change_medium(id, filename ? filename : fdname, fd, arg_bool(args, "force"));
}

/* Each adapter joins the list QMP searches; the commands are registered
 * with the first one. */
static int register_adapter(struct vscsi *s)
{
    unsigned i = 0;
    while (i < MAX_ADAPTERS && adapters[i])
        i++;
    if (i == MAX_ADAPTERS)
        return err_set("more than %d virtio-scsi controllers", MAX_ADAPTERS);
    if (!qmp_registered && (control_register("eject", qmp_eject) < 0 ||
                            control_register("x-tvm-change-medium", qmp_change_medium) < 0))
        return -1;
    qmp_registered = true;
    adapters[i] = s;
    return 0;
}

static int add_lus(struct vscsi *s, const struct virtio_scsi_config_in *c)
{
    s->lus = calloc(c->nluns ? c->nluns : 1, sizeof *s->lus);
    if (!s->lus)
        return err_set("out of memory");
    for (unsigned i = 0; i < c->nluns; i++) {
        const struct virtio_scsi_lun_in *l = &c->luns[i];
        if (l->target > MAX_TARGET || l->lun > SCSI_MAX_LUN)
            return err_set("disk %s: target %u unit %u is beyond this controller (target <= %d, "
                           "unit <= %d)",
                           l->name, l->target, l->lun, MAX_TARGET, SCSI_MAX_LUN);
        bool exists;
        if (find_lu(s, l->target, l->lun, &exists))
            return err_set("disk %s: target %u unit %u is taken by another disk", l->name,
                           l->target, l->lun);
        struct image *img = NULL;
        if (l->path && !(img = open_medium(l->path, -1, l->opener)))
            return err_prefix("disk %s: ", l->name);
        struct lu *lu = &s->lus[s->nlus];
        lu->target = l->target;
        lu->lun = l->lun;
        if (!(lu->cd = scsi_cdrom_new(l->name, img)))
            return -1;
        s->nlus++;
    }
    return 0;
}

struct virtio_dev *virtio_scsi_new(struct vm *vm, const struct virtio_scsi_config_in *c)
{
    struct vscsi *s = calloc(1, sizeof *s);
    if (!s) {
        err_set("out of memory");
        return NULL;
    }
    snprintf(s->vdev.id, sizeof s->vdev.id, "virtio-scsi %u", c->index);
    s->index = c->index;
    fill_config(s, DEFAULT_SENSE_SIZE, DEFAULT_CDB_SIZE);
    if (virtio_dev_init(&s->vdev, vm, &scsi_ops, 3, 0, s->config, CFG_SIZE) < 0 ||
        add_lus(s, c) < 0 || register_adapter(s) < 0) {
        err_prefix("controller scsi %u: ", c->index);
        virtio_dev_free(&s->vdev);
        return NULL;
    }
    return &s->vdev;
}
