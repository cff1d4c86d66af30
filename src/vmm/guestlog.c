/* Rate-limited messages for what a guest makes happen (vmm.h). vmm.log is
 * on the run directory's tmpfs and a guest can repeat a complaint as fast
 * as it can reset a device or reboot, so each call site gets a token
 * bucket (a burst, then one message per interval, with the number left
 * out said on the next one that passes) and all of them together a byte
 * budget for the life of the process, after which they stop for good.
 * One lock: these messages are rare once limited, and a dropped one costs
 * a clock read.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/base/host.h"
#include "vmm.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t logged; /* bytes written by guest_log, all sites */
static bool stopped;

/* Takes a token if the bucket has one, after refilling it for the time passed. */
static bool take_token(struct guest_log_site *s, int64_t now)
{
    if (!s->started) {
        s->started = true;
        s->tokens = GUEST_LOG_BURST;
        s->refilled_ms = now;
    }
    if (now - s->refilled_ms >= GUEST_LOG_INTERVAL_MS) {
        int64_t add = (now - s->refilled_ms) / GUEST_LOG_INTERVAL_MS;
        s->tokens = add >= GUEST_LOG_BURST - s->tokens ? GUEST_LOG_BURST : s->tokens + (int)add;
        s->refilled_ms += add * GUEST_LOG_INTERVAL_MS;
    }
    if (s->tokens == 0)
        return false;
    s->tokens--;
    return true;
}

void guest_log(struct guest_log_site *site, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lock);
    if (stopped) {
        pthread_mutex_unlock(&lock);
        return;
    }
    if (!take_token(site, host_now_ms())) {
        site->suppressed++;
        pthread_mutex_unlock(&lock);
        return;
    }
    char line[640];
    int n;
    if (site->suppressed)
        n = snprintf(line, sizeof line, "tvm-vmm: %s (%llu more like it not logged)\n", msg,
                     (unsigned long long)site->suppressed);
    else
        n = snprintf(line, sizeof line, "tvm-vmm: %s\n", msg);
    site->suppressed = 0;
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 1)
        n = sizeof line - 1;
    if (logged + (size_t)n > GUEST_LOG_MAX_BYTES) {
        stopped = true;
        fprintf(stderr,
                "tvm-vmm: the guest caused %zu bytes of messages; no more of them are "
                "logged\n",
                logged);
    } else {
        logged += (size_t)n;
        fputs(line, stderr);
    }
    pthread_mutex_unlock(&lock);
}
