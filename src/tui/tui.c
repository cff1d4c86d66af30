/* tui_main and the event loop: poll() over the terminal, the console socket
 * and a refresh timer; one key handled per turn; redraw only on change. */
#include "tui/tui.h"
#include "tui/app.h"
#include "core/base/err.h"
#include "store/store.h"

#if __has_include("core/virt/vm.h")
#include "core/virt/vm.h"
#define TUI_HAVE_RECONCILE 1
#endif

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_INTERVAL_MS 1000
#define FULL_RELOAD_MS 10000
#define SLOW_RECONCILE_MS 100

static volatile sig_atomic_t quit_signal;
static volatile sig_atomic_t screen_active;

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

/* A crash must not leave the terminal in raw mode: restore, then die as before. */
static void on_fatal_signal(int sig)
{
    if (screen_active)
        endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_RESETHAND;
    int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        sigaction(fatal[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void restore_signals(void)
{
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
}

static void at_exit_restore(void)
{
    if (screen_active) {
        endwin();
        screen_active = 0;
    }
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void app_message(struct app *a, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof(a->message), fmt, ap);
    va_end(ap);
    /* One line only: the message line is one row. */
    for (char *p = a->message; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    a->message_error = error;
    a->redraw = true;
}

/* Sizes and mtimes of the database and its WAL: every commit by any
 * process changes one of them, so an unchanged stamp means nothing to reload. */
static void db_stamp(const struct app *a, char *buf, size_t len)
{
    struct stat db = {0}, wal = {0};
    char path[4096];
    const char *p = a->ctx->db_path;
    if (!p) {
        snprintf(buf, len, "unknown");
        return;
    }
    stat(p, &db);
    snprintf(path, sizeof(path), "%s-wal", p);
    stat(path, &wal);
    snprintf(buf, len, "%lld.%ld.%ld/%lld.%ld.%ld", (long long)db.st_size, (long)db.st_mtim.tv_sec,
             db.st_mtim.tv_nsec, (long long)wal.st_size, (long)wal.st_mtim.tv_sec,
             wal.st_mtim.tv_nsec);
}

/* Reload the rows when the store changed, and at least every few seconds
 * in case a change slipped between two equal stamps. */
static int reload_list(struct app *a, bool force)
{
    char stamp[sizeof(a->db_stamp)];
    db_stamp(a, stamp, sizeof(stamp));
    int64_t now = host_now_ms();
    if (!force && !strcmp(stamp, a->db_stamp) && strcmp(stamp, "unknown") &&
        now - a->last_reload_ms < FULL_RELOAD_MS)
        return 0;
    int changed = domlist_reload(&a->list, a->st);
    if (changed >= 0) {
        memcpy(a->db_stamp, stamp, sizeof(stamp));
        a->last_reload_ms = now;
    }
    return changed;
}

int app_refresh(struct app *a, bool force)
{
    int reaction = R_NONE;
    double t0 = now_us();
#ifdef TUI_HAVE_RECONCILE
    /* Guests started, stopped or crashed elsewhere: make the store right
     * first. It asks each live guest over QMP (short timeouts); when that
     * gets slow (hung guests), ask less often so keys stay responsive. */
    int64_t start = host_now_ms();
    if (force || start >= a->next_reconcile_ms) {
        if (vm_reconcile(a->st) < 0)
            err_clear();
        int64_t took = host_now_ms() - start;
        a->next_reconcile_ms = start + (took > SLOW_RECONCILE_MS ? 5 * REFRESH_INTERVAL_MS : 0);
    }
#endif
    int changed = reload_list(a, force);
    if (changed < 0) {
        app_message(a, true, "cannot read the inventory: %s", err_msg());
        reaction |= R_REDRAW;
    } else if (changed > 0) {
        details_invalidate(a);
        reaction |= R_REDRAW;
    } else if (domlist_sample(&a->list)) {
        reaction |= R_REDRAW;
    }
    host_info_refresh(&a->host);
    a->last_refresh_ms = host_now_ms();
    double ms = (now_us() - t0) / 1000.0;
    a->refresh_total_ms += ms;
    a->refresh_count++;
    if (ms > a->refresh_max_ms)
        a->refresh_max_ms = ms;
    return reaction;
}

void app_suspend_screen(struct app *a)
{
    (void)a;
    def_prog_mode();
    endwin();
    screen_active = 0;
}

void app_resume_screen(struct app *a)
{
    reset_prog_mode();
    screen_active = 1;
    clearok(curscr, TRUE);
    a->redraw = true;
}

static void service_console(struct app *a)
{
    int r = console_read(&a->con);
    if (r < 0)
        app_message(a, true, "console of '%s' disconnected (guest stopped?)", a->con.name);
    if (r != 0 && a->focus == FOCUS_CONSOLE)
        a->redraw = true;
}

int app_wait_key(struct app *a)
{
    if (a->in_dispatch)
        a->nested_wait = true;
    for (;;) {
        if (quit_signal) {
            a->quit = true;
            return -1;
        }
        int ch = getch();
        if (ch != ERR)
            return ch;
        if (a->redraw)
            return -1;
        int64_t now = host_now_ms();
        int timeout = (int)(a->last_refresh_ms + REFRESH_INTERVAL_MS - now);
        if (timeout <= 0) {
            if (app_refresh(a, false) & R_REDRAW)
                a->redraw = true;
            continue;
        }
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                {.fd = a->con.fd, .events = POLLIN}};
        int n = poll(fds, a->con.fd >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && a->con.fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            service_console(a);
    }
}

static bool locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
}

static int load_theme(struct theme *t, const char *theme_name)
{
    char conf_theme[64];
    if (!theme_name || !*theme_name) {
        if (theme_config_name(conf_theme, sizeof(conf_theme)) < 0)
            return -1;
        theme_name = conf_theme[0] ? conf_theme : "default";
    }
    return theme_load(t, theme_name);
}

static int screen_start(struct app *a)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return err_set("the TUI needs a terminal (use a verb or --batch otherwise)");
    /* newterm instead of initscr: initscr exits the process on a bad $TERM. */
    if (!newterm(NULL, stdout, stdin))
        return err_set("cannot start the screen: unknown terminal type '%s'",
                       getenv("TERM") ? getenv("TERM") : "");
    screen_active = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    theme_apply(&a->theme);
    return 0;
}

static void bench_report(struct app *a)
{
    FILE *f = fopen(a->bench_path, "w");
    if (!f)
        return;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(f, "domains %zu\n", a->list.n);
    fprintf(f, "first_frame_ms %.2f\n", a->first_frame_us / 1000.0);
    fprintf(f, "redraws %u\n", a->redraw_count);
    fprintf(f, "redraw_avg_ms %.3f\n",
            a->redraw_count ? a->redraw_total_ms / a->redraw_count : 0.0);
    fprintf(f, "redraw_max_ms %.3f\n", a->redraw_max_ms);
    fprintf(f, "redraw_max_key %s\n", keyname(a->redraw_max_key));
    fprintf(f, "refreshes %u\n", a->refresh_count);
    fprintf(f, "refresh_avg_ms %.3f\n",
            a->refresh_count ? a->refresh_total_ms / a->refresh_count : 0.0);
    fprintf(f, "refresh_max_ms %.3f\n", a->refresh_max_ms);
    fprintf(f, "max_rss_kib %ld\n", ru.ru_maxrss);
    fclose(f);
}

static void frame(struct app *a, double key_us, int key)
{
    draw_all(a);
    a->redraw = false;
    double done = now_us();
    if (!a->first_frame_us)
        a->first_frame_us = done - a->start_us;
    if (key_us > 0) {
        double ms = (done - key_us) / 1000.0;
        a->redraw_total_ms += ms;
        a->redraw_count++;
        if (ms > a->redraw_max_ms) {
            a->redraw_max_ms = ms;
            a->redraw_max_key = key;
        }
    }
}

static void run_loop(struct app *a)
{
    frame(a, 0, 0);
    while (!a->quit) {
        int key = app_wait_key(a);
        double key_us = 0;
        if (key >= 0) {
            key_us = now_us();
            a->in_dispatch = true;
            a->nested_wait = false;
            int r = actions_dispatch(a, key);
            a->in_dispatch = false;
            if (a->nested_wait)
                key_us = 0; /* the time went to the user typing in a dialog */
            if (r & R_QUIT)
                break;
            if (r & R_REFRESH)
                app_refresh(a, true);
            if (r & (R_REDRAW | R_REFRESH))
                a->redraw = true;
        }
        if (a->redraw)
            frame(a, key_us, key);
    }
}

int tui_main(struct cmd_ctx *ctx, const char *theme_name)
{
    static struct app app; /* static: one TUI per process, and the signal path needs no pointer */
    struct app *a = &app;
    memset(a, 0, sizeof(*a));
    a->ctx = ctx;
    a->start_us = now_us();
    a->bench_path = getenv("TVM_TUI_BENCH");
    if (a->bench_path && !*a->bench_path)
        a->bench_path = NULL;
    setlocale(LC_ALL, "");
    a->utf8 = locale_is_utf8();
    console_init(&a->con);

    if (load_theme(&a->theme, theme_name) < 0)
        return 2;
    if (!(a->st = cmd_store(ctx)))
        return 1;
    host_info_read(&a->host);
    if (reload_list(a, true) < 0)
        return 1;
    a->last_refresh_ms = host_now_ms();
    a->det.stale = true;

    atexit(at_exit_restore);
    install_signals();
    if (screen_start(a) < 0) {
        restore_signals();
        domlist_free(&a->list);
        return 2;
    }
    run_loop(a);
    endwin();
    screen_active = 0;
    restore_signals();
    if (a->bench_path)
        bench_report(a);
    console_close(&a->con);
    free(a->con.lines);
    details_free(&a->det);
    domlist_free(&a->list);
    if (quit_signal == SIGHUP || quit_signal == SIGTERM)
        return 1;
    return 0;
}
