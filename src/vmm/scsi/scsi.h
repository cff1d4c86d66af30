/* src/vmm/scsi: SCSI targets behind a host adapter (virtio-scsi,
 * src/vmm/virtio/scsi.c). The adapter copies a request's CDB out of guest
 * memory once, hands it here with the guest's data-in buffers and gets back
 * a status, sense data and the bytes it transferred. Nothing here knows
 * virtio, PCI or threads: the caller serialises calls on one logical unit.
 *
 * scsi.c: what every logical unit shares (fixed-format sense data, replies
 * bounded by the allocation length and the guest's buffers, REPORT LUNS, a
 * LUN that does not exist). cdrom.c: an MMC CD-ROM (cdrom.h).
 *
 * Specifications: SPC-4 (INQUIRY, REQUEST SENSE, REPORT LUNS, sense data),
 * SBC-3 (READ CAPACITY, READ), MMC-6 (READ TOC, GET CONFIGURATION, GET
 * EVENT STATUS NOTIFICATION, the capabilities mode page).
 */
#ifndef TVM_VMM_SCSI_SCSI_H
#define TVM_VMM_SCSI_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* status (SAM-5) */
#define SCSI_GOOD 0x00
#define SCSI_CHECK_CONDITION 0x02

/* sense keys */
#define SCSI_SK_NO_SENSE 0x0
#define SCSI_SK_NOT_READY 0x2
#define SCSI_SK_MEDIUM_ERROR 0x3
#define SCSI_SK_ILLEGAL_REQUEST 0x5
#define SCSI_SK_UNIT_ATTENTION 0x6

/* additional sense codes (ASC << 8 | ASCQ) */
#define SCSI_ASC_NONE 0x0000
#define SCSI_ASC_UNRECOVERED_READ 0x1100
#define SCSI_ASC_INVALID_OPCODE 0x2000
#define SCSI_ASC_LBA_OUT_OF_RANGE 0x2100
#define SCSI_ASC_INVALID_FIELD 0x2400
#define SCSI_ASC_LUN_NOT_SUPPORTED 0x2500
#define SCSI_ASC_MEDIUM_CHANGED 0x2800 /* not ready to ready change, medium may have changed */
#define SCSI_ASC_SAVING_NOT_SUPPORTED 0x3900
#define SCSI_ASC_NO_MEDIUM 0x3A00
#define SCSI_ASC_NO_MEDIUM_TRAY_CLOSED 0x3A01
#define SCSI_ASC_NO_MEDIUM_TRAY_OPEN 0x3A02
#define SCSI_ASC_REMOVAL_PREVENTED 0x5302

/* opcodes */
#define SCSI_TEST_UNIT_READY 0x00
#define SCSI_REQUEST_SENSE 0x03
#define SCSI_INQUIRY 0x12
#define SCSI_MODE_SENSE_6 0x1A
#define SCSI_START_STOP_UNIT 0x1B
#define SCSI_PREVENT_ALLOW 0x1E
#define SCSI_READ_CAPACITY_10 0x25
#define SCSI_READ_10 0x28
#define SCSI_READ_TOC 0x43
#define SCSI_GET_CONFIGURATION 0x46
#define SCSI_GET_EVENT_STATUS 0x4A
#define SCSI_MODE_SENSE_10 0x5A
#define SCSI_REPORT_LUNS 0xA0
#define SCSI_READ_12 0xA8

/* Fixed-format sense data (SPC-4 4.5.3): the 18 bytes every reply carries. */
#define SCSI_SENSE_LEN 18
/* The longest CDB any command here reads; shorter ones are zero-padded. */
#define SCSI_CDB_MAX 16
/* LUNs per target an adapter may give (flat space addressing, SAM-5). */
#define SCSI_MAX_LUN 16383

/* One command. The caller fills cdb (zero-padded to SCSI_CDB_MAX) and the
 * data-in buffers; the logical unit fills the rest. */
struct scsi_cmd {
    uint8_t cdb[SCSI_CDB_MAX];
    const struct iovec *din; /* guest buffers for data-in, din_len bytes in all */
    unsigned ndin;
    uint32_t din_len;

    uint8_t status;
    uint32_t din_written;
    bool overrun; /* the transfer would not fit in din: nothing was transferred */
    uint8_t sense[SCSI_SENSE_LEN];
    uint32_t sense_len; /* 0 with GOOD */
};

/* Big-endian fields of CDBs and replies. */
static inline uint16_t scsi_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t scsi_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void scsi_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void scsi_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* GOOD, no data. */
void scsi_good(struct scsi_cmd *c);
/* CHECK CONDITION with KEY and ASC (ASC << 8 | ASCQ) as fixed-format sense. */
void scsi_check(struct scsi_cmd *c, uint8_t key, uint16_t asc);
/* Fixed-format sense bytes for KEY/ASC into OUT (SCSI_SENSE_LEN). */
void scsi_build_sense(uint8_t *out, uint8_t key, uint16_t asc);
/* GOOD with the reply BUF[0..len) cut to ALLOC (the CDB's allocation
 * length) and to the guest's buffers. */
void scsi_reply(struct scsi_cmd *c, const void *buf, uint32_t len, uint32_t alloc);

/* REPORT LUNS (SPC-4 6.33) for a target whose logical units are LUNS[0..n),
 * in flat space addressing for numbers above 255, as virtio-scsi's drivers
 * address them. */
void scsi_report_luns(struct scsi_cmd *c, const uint16_t *luns, unsigned n);
/* A command to a LUN the target does not have (SPC-4 6.6.2, 4.5.5):
 * INQUIRY says peripheral qualifier 3 ("not connected"), REQUEST SENSE
 * and everything else LOGICAL UNIT NOT SUPPORTED. REPORT LUNS is the
 * target's, answered by the caller. */
void scsi_absent_lun(struct scsi_cmd *c);

#endif
