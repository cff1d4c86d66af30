/* The legacy devices a Linux boot talks to, driven through the VM's port
 * bus exactly as vCPU exits would (no KVM): the 8250 UART, the CMOS RTC,
 * the i8042 reset line, PCI config "no device" and unclaimed ports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "dev/legacy.h"
#include "vm.h"

static uint8_t out_buf[256];
static size_t out_len;

static void sink(void *opaque, const uint8_t *buf, size_t len)
{
    (void)opaque;
    for (size_t i = 0; i < len && out_len < sizeof out_buf; i++)
        out_buf[out_len++] = buf[i];
}

static struct vm *new_vm(void)
{
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    struct vm *vm = vm_new(&cfg);
    if (!vm)
        fail_msg("vm_new: %s", err_msg());
    return vm;
}

static uint8_t inb(struct vm *vm, uint16_t port)
{
    uint8_t v = 0;
    io_dispatch_pio(vm, port, &v, 1, false);
    return v;
}

static void outb(struct vm *vm, uint16_t port, uint8_t v)
{
    io_dispatch_pio(vm, port, &v, 1, true);
}

static void test_uart(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    struct serial *s = serial_init(vm, 0x3F8, 4, sink, NULL);
    assert_non_null(s);
    out_len = 0;

    /* transmit: bytes reach the sink, LSR always shows an empty transmitter */
    outb(vm, 0x3F8, 'h');
    outb(vm, 0x3F8, 'i');
    assert_int_equal(out_len, 2);
    assert_memory_equal(out_buf, "hi", 2);
    assert_int_equal(inb(vm, 0x3FD) & 0x61, 0x60); /* THRE|TEMT, no data */

    /* DLAB: divisor latch instead of THR/IER, nothing transmitted */
    outb(vm, 0x3FB, 0x83);
    outb(vm, 0x3F8, 0x01);
    outb(vm, 0x3F9, 0x00);
    assert_int_equal(inb(vm, 0x3F8), 0x01);
    outb(vm, 0x3FB, 0x03);
    assert_int_equal(out_len, 2);
    assert_int_equal(inb(vm, 0x3FB), 0x03);

    /* receive: FIFO order, DR set until drained */
    assert_int_equal(serial_receive(s, (const uint8_t *)"ok", 2), 2);
    assert_int_equal(inb(vm, 0x3FD) & 0x01, 0x01);
    outb(vm, 0x3F9, 0x01);                         /* IER: RX interrupt */
    assert_int_equal(inb(vm, 0x3FA) & 0x0F, 0x04); /* IIR: received data */
    assert_int_equal(inb(vm, 0x3F8), 'o');
    assert_int_equal(inb(vm, 0x3F8), 'k');
    assert_int_equal(inb(vm, 0x3FD) & 0x01, 0x00);
    assert_int_equal(inb(vm, 0x3FA) & 0x0F, 0x01); /* nothing pending */

    /* THRE interrupt: raised by enabling it, acknowledged by reading IIR */
    outb(vm, 0x3F9, 0x02);
    assert_int_equal(inb(vm, 0x3FA) & 0x0F, 0x02);
    assert_int_equal(inb(vm, 0x3FA) & 0x0F, 0x01);
    outb(vm, 0x3F8, '!');
    assert_int_equal(inb(vm, 0x3FA) & 0x0F, 0x02);

    /* loopback (the driver's probe): THR comes back on RBR, MCR on MSR */
    outb(vm, 0x3FC, 0x10 | 0x0A);                  /* LOOP | RTS | OUT2 */
    assert_int_equal(inb(vm, 0x3FE) & 0xF0, 0x90); /* CTS | DCD */
    size_t before = out_len;
    outb(vm, 0x3F8, 0x5A);
    assert_int_equal(out_len, before);
    assert_int_equal(inb(vm, 0x3F8), 0x5A);

    /* scratch register, and a full FIFO takes no more */
    outb(vm, 0x3FF, 0xC3);
    assert_int_equal(inb(vm, 0x3FF), 0xC3);
    static uint8_t lots[SERIAL_RX_BUF + 100];
    assert_int_equal(serial_receive(s, lots, sizeof lots), SERIAL_RX_BUF);
    serial_reset(s);
    assert_int_equal(inb(vm, 0x3FD) & 0x01, 0);
    vm_free(vm);
    serial_free(s);
}

static unsigned bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0xF);
}

static uint8_t cmos(struct vm *vm, uint8_t reg)
{
    outb(vm, 0x70, reg);
    return inb(vm, 0x71);
}

static void test_rtc(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    assert_int_equal(rtc_init(vm, false), 0);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    assert_int_equal(cmos(vm, 0x0A) & 0x80, 0);    /* never update-in-progress */
    assert_int_equal(cmos(vm, 0x0D), 0x80);        /* valid RAM and time */
    assert_int_equal(cmos(vm, 0x0B) & 0x06, 0x02); /* BCD, 24 h */
    assert_int_equal(bcd(cmos(vm, 0x09)), tm.tm_year % 100);
    assert_int_equal(bcd(cmos(vm, 0x32)), (tm.tm_year + 1900) / 100);
    assert_int_equal(bcd(cmos(vm, 0x08)), tm.tm_mon + 1);
    unsigned hour = bcd(cmos(vm, 0x04));
    assert_true(hour == (unsigned)tm.tm_hour || hour == (unsigned)(tm.tm_hour + 1) % 24);
    /* binary mode per register B */
    outb(vm, 0x70, 0x0B);
    outb(vm, 0x71, 0x06);
    assert_int_equal(cmos(vm, 0x08), tm.tm_mon + 1);
    assert_int_equal(cmos(vm, 0x09), tm.tm_year % 100);
    /* the guest cannot set the clock, but CMOS RAM keeps what it stores */
    outb(vm, 0x70, 0x09);
    outb(vm, 0x71, 0x42);
    assert_int_equal(cmos(vm, 0x09), tm.tm_year % 100);
    outb(vm, 0x70, 0x40);
    outb(vm, 0x71, 0x99);
    assert_int_equal(cmos(vm, 0x40), 0x99);
    vm_free(vm);
}

static void test_i8042_reset(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    assert_non_null(i8042_init(vm));
    /* self test and command byte round trip, as the kernel's probe does */
    outb(vm, 0x64, 0xAA);
    assert_int_equal(inb(vm, 0x64) & 0x01, 0x01);
    assert_int_equal(inb(vm, 0x60), 0x55);
    assert_int_equal(inb(vm, 0x64) & 0x01, 0x00);
    outb(vm, 0x64, 0x60);
    outb(vm, 0x60, 0x47);
    outb(vm, 0x64, 0x20);
    assert_int_equal(inb(vm, 0x60), 0x47);
    /* keyboard identify: ACK then MF2 id */
    outb(vm, 0x60, 0xF2);
    assert_int_equal(inb(vm, 0x60), 0xFA);
    assert_int_equal(inb(vm, 0x60), 0xAB);
    assert_int_equal(inb(vm, 0x60), 0x83);
    assert_int_equal(vm->req, VM_REQ_NONE);
    /* pulse the reset line: the guest asked to reboot */
    outb(vm, 0x64, 0xFE);
    assert_int_equal(vm->req, VM_REQ_RESET);
    assert_true(vm->pause_req);
    vm_free(vm);
}

static void test_unclaimed(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    /* PCI config: the address latch reads back, data says "no device" */
    uint32_t addr = 0x80000000, v = 0;
    io_dispatch_pio(vm, 0xCF8, (uint8_t *)&addr, 4, true);
    io_dispatch_pio(vm, 0xCF8, (uint8_t *)&v, 4, false);
    assert_int_equal(v, 0x80000000);
    io_dispatch_pio(vm, 0xCFC, (uint8_t *)&v, 4, false);
    assert_int_equal(v, 0xFFFFFFFF);
    /* an unknown port reads all ones, is counted, and nothing breaks */
    assert_int_equal(io_dispatch_pio(vm, 0x1234, (uint8_t *)&v, 2, false), 1);
    assert_int_equal(v & 0xFFFF, 0xFFFF);
    io_dispatch_pio(vm, 0x1234, (uint8_t *)&v, 1, true);
    assert_int_equal(vm->unknown_pio[0x1234], 2);
    uint64_t q = 0;
    assert_int_equal(io_dispatch_mmio(vm, 0xD0000000, (uint8_t *)&q, 8, false), 1);
    assert_true(q == UINT64_MAX);
    /* overlapping claims are refused */
    static const struct io_ops none = {0};
    assert_int_equal(vm_register_pio(vm, 0xCFA, 4, &none, NULL), -1);
    assert_non_null(strstr(err_msg(), "overlaps"));
    vm_free(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uart),
        cmocka_unit_test(test_rtc),
        cmocka_unit_test(test_i8042_reset),
        cmocka_unit_test(test_unclaimed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
