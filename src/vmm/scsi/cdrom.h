/* An MMC CD-ROM drive (logical unit): 2048-byte blocks, read-only, a tray
 * that holds a raw image or nothing. The commands Linux's sr driver and
 * SeaBIOS send are answered; any other gets CHECK CONDITION / ILLEGAL
 * REQUEST. A medium change (from the host or the guest's own START STOP
 * UNIT) is reported as the spec says: a unit attention on the next
 * command and a media event for GET EVENT STATUS NOTIFICATION.
 *
 * Not thread-safe: the adapter serialises calls on one drive.
 */
#ifndef TVM_VMM_SCSI_CDROM_H
#define TVM_VMM_SCSI_CDROM_H

#include <stdbool.h>

#include "scsi/scsi.h"

#define CDROM_BLOCK 2048

struct image;
struct scsi_cdrom;

/* A drive named NAME (the <target dev>), tray closed, with the medium IMG
 * (owned from here) or empty (NULL), as at power-on: no unit attention.
 * NULL: out of memory (IMG is closed). */
struct scsi_cdrom *scsi_cdrom_new(const char *name, struct image *img);
/* Power-on state again (device or VM reset): the guest's lock is gone. */
void scsi_cdrom_reset(struct scsi_cdrom *cd);
/* Saved state: the tray, the guest's lock, the pending unit attention and
 * media event, and which medium (by size) was in. Load checks every value
 * first; a medium the saved state lacks is taken out, one it has must be
 * the drive's (from the same definition). */
struct vsf_out;
struct vsf_in;
void scsi_cdrom_save(const struct scsi_cdrom *cd, struct vsf_out *o);
int scsi_cdrom_load(struct scsi_cdrom *cd, struct vsf_in *in);
/* Closes the medium too. NULL is fine. */
void scsi_cdrom_free(struct scsi_cdrom *cd);

/* Runs one command to completion. */
void scsi_cdrom_exec(struct scsi_cdrom *cd, struct scsi_cmd *c);

/* Host side (change-media). Insert puts IMG (owned from here, read as raw
 * 2048-byte blocks) in the tray and closes it, replacing any medium; eject
 * opens the tray and takes the medium out. While the guest prevents
 * removal (PREVENT ALLOW MEDIUM REMOVAL) both fail with a message unless
 * FORCE; then the guest is also told that the host asked for an eject. */
int scsi_cdrom_insert(struct scsi_cdrom *cd, struct image *img, bool force);
int scsi_cdrom_eject(struct scsi_cdrom *cd, bool force);
bool scsi_cdrom_has_medium(const struct scsi_cdrom *cd);
bool scsi_cdrom_locked(const struct scsi_cdrom *cd);
const char *scsi_cdrom_name(const struct scsi_cdrom *cd);

#endif
