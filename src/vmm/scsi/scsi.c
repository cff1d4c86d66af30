/* What every logical unit behind tvm-vmm's SCSI adapters shares; see scsi.h. */
#include <string.h>

#include "scsi/scsi.h"
#include "virtio/queue.h"

void scsi_good(struct scsi_cmd *c)
{
    c->status = SCSI_GOOD;
    c->sense_len = 0;
}

void scsi_build_sense(uint8_t *out, uint8_t key, uint16_t asc)
{
    memset(out, 0, SCSI_SENSE_LEN);
    out[0] = 0x70;               /* current error, fixed format */
    out[2] = key & 0xF;          /* sense key */
    out[7] = SCSI_SENSE_LEN - 8; /* additional sense length */
    out[12] = (uint8_t)(asc >> 8);
    out[13] = (uint8_t)asc;
}

void scsi_check(struct scsi_cmd *c, uint8_t key, uint16_t asc)
{
    c->status = SCSI_CHECK_CONDITION;
    scsi_build_sense(c->sense, key, asc);
    c->sense_len = SCSI_SENSE_LEN;
    c->din_written = 0;
}

void scsi_reply(struct scsi_cmd *c, const void *buf, uint32_t len, uint32_t alloc)
{
    uint32_t n = len < alloc ? len : alloc;
    if (n > c->din_len)
        n = c->din_len;
    c->din_written = (uint32_t)iov_copy_to(c->din, c->ndin, 0, buf, n);
    scsi_good(c);
}

void scsi_report_luns(struct scsi_cmd *c, const uint16_t *luns, unsigned n)
{
    /* SELECT REPORT (byte 2): 0 all, 1 well-known only, 2 all; others refused */
    uint8_t select = c->cdb[2];
    if (select > 2) {
        scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD);
        return;
    }
    uint32_t alloc = scsi_be32(c->cdb + 6);
    if (alloc < 16) { /* SPC-4: less than 16 is an error */
        scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD);
        return;
    }
    if (select == 1)
        n = 0; /* tvm has no well-known logical units */
    /* 8-byte header, then 8 bytes per LUN; the reply is cut to what the
     * guest's buffer holds, the length field says how many there are. */
    uint8_t hdr[8] = {0};
    scsi_put32(hdr, n * 8);
    uint32_t room = alloc < c->din_len ? alloc : c->din_len;
    uint32_t done = (uint32_t)iov_copy_to(c->din, c->ndin, 0, hdr, room < 8 ? room : 8);
    for (unsigned i = 0; i < n && done + 8 <= room; i++) {
        uint8_t e[8] = {0};
        if (luns[i] > 255)
            e[0] = 0x40 | (uint8_t)(luns[i] >> 8); /* flat space addressing */
        e[1] = (uint8_t)luns[i];
        done += (uint32_t)iov_copy_to(c->din, c->ndin, done, e, 8);
    }
    c->din_written = done;
    scsi_good(c);
}

void scsi_absent_lun(struct scsi_cmd *c)
{
    if (c->cdb[0] == SCSI_INQUIRY && !(c->cdb[1] & 1)) {
        uint8_t inq[36] = {0};
        inq[0] = 0x7F; /* qualifier 3 (not connected), type 1Fh (unknown) */
        inq[2] = 5;    /* SPC-3 */
        inq[3] = 2;    /* response data format */
        inq[4] = sizeof inq - 5;
        scsi_reply(c, inq, sizeof inq, scsi_be16(c->cdb + 3));
        return;
    }
    if (c->cdb[0] == SCSI_REQUEST_SENSE) {
        uint8_t sense[SCSI_SENSE_LEN];
        scsi_build_sense(sense, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
        scsi_reply(c, sense, sizeof sense, c->cdb[4]);
        return;
    }
    scsi_check(c, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
}
