/* An MMC CD-ROM drive; see cdrom.h.
 *
 * State: a tray (open or closed), a medium in it or not, whether the guest
 * prevents removal, one pending unit attention and one pending media event.
 * Every CDB field is range-checked before use; a READ must fit both the
 * medium and the guest's data-in buffers, or nothing is transferred.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/image/image.h"
#include "core/proto/vmstate-file.h"
#include "scsi/cdrom.h"
#include "virtio/queue.h"

/* A medium larger than a CD (80 minutes of 75 blocks a second) is a DVD. */
#define CD_MAX_BLOCKS (80u * 60 * 75)
#define PROFILE_NONE 0x0000
#define PROFILE_CDROM 0x0008
#define PROFILE_DVDROM 0x0010
/* GET EVENT STATUS NOTIFICATION media event codes (MMC-6 6.7.2.4) */
#define MEC_NONE 0
#define MEC_EJECT_REQUEST 1
#define MEC_NEW_MEDIA 2
#define MEC_MEDIA_REMOVAL 3
/* the largest READ a single command may ask for: what the adapter tells
 * the guest (virtio-scsi max_sectors) and a bound on one request's work */
#define READ_MAX_BLOCKS 2048u
/* guest-triggered messages per drive, then silence */
#define LOG_BUDGET 8

struct scsi_cdrom {
    char name[16];
    struct image *img; /* NULL: no medium */
    uint64_t blocks;
    bool tray_open;
    bool locked;         /* PREVENT ALLOW MEDIUM REMOVAL */
    uint16_t ua_asc;     /* pending unit attention, 0: none */
    uint8_t media_event; /* pending for GET EVENT STATUS NOTIFICATION */
    unsigned logged;
};

__attribute__((format(printf, 2, 3))) static void note(struct scsi_cdrom *cd, const char *fmt, ...)
{
    if (cd->logged > LOG_BUDGET)
        return;
    if (cd->logged++ == LOG_BUDGET) {
        fprintf(stderr, "tvm-vmm: scsi %s: further messages about this drive are not logged\n",
                cd->name);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tvm-vmm: scsi %s: ", cd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

struct scsi_cdrom *scsi_cdrom_new(const char *name, struct image *img)
{
    struct scsi_cdrom *cd = calloc(1, sizeof *cd);
    if (!cd) {
        image_close(img);
        err_set("out of memory");
        return NULL;
    }
    snprintf(cd->name, sizeof cd->name, "%s", name ? name : "?");
    cd->img = img;
    cd->blocks = img ? image_get_size(img) / CDROM_BLOCK : 0;
    return cd;
}

void scsi_cdrom_reset(struct scsi_cdrom *cd)
{
    cd->locked = false;
}

/* ---- saved state ---- */

void scsi_cdrom_save(const struct scsi_cdrom *cd, struct vsf_out *o)
{
    vsf_put_u8(o, cd->img != NULL);
    vsf_put_u64(o, cd->blocks);
    vsf_put_u8(o, cd->tray_open);
    vsf_put_u8(o, cd->locked);
    vsf_put_u16(o, cd->ua_asc);
    vsf_put_u8(o, cd->media_event);
}

/* A unit attention the drive itself raises, or none. */
static bool known_ua(uint16_t asc)
{
    return asc == 0 || asc == SCSI_ASC_NO_MEDIUM || asc == SCSI_ASC_MEDIUM_CHANGED;
}

int scsi_cdrom_load(struct scsi_cdrom *cd, struct vsf_in *in)
{
    bool medium, open, locked;
    uint64_t blocks;
    uint16_t ua;
    uint8_t event;
    if (vsf_get_bool(in, "medium", &medium) < 0 || vsf_get_u64(in, "blocks", &blocks) < 0 ||
        vsf_get_bool(in, "tray open", &open) < 0 || vsf_get_bool(in, "locked", &locked) < 0 ||
        vsf_get_u16(in, "unit attention", &ua) < 0 || vsf_get_u8(in, "media event", &event) < 0)
        return -1;
    if (!known_ua(ua))
        return vsf_bad(in, "unit attention", ua, "none, no medium or medium changed");
    if (event > MEC_MEDIA_REMOVAL)
        return vsf_bad(in, "media event", event, "an MMC media event code up to 3");
    /* The medium comes from the definition the state was saved with; one
     * inserted later by QMP is not in it. */
    if (medium && (!cd->img || blocks != cd->blocks))
        return err_set("drive %s: the saved state has a medium of %llu blocks, this drive %s",
                       cd->name, (unsigned long long)blocks, cd->img ? "another one" : "none");
    if (!medium && blocks)
        return vsf_bad(in, "blocks", blocks, "0 without a medium");
    if (!medium && cd->img) { /* ejected after the start */
        image_close(cd->img);
        cd->img = NULL;
        cd->blocks = 0;
    }
    cd->tray_open = open;
    cd->locked = locked;
    cd->ua_asc = ua;
    cd->media_event = event;
    return 0;
}

void scsi_cdrom_free(struct scsi_cdrom *cd)
{
    if (!cd)
        return;
    image_close(cd->img); /* read-only: nothing to make durable */
    free(cd);
}

const char *scsi_cdrom_name(const struct scsi_cdrom *cd)
{
    return cd->name;
}

bool scsi_cdrom_has_medium(const struct scsi_cdrom *cd)
{
    return cd->img != NULL;
}

bool scsi_cdrom_locked(const struct scsi_cdrom *cd)
{
    return cd->locked;
}

static bool ready(const struct scsi_cdrom *cd)
{
    return cd->img && !cd->tray_open;
}

static int refuse_locked(struct scsi_cdrom *cd, bool force)
{
    if (!cd->locked)
        return 0;
    cd->media_event = MEC_EJECT_REQUEST; /* the guest may let go of it */
    if (force) {
        cd->locked = false;
        return 0;
    }
    return err_set("%s: the guest has locked the tray (PREVENT MEDIUM REMOVAL); it was asked to "
                   "eject, or force it",
                   cd->name);
}

int scsi_cdrom_eject(struct scsi_cdrom *cd, bool force)
{
    if (refuse_locked(cd, force) < 0)
        return -1;
    image_close(cd->img);
    cd->img = NULL;
    cd->blocks = 0;
    cd->tray_open = true;
    cd->ua_asc = SCSI_ASC_NO_MEDIUM;
    cd->media_event = MEC_MEDIA_REMOVAL;
    return 0;
}

int scsi_cdrom_insert(struct scsi_cdrom *cd, struct image *img, bool force)
{
    if (refuse_locked(cd, force) < 0) {
        image_close(img);
        return -1;
    }
    image_close(cd->img);
    cd->img = img;
    cd->blocks = image_get_size(img) / CDROM_BLOCK;
    cd->tray_open = false;
    cd->ua_asc = SCSI_ASC_MEDIUM_CHANGED;
    cd->media_event = MEC_NEW_MEDIA;
    return 0;
}

/* NOT READY with the tray's state, as MMC-6 spells it. */
static void not_ready(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    scsi_check(c, SCSI_SK_NOT_READY,
               cd->tray_open ? SCSI_ASC_NO_MEDIUM_TRAY_OPEN : SCSI_ASC_NO_MEDIUM_TRAY_CLOSED);
}

static void invalid_field(struct scsi_cmd *c)
{
    scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD);
}

/* ---- SPC ---- */

static void inquiry(struct scsi_cmd *c)
{
    uint16_t alloc = scsi_be16(c->cdb + 3);
    if (c->cdb[1] & 1) { /* EVPD: the list of pages is the only page */
        if (c->cdb[2] != 0x00) {
            invalid_field(c);
            return;
        }
        const uint8_t pages[5] = {0x05, 0x00, 0x00, 1, 0x00};
        scsi_reply(c, pages, sizeof pages, alloc);
        return;
    }
    if (c->cdb[2] != 0) { /* a page code without EVPD */
        invalid_field(c);
        return;
    }
    uint8_t inq[36] = {0};
    inq[0] = 0x05; /* connected, CD/DVD device */
    inq[1] = 0x80; /* removable medium */
    inq[2] = 5;    /* SPC-3 */
    inq[3] = 2;    /* response data format */
    inq[4] = sizeof inq - 5;
    memcpy(inq + 8, "TVM     ", 8);
    memcpy(inq + 16, "CD-ROM          ", 16);
    memcpy(inq + 32, "0.1 ", 4);
    scsi_reply(c, inq, sizeof inq, alloc);
}

static void request_sense(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    uint8_t sense[SCSI_SENSE_LEN];
    if (cd->ua_asc) {
        scsi_build_sense(sense, SCSI_SK_UNIT_ATTENTION, cd->ua_asc);
        cd->ua_asc = 0;
    } else if (!ready(cd)) {
        scsi_build_sense(sense, SCSI_SK_NOT_READY,
                         cd->tray_open ? SCSI_ASC_NO_MEDIUM_TRAY_OPEN
                                       : SCSI_ASC_NO_MEDIUM_TRAY_CLOSED);
    } else {
        scsi_build_sense(sense, SCSI_SK_NO_SENSE, SCSI_ASC_NONE);
    }
    if (c->cdb[1] & 1) { /* DESC: descriptor format is not offered */
        invalid_field(c);
        return;
    }
    scsi_reply(c, sense, sizeof sense, c->cdb[4]);
}

/* ---- SBC: capacity and reads ---- */

static void read_capacity(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    uint8_t r[8];
    uint64_t last = cd->blocks ? cd->blocks - 1 : 0;
    scsi_put32(r, last > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)last);
    scsi_put32(r + 4, CDROM_BLOCK);
    scsi_reply(c, r, sizeof r, sizeof r);
}

static void read_blocks(struct scsi_cdrom *cd, struct scsi_cmd *c, uint64_t lba, uint64_t count)
{
    if (lba > cd->blocks || count > cd->blocks - lba) {
        scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (count > READ_MAX_BLOCKS) {
        invalid_field(c);
        return;
    }
    uint32_t bytes = (uint32_t)count * CDROM_BLOCK;
    if (bytes > c->din_len) {
        c->overrun = true;
        c->din_written = 0;
        scsi_good(c);
        return;
    }
    if (bytes) {
        struct iovec part[VIRTQ_MAX_SIZE];
        unsigned n = iov_slice(c->din, c->ndin, 0, bytes, part, VIRTQ_MAX_SIZE);
        if (image_readv(cd->img, part, (int)n, lba * CDROM_BLOCK) < 0) {
            note(cd, "read failed (lba %u)", (unsigned)lba);
            err_clear();
            scsi_check(c, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ);
            return;
        }
    }
    c->din_written = bytes;
    scsi_good(c);
}

/* ---- MMC ---- */

static void msf(uint8_t *p, uint32_t lba)
{
    uint32_t x = lba + 150; /* MSF counts from the 2-second pregap */
    p[0] = 0;
    p[1] = (uint8_t)(x / (75 * 60));
    p[2] = (uint8_t)(x / 75 % 60);
    p[3] = (uint8_t)(x % 75);
}

static void put_addr(uint8_t *p, uint32_t lba, bool use_msf)
{
    if (use_msf)
        msf(p, lba);
    else
        scsi_put32(p, lba);
}

/* One data track (track 1 from LBA 0) and the lead-out after it. */
static void read_toc(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    bool use_msf = c->cdb[1] & 2;
    unsigned format = c->cdb[2] & 0xF;
    if (format == 0)
        format = c->cdb[9] >> 6; /* SFF-8020 placed it in the control byte */
    uint16_t alloc = scsi_be16(c->cdb + 7);
    uint32_t leadout = cd->blocks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)cd->blocks;
    uint8_t r[4 + 2 * 8] = {0};
    uint32_t len = 4;
    r[2] = 1; /* first track or session */
    r[3] = 1; /* last */
    if (format == 0) {
        uint8_t start = c->cdb[6];
        if (start > 1 && start != 0xAA) {
            invalid_field(c);
            return;
        }
        if (start <= 1) {
            r[len + 1] = 0x14; /* ADR 1 (position), control 4 (data track) */
            r[len + 2] = 1;
            put_addr(r + len + 4, 0, use_msf);
            len += 8;
        }
        r[len + 1] = 0x14;
        r[len + 2] = 0xAA; /* lead-out */
        put_addr(r + len + 4, leadout, use_msf);
        len += 8;
    } else if (format == 1) { /* session information: one session from LBA 0 */
        r[len + 1] = 0x14;
        r[len + 2] = 1;
        put_addr(r + len + 4, 0, use_msf);
        len += 8;
    } else {
        invalid_field(c);
        return;
    }
    scsi_put16(r, (uint16_t)(len - 2));
    scsi_reply(c, r, len, alloc);
}

static uint16_t current_profile(const struct scsi_cdrom *cd)
{
    if (!ready(cd))
        return PROFILE_NONE;
    return cd->blocks > CD_MAX_BLOCKS ? PROFILE_DVDROM : PROFILE_CDROM;
}

/* Appends feature CODE (MMC-6 5.2) with its DATA if the request wants it. */
static uint32_t feature(uint8_t *r, uint32_t len, uint16_t code, bool current, const uint8_t *data,
                        uint8_t n, unsigned rt, uint16_t start)
{
    if (code < start || (rt == 1 && !current) || (rt == 2 && code != start))
        return len;
    scsi_put16(r + len, code);
    r[len + 2] = (uint8_t)(0x02 | (current ? 1 : 0)); /* persistent, current */
    r[len + 3] = n;
    memcpy(r + len + 4, data, n);
    return len + 4 + n;
}

static void get_configuration(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    unsigned rt = c->cdb[1] & 3;
    if (rt == 3) {
        invalid_field(c);
        return;
    }
    uint16_t start = scsi_be16(c->cdb + 2), alloc = scsi_be16(c->cdb + 7);
    uint16_t profile = current_profile(cd);
    uint8_t r[128] = {0};
    uint32_t len = 8;
    scsi_put16(r + 6, profile);
    const uint8_t profiles[8] = {0x00, PROFILE_DVDROM, profile == PROFILE_DVDROM, 0,
                                 0x00, PROFILE_CDROM,  profile == PROFILE_CDROM,  0};
    len = feature(r, len, 0x0000, true, profiles, sizeof profiles, rt, start);
    const uint8_t core[8] = {0, 0, 0, 1 /* SCSI */, 0, 0, 0, 0};
    len = feature(r, len, 0x0001, true, core, sizeof core, rt, start);
    /* tray loading mechanism, eject, lock */
    const uint8_t removable[4] = {0x29, 0, 0, 0};
    len = feature(r, len, 0x0003, true, removable, sizeof removable, rt, start);
    const uint8_t random_read[8] = {0, 0, CDROM_BLOCK >> 8, 0, 0, 1, 0, 0};
    len = feature(r, len, 0x0010, profile != PROFILE_NONE, random_read, sizeof random_read, rt,
                  start);
    scsi_put32(r, len - 4);
    scsi_reply(c, r, len, alloc);
}

static void get_event_status(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    if (!(c->cdb[1] & 1)) { /* asynchronous notification is not offered */
        invalid_field(c);
        return;
    }
    uint16_t alloc = scsi_be16(c->cdb + 7);
    uint8_t r[8] = {0};
    r[3] = 0x10; /* supported classes: media */
    if (!(c->cdb[4] & 0x10)) {
        r[1] = 2;
        r[2] = 0x80; /* no event available */
        scsi_reply(c, r, 4, alloc);
        return;
    }
    r[1] = 6;
    r[2] = 0x04; /* media class */
    r[4] = cd->media_event;
    r[5] = (uint8_t)((ready(cd) ? 2 : 0) | (cd->tray_open ? 1 : 0));
    cd->media_event = MEC_NONE;
    scsi_reply(c, r, sizeof r, alloc);
}

/* Mode page 2Ah (MMC-6 7.x, "CD/DVD capabilities and mechanical status")
 * and 01h (read error recovery); PAGE 3Fh is both. */
static uint32_t mode_pages(const struct scsi_cdrom *cd, unsigned page, uint8_t *p)
{
    uint32_t len = 0;
    if (page == 0x01 || page == 0x3F) {
        memset(p + len, 0, 12);
        p[len] = 0x01;
        p[len + 1] = 10;
        len += 12;
    }
    if (page == 0x2A || page == 0x3F) {
        uint8_t *q = p + len;
        memset(q, 0, 22);
        q[0] = 0x2A;
        q[1] = 20;
        q[2] = 0x08; /* reads DVD-ROM */
        q[4] = 0x40; /* multi-session */
        /* tray mechanism, eject, lock, and whether it is locked now */
        q[6] = (uint8_t)(0x29 | (cd->locked ? 0x02 : 0));
        scsi_put16(q + 8, 706);  /* maximum read speed, kB/s (4x) */
        scsi_put16(q + 12, 512); /* buffer size, KiB */
        scsi_put16(q + 14, 706); /* current read speed */
        len += 22;
    }
    return len;
}

static void mode_sense(struct scsi_cdrom *cd, struct scsi_cmd *c, bool ten)
{
    unsigned pc = c->cdb[2] >> 6, page = c->cdb[2] & 0x3F;
    if (pc == 3) {
        scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_SAVING_NOT_SUPPORTED);
        return;
    }
    uint8_t r[8 + 64] = {0};
    uint32_t hdr = ten ? 8 : 4;
    uint32_t n = mode_pages(cd, page, r + hdr);
    if (!n) {
        invalid_field(c);
        return;
    }
    /* no block descriptors; medium type 0; read-only (WP) */
    uint32_t len = hdr + n;
    if (ten) {
        scsi_put16(r, (uint16_t)(len - 2));
        r[3] = 0x80;
        scsi_reply(c, r, len, scsi_be16(c->cdb + 7));
    } else {
        r[0] = (uint8_t)(len - 1);
        r[2] = 0x80;
        scsi_reply(c, r, len, c->cdb[4]);
    }
}

static void start_stop(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    bool loej = c->cdb[4] & 2, start = c->cdb[4] & 1;
    if ((c->cdb[4] >> 4) != 0 || !loej) { /* power conditions: nothing to do */
        scsi_good(c);
        return;
    }
    if (!start) {
        if (cd->locked) {
            scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_REMOVAL_PREVENTED);
            return;
        }
        cd->tray_open = true; /* the medium stays in the open tray */
    } else if (cd->tray_open) {
        cd->tray_open = false;
        if (cd->img)
            cd->media_event = MEC_NEW_MEDIA;
    }
    scsi_good(c);
}

/* ---- dispatch ---- */

/* Commands that never report a pending unit attention (SPC-4 5.14,
 * MMC-6 4.1.6.1). */
static bool ua_exempt(uint8_t op)
{
    return op == SCSI_INQUIRY || op == SCSI_REQUEST_SENSE || op == SCSI_REPORT_LUNS ||
           op == SCSI_GET_CONFIGURATION || op == SCSI_GET_EVENT_STATUS;
}

/* Commands that need a medium in a closed tray. */
static bool needs_medium(uint8_t op)
{
    return op == SCSI_TEST_UNIT_READY || op == SCSI_READ_CAPACITY_10 || op == SCSI_READ_10 ||
           op == SCSI_READ_12 || op == SCSI_READ_TOC;
}

void scsi_cdrom_exec(struct scsi_cdrom *cd, struct scsi_cmd *c)
{
    uint8_t op = c->cdb[0];
    c->din_written = 0;
    c->overrun = false;
    if (cd->ua_asc && !ua_exempt(op)) {
        scsi_check(c, SCSI_SK_UNIT_ATTENTION, cd->ua_asc);
        cd->ua_asc = 0;
        return;
    }
    if (needs_medium(op) && !ready(cd)) {
        not_ready(cd, c);
        return;
    }
    switch (op) {
    case SCSI_TEST_UNIT_READY:
        scsi_good(c);
        return;
    case SCSI_REQUEST_SENSE:
        request_sense(cd, c);
        return;
    case SCSI_INQUIRY:
        inquiry(c);
        return;
    case SCSI_READ_CAPACITY_10:
        read_capacity(cd, c);
        return;
    case SCSI_READ_10:
        read_blocks(cd, c, scsi_be32(c->cdb + 2), scsi_be16(c->cdb + 7));
        return;
    case SCSI_READ_12:
        read_blocks(cd, c, scsi_be32(c->cdb + 2), scsi_be32(c->cdb + 6));
        return;
    case SCSI_MODE_SENSE_6:
    case SCSI_MODE_SENSE_10:
        mode_sense(cd, c, op == SCSI_MODE_SENSE_10);
        return;
    case SCSI_READ_TOC:
        read_toc(cd, c);
        return;
    case SCSI_GET_CONFIGURATION:
        get_configuration(cd, c);
        return;
    case SCSI_GET_EVENT_STATUS:
        get_event_status(cd, c);
        return;
    case SCSI_PREVENT_ALLOW:
        cd->locked = c->cdb[4] & 1;
        scsi_good(c);
        return;
    case SCSI_START_STOP_UNIT:
        start_stop(cd, c);
        return;
    default:
        note(cd, "opcode 0x%02x is not supported: ILLEGAL REQUEST", op);
        scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
        return;
    }
}
