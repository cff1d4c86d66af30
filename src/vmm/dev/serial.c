/* 8250/16550A UART: what Linux's 8250 driver needs for a console on COM1.
 * Transmission is instant (the holding register is always empty again by
 * the time the guest looks), so THRE interrupts fire as soon as they are
 * enabled or a byte is sent. Received bytes wait in a FIFO. The interrupt
 * line follows "some enabled condition pending and OUT2 set", like the
 * ISA wiring of a PC.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "dev/legacy.h"

/* register offsets */
#define UART_RBR_THR 0 /* DLL when DLAB */
#define UART_IER 1     /* DLM when DLAB */
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xC0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct serial {
    struct vm *vm;
    unsigned irq;
    serial_out_fn out;
    void *out_opaque;
    pthread_mutex_t lock;

    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thri_pending; /* THRE interrupt latched until IIR read or THR write */
    bool irq_level;

    uint8_t rx[SERIAL_RX_BUF];
    size_t rx_head, rx_len;
};

static void reset_regs(struct serial *s)
{
    s->ier = s->lcr = s->mcr = s->scr = s->fcr = 0;
    s->dll = 12; /* 9600 baud */
    s->dlm = 0;
    s->thri_pending = false;
    s->rx_head = s->rx_len = 0;
}

static uint8_t iir(const struct serial *s)
{
    uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
    if ((s->ier & IER_RDI) && s->rx_len)
        return fifo | IIR_RDI;
    if ((s->ier & IER_THRI) && s->thri_pending)
        return fifo | IIR_THRI;
    return fifo | IIR_NONE;
}

/* Caller holds the lock. */
static void update_irq(struct serial *s)
{
    bool level = !(iir(s) & IIR_NONE) && (s->mcr & MCR_OUT2);
    if (level != s->irq_level) {
        s->irq_level = level;
        vm_irq_line(s->vm, s->irq, level);
    }
}

static void rx_push(struct serial *s, uint8_t b)
{
    if (s->rx_len == SERIAL_RX_BUF)
        return;
    s->rx[(s->rx_head + s->rx_len) % SERIAL_RX_BUF] = b;
    s->rx_len++;
}

static uint8_t rx_pop(struct serial *s)
{
    if (!s->rx_len)
        return 0;
    uint8_t b = s->rx[s->rx_head];
    s->rx_head = (s->rx_head + 1) % SERIAL_RX_BUF;
    s->rx_len--;
    return b;
}

static uint8_t msr(const struct serial *s)
{
    if (s->mcr & MCR_LOOP) {
        /* Loopback wires the modem outputs to the inputs; the driver's probe checks this. */
        uint8_t m = 0;
        if (s->mcr & MCR_RTS)
            m |= MSR_CTS;
        if (s->mcr & MCR_DTR)
            m |= MSR_DSR;
        if (s->mcr & MCR_OUT1)
            m |= MSR_RI;
        if (s->mcr & MCR_OUT2)
            m |= MSR_DCD;
        return m;
    }
    return MSR_DCD | MSR_DSR | MSR_CTS;
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
    switch (reg) {
    case UART_RBR_THR:
        if (s->lcr & LCR_DLAB)
            return s->dll;
        return rx_pop(s);
    case UART_IER:
        return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
    case UART_IIR_FCR: {
        uint8_t v = iir(s);
        /* Reading IIR while it reports THRE acknowledges that interrupt. */
        if ((v & 0x0F) == IIR_THRI)
            s->thri_pending = false;
        return v;
    }
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
    case UART_MSR:
        return msr(s);
    default:
        return s->scr;
    }
}

/* Returns true when `*tx` holds a byte the guest transmitted. */
static bool reg_write(struct serial *s, unsigned reg, uint8_t v, uint8_t *tx)
{
    switch (reg) {
    case UART_RBR_THR:
        if (s->lcr & LCR_DLAB) {
            s->dll = v;
            return false;
        }
        s->thri_pending = true; /* sent at once: the holding register is empty again */
        if (s->mcr & MCR_LOOP) {
            rx_push(s, v);
            return false;
        }
        *tx = v;
        return true;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->dlm = v;
        } else {
            /* Enabling THRI while the register is empty raises it at once. */
            if ((v & IER_THRI) && !(s->ier & IER_THRI))
                s->thri_pending = true;
            s->ier = v & 0x0F;
        }
        return false;
    case UART_IIR_FCR:
        s->fcr = v & (FCR_ENABLE | 0xC0);
        if (v & FCR_CLEAR_RX)
            s->rx_head = s->rx_len = 0;
        return false;
    case UART_LCR:
        s->lcr = v;
        return false;
    case UART_MCR:
        s->mcr = v & 0x1F;
        return false;
    case UART_SCR:
        s->scr = v;
        return false;
    default:
        return false; /* LSR and MSR are read-only */
    }
}

static void serial_io_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct serial *s = opaque;
    pthread_mutex_lock(&s->lock);
    data[0] = reg_read(s, off & 7);
    for (uint32_t i = 1; i < len; i++)
        data[i] = 0xFF;
    update_irq(s);
    pthread_mutex_unlock(&s->lock);
}

static void serial_io_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct serial *s = opaque;
    (void)len;
    uint8_t tx;
    pthread_mutex_lock(&s->lock);
    bool sent = reg_write(s, off & 7, data[0], &tx);
    update_irq(s);
    pthread_mutex_unlock(&s->lock);
    /* Outside the lock: the sink may take its own locks. */
    if (sent && s->out)
        s->out(s->out_opaque, &tx, 1);
}

static const struct io_ops serial_ops = {.read = serial_io_read, .write = serial_io_write};

/* ---- saved state: the registers and the bytes still to be read ---- */

static int serial_save(void *opaque, struct vsf_out *o)
{
    struct serial *s = opaque;
    pthread_mutex_lock(&s->lock);
    uint8_t regs[7] = {s->ier, s->lcr, s->mcr, s->scr, s->dll, s->dlm, s->fcr};
    vsf_put_bytes(o, regs, sizeof regs);
    vsf_put_u8(o, s->thri_pending);
    vsf_put_u32(o, (uint32_t)s->rx_len);
    for (size_t i = 0; i < s->rx_len; i++)
        vsf_put_u8(o, s->rx[(s->rx_head + i) % SERIAL_RX_BUF]);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int serial_load(void *opaque, struct vsf_in *in)
{
    struct serial *s = opaque;
    uint8_t regs[7];
    bool thri;
    uint32_t n;
    if (vsf_get_bytes(in, "registers", regs, sizeof regs) < 0 ||
        vsf_get_bool(in, "thri_pending", &thri) < 0 || vsf_get_u32(in, "rx bytes", &n) < 0)
        return -1;
    if (n > SERIAL_RX_BUF)
        return vsf_bad(in, "rx bytes", n, "at most the receive buffer");
    pthread_mutex_lock(&s->lock);
    int rc = vsf_get_bytes(in, "rx", s->rx, n);
    if (rc == 0) {
        s->ier = regs[0] & 0x0F;
        s->lcr = regs[1];
        s->mcr = regs[2] & 0x1F;
        s->scr = regs[3];
        s->dll = regs[4];
        s->dlm = regs[5];
        s->fcr = regs[6];
        s->thri_pending = thri;
        s->rx_head = 0;
        s->rx_len = n;
        /* The irqchip was loaded with the line as it was: KVM's own
         * record of this source follows it. */
        s->irq_level = !(iir(s) & IIR_NONE) && (s->mcr & MCR_OUT2);
        vm_irq_line(s->vm, s->irq, s->irq_level);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static const struct vm_state_ops serial_state = {.save = serial_save, .load = serial_load};

struct serial *serial_init(struct vm *vm, uint16_t base, unsigned irq, serial_out_fn out,
                           void *opaque)
{
    struct serial *s = calloc(1, sizeof *s);
    if (!s) {
        err_set("out of memory");
        return NULL;
    }
    s->vm = vm;
    s->irq = irq;
    s->out = out;
    s->out_opaque = opaque;
    pthread_mutex_init(&s->lock, NULL);
    reset_regs(s);
    if (vm && (vm_register_pio(vm, base, 8, &serial_ops, s) < 0 ||
               vm_add_state(vm, "serial", &serial_state, s) < 0)) {
        serial_free(s);
        return NULL;
    }
    return s;
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&s->lock);
    size_t n = SERIAL_RX_BUF - s->rx_len;
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        rx_push(s, buf[i]);
    update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return n;
}

void serial_reset(struct serial *s)
{
    pthread_mutex_lock(&s->lock);
    reset_regs(s);
    s->irq_level = false;
    pthread_mutex_unlock(&s->lock);
}

void serial_free(struct serial *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}
