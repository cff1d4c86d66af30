/* ACPI PM block: PM1a event/control, PM timer, GPE0 and the reset
 * register, as laid out in acpi-pm.h. Accesses may be any width at any
 * offset, so the block is handled as a little byte-addressed register
 * file: a read assembles bytes, a write applies bytes and then acts on the
 * result once (a 16-bit PM1_CNT write carries SLP_TYP and SLP_EN together).
 */
#include "dev/acpi-pm.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/proto/vmstate-file.h"

struct acpi_pm {
    pthread_mutex_t lock;
    const struct acpi_pm_ops *ops;
    void *opaque;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    bool sci;             /* level we last drove */
    struct timespec zero; /* the PM timer counts from here */
};

static struct acpi_pm pm = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* PM1_STS bits that raise the SCI when their PM1_EN twin is set. Only the
 * power button is ever set by this device; the global lock, RTC alarm and
 * sleep button have no source here, but the guest may enable them. */
#define PM1_SCI_BITS                                                                               \
    (ACPI_PM1_TMR_STS | ACPI_PM1_GBL_STS | ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS |             \
     ACPI_PM1_RTC_STS)

static uint32_t pm_timer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t sec = ts.tv_sec - pm.zero.tv_sec;
    int64_t nsec = ts.tv_nsec - pm.zero.tv_nsec;
    uint64_t ticks = (uint64_t)sec * ACPI_PM_TIMER_HZ +
                     (uint64_t)(nsec * (int64_t)ACPI_PM_TIMER_HZ / 1000000000);
    return (uint32_t)ticks;
}

/* Caller holds the lock. SCI is level-triggered: asserted exactly while
 * some enabled event's status bit is set. */
static void pm_update_sci(void)
{
    bool level = (pm.pm1_sts & pm.pm1_en & PM1_SCI_BITS) || (pm.gpe_sts & pm.gpe_en);
    if (level == pm.sci)
        return;
    pm.sci = level;
    if (pm.ops && pm.ops->set_sci)
        pm.ops->set_sci(pm.opaque, level);
}

static void pm_power_on_state(void)
{
    pm.pm1_sts = 0;
    pm.pm1_en = 0;
    /* No SMI_CMD in the FADT: the platform is always in ACPI mode. */
    pm.pm1_cnt = ACPI_PM1_CNT_SCI_EN;
    pm.gpe_sts = 0;
    pm.gpe_en = 0;
    pm_update_sci();
}

int acpi_pm_setup(const struct acpi_pm_ops *ops, void *opaque)
{
    pthread_mutex_lock(&pm.lock);
    pm.ops = ops;
    pm.opaque = opaque;
    pm.sci = false;
    clock_gettime(CLOCK_MONOTONIC, &pm.zero);
    pm_power_on_state();
    pthread_mutex_unlock(&pm.lock);
    return 0;
}

void *acpi_pm_opaque(void)
{
    return &pm;
}

void acpi_pm_reset(void)
{
    pthread_mutex_lock(&pm.lock);
    pm_power_on_state();
    pthread_mutex_unlock(&pm.lock);
}

void acpi_pm_close(void)
{
    pthread_mutex_lock(&pm.lock);
    pm.ops = NULL;
    pm.opaque = NULL;
    pm.sci = false;
    pthread_mutex_unlock(&pm.lock);
}

void acpi_pm_press_power_button(void)
{
    pthread_mutex_lock(&pm.lock);
    if (pm.ops) {
        pm.pm1_sts |= ACPI_PM1_PWRBTN_STS;
        pm_update_sci();
    }
    pthread_mutex_unlock(&pm.lock);
}

static uint8_t byte_of(uint32_t v, unsigned i)
{
    return (uint8_t)(v >> (8 * i));
}

/* Caller holds the lock; tmr is the timer value for this whole access. */
static uint8_t pm_read_byte(uint64_t off, uint32_t tmr)
{
    switch (off) {
    case ACPI_PM1_EVT_OFF + 0:
    case ACPI_PM1_EVT_OFF + 1:
        return byte_of(pm.pm1_sts, off - ACPI_PM1_EVT_OFF);
    case ACPI_PM1_EVT_OFF + 2:
    case ACPI_PM1_EVT_OFF + 3:
        return byte_of(pm.pm1_en, off - ACPI_PM1_EVT_OFF - 2);
    case ACPI_PM1_CNT_OFF + 0:
    case ACPI_PM1_CNT_OFF + 1:
        /* SLP_EN is write-only and reads as 0. */
        return byte_of(pm.pm1_cnt & ~ACPI_PM1_CNT_SLP_EN, off - ACPI_PM1_CNT_OFF);
    case ACPI_PM_TMR_OFF + 0:
    case ACPI_PM_TMR_OFF + 1:
    case ACPI_PM_TMR_OFF + 2:
    case ACPI_PM_TMR_OFF + 3:
        return byte_of(tmr, off - ACPI_PM_TMR_OFF);
    case ACPI_GPE0_OFF + 0:
    case ACPI_GPE0_OFF + 1:
        return byte_of(pm.gpe_sts, off - ACPI_GPE0_OFF);
    case ACPI_GPE0_OFF + 2:
    case ACPI_GPE0_OFF + 3:
        return byte_of(pm.gpe_en, off - ACPI_GPE0_OFF - 2);
    default:
        return 0;
    }
}

static void acpi_pm_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    (void)opaque;
    pthread_mutex_lock(&pm.lock);
    uint32_t tmr = pm_timer_now();
    for (uint32_t i = 0; i < len; i++)
        data[i] = pm_read_byte(off + i, tmr);
    pthread_mutex_unlock(&pm.lock);
}

static uint16_t set_byte(uint16_t reg, unsigned i, uint8_t v)
{
    uint16_t mask = (uint16_t)(0xFF << (8 * i));
    return (uint16_t)((reg & ~mask) | ((uint16_t)v << (8 * i)));
}

enum pm_action { PM_NONE, PM_POWEROFF, PM_REBOOT };

/* Caller holds the lock. Status registers are write-1-to-clear. */
static void pm_write_byte(uint64_t off, uint8_t v, enum pm_action *act)
{
    switch (off) {
    case ACPI_PM1_EVT_OFF + 0:
    case ACPI_PM1_EVT_OFF + 1:
        pm.pm1_sts &= (uint16_t) ~((uint16_t)v << (8 * (off - ACPI_PM1_EVT_OFF)));
        break;
    case ACPI_PM1_EVT_OFF + 2:
    case ACPI_PM1_EVT_OFF + 3:
        pm.pm1_en = set_byte(pm.pm1_en, off - ACPI_PM1_EVT_OFF - 2, v) & ACPI_PM1_EN_BITS;
        break;
    case ACPI_PM1_CNT_OFF + 0:
    case ACPI_PM1_CNT_OFF + 1:
        pm.pm1_cnt = set_byte(pm.pm1_cnt, off - ACPI_PM1_CNT_OFF, v) | ACPI_PM1_CNT_SCI_EN;
        break;
    case ACPI_GPE0_OFF + 0:
    case ACPI_GPE0_OFF + 1:
        pm.gpe_sts &= (uint16_t) ~((uint16_t)v << (8 * (off - ACPI_GPE0_OFF)));
        break;
    case ACPI_GPE0_OFF + 2:
    case ACPI_GPE0_OFF + 3:
        pm.gpe_en = set_byte(pm.gpe_en, off - ACPI_GPE0_OFF - 2, v);
        break;
    case ACPI_PM_RESET_OFF:
        if (v == ACPI_PM_RESET_VALUE)
            *act = PM_REBOOT;
        break;
    default: /* the timer is read-only; the rest of the block is reserved */
        break;
    }
}

static void acpi_pm_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    (void)opaque;
    enum pm_action act = PM_NONE;
    pthread_mutex_lock(&pm.lock);
    for (uint32_t i = 0; i < len; i++)
        pm_write_byte(off + i, data[i], &act);
    if (pm.pm1_cnt & ACPI_PM1_CNT_SLP_EN) {
        unsigned typ = (pm.pm1_cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
        pm.pm1_cnt &= (uint16_t)~ACPI_PM1_CNT_SLP_EN;
        /* Only S5 is advertised; other sleep types are ignored (the guest
         * sees no wake and carries on). */
        if (typ == ACPI_PM_SLP_TYP_S5)
            act = PM_POWEROFF;
    }
    pm_update_sci();
    const struct acpi_pm_ops *ops = pm.ops;
    void *ops_opaque = pm.opaque;
    pthread_mutex_unlock(&pm.lock);

    /* Outside the lock: the VM may reset this device from these. */
    if (!ops)
        return;
    if (act == PM_POWEROFF && ops->poweroff)
        ops->poweroff(ops_opaque);
    else if (act == PM_REBOOT && ops->reboot)
        ops->reboot(ops_opaque);
}

const struct io_ops acpi_pm_io_ops = {
    .read = acpi_pm_read,
    .write = acpi_pm_write,
};

/* ---- saved state: the registers; the PM timer goes on from its value ---- */

static int pm_save(void *opaque, struct vsf_out *o)
{
    (void)opaque;
    pthread_mutex_lock(&pm.lock);
    vsf_put_u16(o, pm.pm1_sts);
    vsf_put_u16(o, pm.pm1_en);
    vsf_put_u16(o, pm.pm1_cnt);
    vsf_put_u16(o, pm.gpe_sts);
    vsf_put_u16(o, pm.gpe_en);
    vsf_put_u32(o, pm_timer_now());
    pthread_mutex_unlock(&pm.lock);
    return 0;
}

static int pm_load(void *opaque, struct vsf_in *in)
{
    (void)opaque;
    uint16_t r[5];
    uint32_t ticks;
    for (int i = 0; i < 5; i++)
        if (vsf_get_u16(in, "registers", &r[i]) < 0)
            return -1;
    if (vsf_get_u32(in, "pm timer", &ticks) < 0)
        return -1;
    pthread_mutex_lock(&pm.lock);
    pm.pm1_sts = r[0];
    pm.pm1_en = r[1] & ACPI_PM1_EN_BITS;
    pm.pm1_cnt = r[2] & (uint16_t)~ACPI_PM1_CNT_SLP_EN;
    pm.gpe_sts = r[3];
    pm.gpe_en = r[4];
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)((uint64_t)ticks * 1000000000ULL / ACPI_PM_TIMER_HZ);
    int64_t zero = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - ns;
    pm.zero = (struct timespec){.tv_sec = zero / 1000000000, .tv_nsec = zero % 1000000000};
    if (pm.zero.tv_nsec < 0) {
        pm.zero.tv_nsec += 1000000000;
        pm.zero.tv_sec--;
    }
    /* Drive the line as loaded, whatever was driven before. */
    pm.sci = !((pm.pm1_sts & pm.pm1_en & PM1_SCI_BITS) || (pm.gpe_sts & pm.gpe_en));
    pm_update_sci();
    pthread_mutex_unlock(&pm.lock);
    return 0;
}

const struct vm_state_ops acpi_pm_state_ops = {.save = pm_save, .load = pm_load};
