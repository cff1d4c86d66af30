/* src/tui: the ncurses application (`tvm` with no verb).
 *
 * What it may use: the commands/services layer (core/cmd: the command
 * table, core/cmd/inventory.h for what it reads) and the layers below it
 * that hold no state of their own (core/base, core/model, core/proto for
 * the run directory's file names), and src/viewer, the terminal viewer of
 * a guest's screen. Never the store (src/store): every read and change
 * goes through core/cmd, so the TUI can do nothing a batch script could not.
 *
 * Files: tui.c (this: tui_main, the terminal, the poll loop), keys.c (the
 * key table behind keys, menu and help), actions.c (what keys do),
 * handover.c (actions that give the terminal away: $EDITOR, full-screen
 * console and graphical console), graphics.c (the graphical console pane,
 * on src/viewer), jobs.c + worker.c (commands and refreshes off the UI thread),
 * domlist.c, details.c, draw.c, widgets.c, console.c (the console pane),
 * storage.c + storage-actions.c (the storage pane: pools and volumes),
 * host.c (title-bar facts, /proc samples), theme.c, format.c.
 *
 * The loop: poll() over the terminal, the console socket, the workers'
 * pipe and a refresh timer; one key handled per turn; redraw only on change. */
#include "tui/tui.h"
#include "tui/app.h"
#include "core/base/err.h"
#include "core/cmd/inventory.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
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

static volatile sig_atomic_t quit_signal;
static volatile sig_atomic_t screen_active;
static int saved_stderr = -1; /* the real fd 2, for the crash path */

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

/* A crash must not leave the terminal in raw mode: restore, then die as before. */
static void on_fatal_signal(int sig)
{
    if (saved_stderr >= 0)
        dup2(saved_stderr, STDERR_FILENO); /* the crash report goes to the terminal */
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

static struct app the_app; /* one TUI per process; the exit path needs no pointer */

static void at_exit_restore(void)
{
    if (screen_active) {
        endwin();
        screen_active = 0;
        for (int fd = 0; fd < 3; fd++)
            if (the_app.saved_fd[fd] >= 0)
                dup2(the_app.saved_fd[fd], fd);
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

int app_refresh(struct app *a, bool force)
{
    double t0 = now_us();
    int reaction = R_NONE;
    jobs_submit_refresh(a, force);
    if (domlist_sample(&a->list))
        reaction |= R_REDRAW;
    host_info_refresh(&a->host);
    a->last_refresh_ms = host_now_ms();
    double ms = (now_us() - t0) / 1000.0;
    a->refresh_total_ms += ms;
    a->refresh_count++;
    if (ms > a->refresh_max_ms)
        a->refresh_max_ms = ms;
    return reaction;
}

/* ---- who owns fds 0, 1 and 2 ---- */

/* While the screen is up: fd 0 reads /dev/null, fds 1 and 2 write to a
 * scratch file (shown with the next command's result), curses uses dups of
 * the terminal. A command on a worker can then neither draw over the
 * screen nor take a key from it. */
static void fds_take(struct app *a)
{
    fflush(stdout);
    fflush(stderr);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        close(null);
    }
    if (a->stray_fd >= 0) {
        dup2(a->stray_fd, STDOUT_FILENO);
        dup2(a->stray_fd, STDERR_FILENO);
    }
}

static void fds_give(struct app *a)
{
    fflush(stdout);
    fflush(stderr);
    for (int fd = 0; fd < 3; fd++)
        if (a->saved_fd[fd] >= 0)
            dup2(a->saved_fd[fd], fd);
}

char *app_take_stray(struct app *a)
{
    fflush(stdout);
    fflush(stderr);
    struct stat st;
    if (a->stray_fd < 0 || fstat(a->stray_fd, &st) < 0 || st.st_size <= a->stray_off)
        return NULL;
    size_t len = (size_t)(st.st_size - a->stray_off);
    char *buf = malloc(len + 1);
    ssize_t n = buf ? pread(a->stray_fd, buf, len, a->stray_off) : -1;
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    a->stray_off += n;
    return buf;
}

void app_suspend_screen(struct app *a)
{
    def_prog_mode();
    endwin();
    screen_active = 0;
    fds_give(a);
}

void app_resume_screen(struct app *a)
{
    fds_take(a);
    reset_prog_mode();
    screen_active = 1;
    clearok(curscr, TRUE);
    a->redraw = true;
    a->gv_invalidate = true;
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
        /* Closed fds (-1) are ignored by poll. */
        struct pollfd fds[4] = {{.fd = a->tty_in, .events = POLLIN},
                                {.fd = a->done.pipe[0], .events = POLLIN},
                                {.fd = a->con.fd, .events = POLLIN},
                                {.fd = graphics_fd(a), .events = POLLIN}};
        int n = poll(fds, 4, timeout);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && (fds[1].revents & POLLIN))
            jobs_collect(a);
        if (n > 0 && a->con.fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
            service_console(a);
        if (n > 0 && fds[3].fd >= 0 && (fds[3].revents & POLLIN))
            graphics_service(a);
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
    a->tty_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    a->tty_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    FILE *in = a->tty_in >= 0 ? fdopen(a->tty_in, "r") : NULL;
    FILE *out = a->tty_out >= 0 ? fdopen(a->tty_out, "w") : NULL;
    if (!in || !out)
        return err_errno("cannot open the terminal");
    /* newterm instead of initscr: initscr exits the process on a bad $TERM. */
    if (!newterm(NULL, out, in))
        return err_set("cannot start the screen: unknown terminal type '%s'",
                       getenv("TERM") ? getenv("TERM") : "");
    screen_active = 1;
    /* A terminal that cannot move the cursor (TERM=dumb, emacs' shell)
     * would get only the last line drawn: refuse it plainly. */
    const char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1)
        return err_set("the TUI needs a terminal that can move the cursor, and TERM='%s' "
                       "cannot (set TERM to your terminal's type, or use a verb or --batch)",
                       getenv("TERM") ? getenv("TERM") : "");
    FILE *stray = tmpfile();
    a->stray_fd = stray ? fcntl(fileno(stray), F_DUPFD_CLOEXEC, 3) : -1;
    if (stray)
        fclose(stray);
    for (int fd = 0; fd < 3; fd++)
        a->saved_fd[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    saved_stderr = a->saved_fd[2];
    fds_take(a);
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
    graphics_init(a);
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
    graphics_paint(a);
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
            int r = keys_dispatch(a, key);
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
        if (a->pending_pager) {
            jobs_show_pending(a);
            frame(a, 0, 0);
        }
    }
}

/* The first rows, read here on the UI thread before the screen is up. */
static int first_list(struct app *a)
{
    struct inv_domain *rows = NULL;
    size_t n = 0;
    if (inventory_domains(a->ctx, &rows, &n) < 0)
        return -1;
    int rc = domlist_apply(&a->list, rows, n);
    free(rows);
    return rc < 0 ? -1 : 0;
}

/* Quitting waits for the command in hand: a start cut off half-way would
 * leave a guest nobody recorded. Say so, since it may take a while. */
static void finish_jobs(struct app *a)
{
    if (a->nbusy > 0 && screen_active) {
        app_message(a, false, "waiting for %s to finish", a->busy[0]);
        draw_all(a);
    }
    jobs_stop(a);
}

static void screen_end(struct app *a)
{
    if (screen_active)
        endwin();
    screen_active = 0;
    fds_give(a);
    saved_stderr = -1;
    for (int fd = 0; fd < 3; fd++)
        if (a->saved_fd[fd] >= 0)
            close(a->saved_fd[fd]);
    if (a->stray_fd >= 0)
        close(a->stray_fd);
    a->stray_fd = -1;
    a->saved_fd[0] = a->saved_fd[1] = a->saved_fd[2] = -1;
}

int tui_main(struct cmd_ctx *ctx, const char *theme_name)
{
    struct app *a = &the_app;
    memset(a, 0, sizeof(*a));
    a->ctx = ctx;
    a->tty_in = a->tty_out = a->stray_fd = -1;
    a->saved_fd[0] = a->saved_fd[1] = a->saved_fd[2] = -1;
    a->start_us = now_us();
    a->bench_path = getenv("TVM_TUI_BENCH");
    if (a->bench_path && !*a->bench_path)
        a->bench_path = NULL;
    setlocale(LC_ALL, "");
    a->utf8 = locale_is_utf8();
    console_init(&a->con);

    if (load_theme(&a->theme, theme_name) < 0)
        return 2;
    host_info_read(&a->host);
    if (first_list(a) < 0)
        return 1;
    a->last_refresh_ms = host_now_ms();
    a->det.stale = true;

    atexit(at_exit_restore);
    install_signals();
    /* What the terminal draws pictures with, asked while no one reads its input. */
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
        a->gv_mode = viewer_probe(STDIN_FILENO, STDOUT_FILENO, 300);
    if (screen_start(a) < 0) {
        screen_end(a);
        restore_signals();
        domlist_free(&a->list);
        return 2;
    }
    if (jobs_start(a) < 0) {
        screen_end(a);
        restore_signals();
        domlist_free(&a->list);
        return 1;
    }
    jobs_submit_refresh(a, true); /* reconcile at once, as the first refresh did */
    run_loop(a);
    finish_jobs(a);
    screen_end(a);
    restore_signals();
    if (a->bench_path)
        bench_report(a);
    console_close(&a->con);
    graphics_close(a);
    free(a->con.lines);
    details_free(&a->det);
    storage_free(&a->storage);
    domlist_free(&a->list);
    if (quit_signal == SIGHUP || quit_signal == SIGTERM)
        return 1;
    return 0;
}
