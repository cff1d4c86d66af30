/* QEMU's firmware configuration interface (fw_cfg), as SeaBIOS reads it
 * (QEMU docs/specs/fw_cfg.rst): a selector port (0x510, 16 bits), a data
 * port (0x511, one byte a read, the offset advancing through the selected
 * item) and the DMA interface (0x514: big-endian address of a
 * FWCfgDmaAccess, the high half at 0x514 and the low half at 0x518, whose
 * write starts the transfer).
 *
 * Items are read-only byte strings under 16-bit keys: the fixed ones
 * (signature 0x00, id 0x01, CPU counts 0x05/0x0f, boot menu 0x0e) and named
 * files, which get keys from FW_CFG_FILE_FIRST up and are listed in the
 * file directory (key 0x19). Everything is set before the guest runs; the
 * guest can only select and read, and every guest value (key, offset, DMA
 * address and length) is checked against the item and guest RAM.
 */
#ifndef TVM_VMM_DEV_FW_CFG_H
#define TVM_VMM_DEV_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DMA 0x514

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_MAX_FILES 32
#define FW_CFG_NAME_LEN 56 /* with its NUL */

/* Bits of the id item (key 0x01). */
#define FW_CFG_VERSION 0x01
#define FW_CFG_VERSION_DMA 0x02

/* FWCfgDmaAccess.control */
#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE 0x10

struct fw_cfg;

/* The device with its signature, id and file directory; the VM frees it.
 * dma: also serve the DMA interface. NULL with err_msg() set. */
struct fw_cfg *fw_cfg_new(struct vm *vm, bool dma);
/* Key KEY holds a copy of DATA (LEN bytes). */
int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len);
/* A little-endian integer item of SIZE bytes (2, 4 or 8). */
int fw_cfg_add_int(struct fw_cfg *f, uint16_t key, uint64_t v, unsigned size);
/* A named file holding a copy of DATA; names are unique and shorter than
 * FW_CFG_NAME_LEN. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len);
/* Guest accesses, as the port handlers make them (unit tests). */
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
uint8_t fw_cfg_read_byte(struct fw_cfg *f);
/* A DMA request: the FWCfgDmaAccess at guest address ADDR. */
void fw_cfg_dma(struct fw_cfg *f, uint64_t addr);

#endif
