/* MC146818 CMOS RTC at ports 0x70 (index, bit 7 = NMI mask) and 0x71
 * (data). The clock registers show the host's time when read, in BCD or
 * binary and 12/24-hour as register B asks; the update-in-progress bit is
 * never set, so readers never wait. The other bytes are plain CMOS RAM.
 * Writes to the clock are accepted and forgotten: the guest cannot move
 * the host's clock, and the next read shows host time again.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "dev/legacy.h"
#include "vm.h"

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32

#define REG_B_24H 0x02
#define REG_B_BINARY 0x04
#define REG_D_VRT 0x80

struct rtc {
    pthread_mutex_t lock;
    bool localtime;
    uint8_t index;
    uint8_t ram[128];
};

static uint8_t encode(const struct rtc *r, unsigned v)
{
    if (r->ram[RTC_REG_B] & REG_B_BINARY)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t hours(const struct rtc *r, int h)
{
    if (r->ram[RTC_REG_B] & REG_B_24H)
        return encode(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return encode(r, h12) | (h >= 12 ? 0x80 : 0);
}

static uint8_t read_reg(struct rtc *r, uint8_t idx)
{
    time_t now = time(NULL);
    struct tm tm;
    if (r->localtime)
        localtime_r(&now, &tm);
    else
        gmtime_r(&now, &tm);
    switch (idx) {
    case RTC_SECONDS:
        return encode(r, tm.tm_sec > 59 ? 59 : tm.tm_sec);
    case RTC_MINUTES:
        return encode(r, tm.tm_min);
    case RTC_HOURS:
        return hours(r, tm.tm_hour);
    case RTC_WEEKDAY:
        return encode(r, tm.tm_wday + 1);
    case RTC_DAY:
        return encode(r, tm.tm_mday);
    case RTC_MONTH:
        return encode(r, tm.tm_mon + 1);
    case RTC_YEAR:
        return encode(r, tm.tm_year % 100);
    case RTC_CENTURY:
        return encode(r, (tm.tm_year + 1900) / 100);
    case RTC_REG_A:
        return r->ram[RTC_REG_A] & 0x7F; /* UIP clear */
    case RTC_REG_C: {
        uint8_t v = r->ram[RTC_REG_C];
        r->ram[RTC_REG_C] = 0; /* read clears the flags */
        return v;
    }
    case RTC_REG_D:
        return REG_D_VRT;
    default:
        return r->ram[idx & 0x7F];
    }
}

static void write_reg(struct rtc *r, uint8_t idx, uint8_t v)
{
    switch (idx) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_WEEKDAY:
    case RTC_DAY:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
    case RTC_REG_C:
    case RTC_REG_D:
        return; /* host time stays authoritative; C and D are read-only */
    case RTC_REG_A:
        r->ram[RTC_REG_A] = v & 0x7F;
        return;
    default:
        r->ram[idx & 0x7F] = v;
    }
}

static void rtc_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct rtc *r = opaque;
    memset(data, 0xFF, len);
    pthread_mutex_lock(&r->lock);
    data[0] = off == 0 ? 0xFF : read_reg(r, r->index);
    pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct rtc *r = opaque;
    (void)len;
    pthread_mutex_lock(&r->lock);
    if (off == 0)
        r->index = data[0] & 0x7F; /* bit 7 masks NMIs: nothing to mask here */
    else
        write_reg(r, r->index, data[0]);
    pthread_mutex_unlock(&r->lock);
}

static const struct io_ops rtc_ops = {.read = rtc_read, .write = rtc_write};

/* ---- saved state: the index and CMOS; the time stays the host's ---- */

static int rtc_save(void *opaque, struct vsf_out *o)
{
    struct rtc *r = opaque;
    pthread_mutex_lock(&r->lock);
    vsf_put_u8(o, r->index);
    vsf_put_bytes(o, r->ram, sizeof r->ram);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static int rtc_load(void *opaque, struct vsf_in *in)
{
    struct rtc *r = opaque;
    uint8_t index, ram[sizeof r->ram];
    if (vsf_get_u8(in, "index", &index) < 0 || vsf_get_bytes(in, "cmos", ram, sizeof ram) < 0)
        return -1;
    pthread_mutex_lock(&r->lock);
    r->index = index & 0x7F;
    r->ram[RTC_REG_A] = ram[RTC_REG_A] & 0x7F;
    r->ram[RTC_REG_B] = ram[RTC_REG_B];
    for (unsigned i = RTC_REG_D + 1; i < sizeof r->ram; i++)
        if (i != RTC_CENTURY)
            r->ram[i] = ram[i];
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static const struct vm_state_ops rtc_state = {.save = rtc_save, .load = rtc_load};

int rtc_init(struct vm *vm, bool localtime)
{
    return rtc_init_nvram(vm, localtime, NULL);
}

int rtc_init_nvram(struct vm *vm, bool localtime, const uint8_t *nvram)
{
    struct rtc *r = calloc(1, sizeof *r);
    if (!r)
        return err_set("out of memory");
    pthread_mutex_init(&r->lock, NULL);
    r->localtime = localtime;
    r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->ram[RTC_REG_B] = REG_B_24H;
    /* The clock and its control registers stay ours. */
    for (unsigned i = RTC_REG_D + 1; nvram && i < sizeof r->ram; i++)
        if (i != RTC_CENTURY)
            r->ram[i] = nvram[i];
    if (vm_own(vm, r) < 0) {
        free(r);
        return -1;
    }
    if (vm_add_state(vm, "rtc", &rtc_state, r) < 0)
        return -1;
    return vm_register_pio(vm, 0x70, 2, &rtc_ops, r);
}
