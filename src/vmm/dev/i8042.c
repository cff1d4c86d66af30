/* i8042 keyboard controller: enough for Linux to probe it quickly (self
 * test, command byte, a keyboard and an aux port that ACK what they are
 * sent), the classic reset (command 0xFE on port 0x64 pulses the CPU
 * reset line, which reboots the guest), and a keyboard that types: keys
 * from the VNC server and QMP send-key (i8042_key) arrive as set-1 codes
 * when the command byte's XLATE bit is set (the controller translating,
 * Linux's default) and as set-2 codes otherwise, on IRQ 1 when the guest
 * enabled the keyboard interrupt. Scanning stops after F5 (disable) or
 * with the keyboard interface disabled (command 0xAD), as on hardware.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "core/proto/keymap.h"
#include "dev/legacy.h"
#include "vm.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08      /* last write was a command */
#define STS_UNLOCKED 0x10 /* keylock switch open */
#define STS_AUXDATA 0x20

#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define CB_XLATE 0x40

/* Room for a pasted line: a key is up to 8 bytes down and up. */
#define QUEUE_LEN 1024

struct i8042 {
    struct vm *vm;
    pthread_mutex_t lock;
    uint8_t cmdbyte;
    uint8_t pending_cmd; /* command waiting for its data byte, 0 if none */
    uint8_t status_cmd;
    uint8_t kbd_pending; /* keyboard command waiting for its data byte */
    bool kbd_disabled;   /* F5 received: no scan codes until F4 */
    struct {
        uint8_t byte;
        bool aux;
    } q[QUEUE_LEN];
    unsigned qhead, qlen;
};

/* Queue a reply; raise the port's interrupt if the guest enabled it.
 * Caller holds the lock. Returns the IRQ to pulse, or 0. */
static unsigned reply(struct i8042 *k, uint8_t b, bool aux)
{
    if (k->qlen == QUEUE_LEN)
        return 0;
    k->q[(k->qhead + k->qlen) % QUEUE_LEN].byte = b;
    k->q[(k->qhead + k->qlen) % QUEUE_LEN].aux = aux;
    k->qlen++;
    if (k->qlen != 1)
        return 0; /* the next interrupt comes when the guest reads the head */
    if (aux)
        return (k->cmdbyte & CB_AUX_INT) ? I8042_AUX_IRQ : 0;
    return (k->cmdbyte & CB_KBD_INT) ? I8042_KBD_IRQ : 0;
}

static unsigned head_irq(const struct i8042 *k)
{
    if (!k->qlen)
        return 0;
    if (k->q[k->qhead].aux)
        return (k->cmdbyte & CB_AUX_INT) ? I8042_AUX_IRQ : 0;
    return (k->cmdbyte & CB_KBD_INT) ? I8042_KBD_IRQ : 0;
}

/* An MF2 keyboard: ACKs every byte, answers reset, identify and the
 * scan-code-set query (set 2: the controller translates to set 1). */
static unsigned kbd_write(struct i8042 *k, uint8_t b)
{
    uint8_t pending = k->kbd_pending;
    k->kbd_pending = 0;
    unsigned irq = reply(k, 0xFA, false);
    if (pending == 0xF0) {
        if (b == 0)
            reply(k, 0x02, false);
        return irq;
    }
    if (pending)
        return irq; /* the data byte of ED (LEDs) or F3 (typematic rate) */
    switch (b) {
    case 0xFF:
        k->kbd_disabled = false;
        reply(k, 0xAA, false); /* self test passed */
        break;
    case 0xF2:
        reply(k, 0xAB, false);
        reply(k, 0x83, false);
        break;
    case 0xED:
    case 0xF0:
    case 0xF3:
        k->kbd_pending = b;
        break;
    case 0xF4:
        k->kbd_disabled = false;
        break;
    case 0xF5:
        k->kbd_disabled = true;
        break;
    case 0xF6:
        k->kbd_disabled = false;
        break;
    default:
        break;
    }
    return irq;
}

int i8042_key(struct i8042 *k, unsigned qnum, bool down)
{
    uint8_t codes[8];
    unsigned irq = 0;
    pthread_mutex_lock(&k->lock);
    size_t n = keymap_scancodes(qnum, down, k->cmdbyte & CB_XLATE, codes);
    bool room = k->qlen + n <= QUEUE_LEN;
    /* 0x10 in the command byte: keyboard interface disabled */
    bool on = !k->kbd_disabled && !(k->cmdbyte & 0x10);
    for (size_t i = 0; on && room && i < n; i++) {
        unsigned r = reply(k, codes[i], false);
        if (!irq)
            irq = r;
    }
    pthread_mutex_unlock(&k->lock);
    if (irq)
        vm_irq_pulse(k->vm, irq);
    if (!n)
        return err_set("no scan code for key 0x%x", qnum);
    return on && room ? 0 : err_set("the guest's keyboard is %s", on ? "busy" : "disabled");
}

/* A PS/2 mouse that ACKs everything: standard mouse ID 0. */
static unsigned aux_write(struct i8042 *k, uint8_t b)
{
    unsigned irq = reply(k, 0xFA, true);
    if (b == 0xFF) {
        reply(k, 0xAA, true);
        reply(k, 0x00, true);
    } else if (b == 0xF2) {
        reply(k, 0x00, true);
    } else if (b == 0xE9) {
        reply(k, 0x00, true);
        reply(k, 0x02, true);
        reply(k, 0x64, true);
    }
    return irq;
}

static unsigned command(struct i8042 *k, uint8_t c, bool *reset)
{
    switch (c) {
    case 0x20: /* read command byte */
        return reply(k, k->cmdbyte, false);
    case 0x60: /* write command byte */
    case 0xD1: /* write output port */
    case 0xD2: /* write keyboard output buffer */
    case 0xD3: /* write aux output buffer */
    case 0xD4: /* write to aux device */
        k->pending_cmd = c;
        return 0;
    case 0xA9: /* aux interface test: 0 = ok */
    case 0xAB: /* keyboard interface test */
        return reply(k, 0x00, false);
    case 0xAA: /* controller self test */
        return reply(k, 0x55, false);
    case 0xA7:
        k->cmdbyte |= 0x20;
        return 0;
    case 0xA8:
        k->cmdbyte &= ~0x20;
        return 0;
    case 0xAD:
        k->cmdbyte |= 0x10;
        return 0;
    case 0xAE:
        k->cmdbyte &= ~0x10;
        return 0;
    case 0xC0: /* read input port */
        return reply(k, 0x00, false);
    case 0xD0: /* read output port: A20 on, no reset */
        return reply(k, 0x03, false);
    default:
        if (c >= 0xF0 && !(c & 0x01)) /* pulse output line bit 0: CPU reset */
            *reset = true;
        return 0;
    }
}

static unsigned data_write(struct i8042 *k, uint8_t b)
{
    uint8_t c = k->pending_cmd;
    k->pending_cmd = 0;
    switch (c) {
    case 0x60:
        k->cmdbyte = b;
        return 0;
    case 0xD1:
        return 0;
    case 0xD2:
        return reply(k, b, false);
    case 0xD3:
        return reply(k, b, true);
    case 0xD4:
        return aux_write(k, b);
    default:
        return kbd_write(k, b);
    }
}

/* port: 0 = data (0x60), 4 = status/command (0x64) */
static void i8042_read(struct i8042 *k, unsigned port, uint8_t *data, uint32_t len)
{
    unsigned off = port;
    unsigned irq = 0;
    memset(data, 0, len);
    pthread_mutex_lock(&k->lock);
    if (off == 0) {
        if (k->qlen) {
            data[0] = k->q[k->qhead].byte;
            k->qhead = (k->qhead + 1) % QUEUE_LEN;
            k->qlen--;
            irq = head_irq(k);
        }
    } else {
        data[0] = STS_SYS | STS_UNLOCKED | k->status_cmd;
        if (k->qlen)
            data[0] |= STS_OBF | (k->q[k->qhead].aux ? STS_AUXDATA : 0);
    }
    pthread_mutex_unlock(&k->lock);
    if (irq)
        vm_irq_pulse(k->vm, irq);
}

static void i8042_write(struct i8042 *k, unsigned port, const uint8_t *data, uint32_t len)
{
    unsigned off = port;
    bool reset = false;
    unsigned irq;
    (void)len;
    pthread_mutex_lock(&k->lock);
    if (off == 0) {
        k->status_cmd = 0;
        irq = data_write(k, data[0]);
    } else {
        k->status_cmd = STS_CMD;
        irq = command(k, data[0], &reset);
    }
    pthread_mutex_unlock(&k->lock);
    if (irq)
        vm_irq_pulse(k->vm, irq);
    if (reset)
        vm_guest_reboot(k->vm);
}

static void data_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    (void)off;
    i8042_read(opaque, 0, data, len);
}

static void data_write_io(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    (void)off;
    i8042_write(opaque, 0, data, len);
}

static void cmd_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    (void)off;
    i8042_read(opaque, 4, data, len);
}

static void cmd_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    (void)off;
    i8042_write(opaque, 4, data, len);
}

static const struct io_ops data_ops = {.read = data_read, .write = data_write_io};
static const struct io_ops cmd_ops = {.read = cmd_read, .write = cmd_write};

/* ---- saved state: command byte, half-done commands, the output queue ---- */

static int i8042_save(void *opaque, struct vsf_out *o)
{
    struct i8042 *k = opaque;
    pthread_mutex_lock(&k->lock);
    vsf_put_u8(o, k->cmdbyte);
    vsf_put_u8(o, k->pending_cmd);
    vsf_put_u8(o, k->status_cmd);
    vsf_put_u8(o, k->kbd_pending);
    vsf_put_u8(o, k->kbd_disabled);
    vsf_put_u32(o, k->qlen);
    for (unsigned i = 0; i < k->qlen; i++) {
        vsf_put_u8(o, k->q[(k->qhead + i) % QUEUE_LEN].byte);
        vsf_put_u8(o, k->q[(k->qhead + i) % QUEUE_LEN].aux);
    }
    pthread_mutex_unlock(&k->lock);
    return 0;
}

static int i8042_load(void *opaque, struct vsf_in *in)
{
    struct i8042 *k = opaque;
    uint8_t b[4];
    bool disabled;
    uint32_t n;
    if (vsf_get_bytes(in, "commands", b, sizeof b) < 0 ||
        vsf_get_bool(in, "kbd_disabled", &disabled) < 0 || vsf_get_u32(in, "queue", &n) < 0)
        return -1;
    if (n > QUEUE_LEN)
        return vsf_bad(in, "queue", n, "at most the output queue");
    pthread_mutex_lock(&k->lock);
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        rc = vsf_get_u8(in, "queue byte", &k->q[i].byte);
        if (rc == 0)
            rc = vsf_get_bool(in, "queue aux", &k->q[i].aux);
    }
    if (rc == 0) {
        k->cmdbyte = b[0];
        k->pending_cmd = b[1];
        k->status_cmd = b[2];
        k->kbd_pending = b[3];
        k->kbd_disabled = disabled;
        k->qhead = 0;
        k->qlen = n;
    } else {
        k->qlen = 0;
    }
    pthread_mutex_unlock(&k->lock);
    return rc;
}

static const struct vm_state_ops i8042_state = {.save = i8042_save, .load = i8042_load};

struct i8042 *i8042_init(struct vm *vm)
{
    struct i8042 *k = calloc(1, sizeof *k);
    if (!k) {
        err_set("out of memory");
        return NULL;
    }
    k->vm = vm;
    k->cmdbyte = CB_KBD_INT | CB_SYS | CB_XLATE;
    pthread_mutex_init(&k->lock, NULL);
    /* Two single ports: 0x61 between them belongs to the in-kernel PIT. */
    if (vm_own(vm, k) < 0) {
        free(k);
        return NULL;
    }
    /* On failure the VM still owns k and frees it. */
    if (vm_register_pio(vm, I8042_DATA, 1, &data_ops, k) < 0 ||
        vm_register_pio(vm, I8042_CMD, 1, &cmd_ops, k) < 0 ||
        vm_add_state(vm, "i8042", &i8042_state, k) < 0)
        return NULL;
    return k;
}
