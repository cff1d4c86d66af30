/* The guest's screen and keyboard towards VNC clients and QMP: see display.h. */
#include "display.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "control.h"
#include "core/base/err.h"
#include "core/proto/keymap.h"
#include "core/proto/vmm-protocol.h"
#include "dev/legacy.h"
#include "runfile.h"
#include "sandbox.h"
#include "virtio/virtio.h"
#include "vnc/vnc.h"

#define TEXT_W (VGA_TEXT_COLS * VNC_TEXT_CELL_W)
#define TEXT_H (VGA_TEXT_ROWS * VNC_TEXT_CELL_H)
#define MAX_HELD 16
#define DEFAULT_HOLD_MS 100 /* QEMU's send-key default */

struct display {
    struct vm *vm;
    struct loop *loop;
    struct i8042 *kbd;
    struct virtio_dev *pointer, *keyboard; /* virtio-input, NULL if none */
    struct vga *vga;
    bool text;
    struct vnc_server *vnc;
    char rundir[PATH_MAX];

    /* Text mode rendered for VNC and screendump (the VNC thread and the
     * main loop both render: the lock keeps one at a time). */
    pthread_mutex_t lock;
    uint8_t *text_fb;
    struct vga_text shown;
    bool shown_valid;

    /* send-key: keys held until the timer releases them */
    int timer_fd;
    unsigned held[MAX_HELD], nheld;
};

static struct display *qmp_display;

/* ---- rendering ---- */

typedef void (*rows_fn)(void *opaque, unsigned y0, unsigned y1);

/* Draws the text rows that differ from what was drawn last; with LOCK held. */
static void render_text(struct display *d, rows_fn changed, void *opaque)
{
    struct vga_text t;
    vga_text_read(d->vga, &t);
    bool all = !d->shown_valid || memcmp(t.palette, d->shown.palette, sizeof t.palette) ||
               t.cursor_start != d->shown.cursor_start || t.cursor_end != d->shown.cursor_end;
    int old_cursor_row = d->shown_valid && d->shown.cursor >= 0 ? d->shown.cursor / VGA_TEXT_COLS : -1;
    int cursor_row = t.cursor >= 0 ? t.cursor / VGA_TEXT_COLS : -1;
    for (unsigned r = 0; r < VGA_TEXT_ROWS; r++) {
        const uint16_t *row = t.cells + r * VGA_TEXT_COLS;
        bool dirty = all || (int)r == cursor_row || (int)r == old_cursor_row ||
                     memcmp(row, d->shown.cells + r * VGA_TEXT_COLS, VGA_TEXT_COLS * 2) != 0;
        if (!dirty)
            continue;
        for (unsigned c = 0; c < VGA_TEXT_COLS; c++)
            vnc_text_cell(d->text_fb, TEXT_W * 4, c, r, row[c], t.palette,
                          t.cursor == (int)(r * VGA_TEXT_COLS + c), t.cursor_start,
                          t.cursor_end);
        if (changed)
            changed(opaque, r * VNC_TEXT_CELL_H, (r + 1) * VNC_TEXT_CELL_H);
    }
    d->shown = t;
    d->shown_valid = true;
}

static void damage(void *opaque, unsigned y0, unsigned y1)
{
    vnc_damage(opaque, y0, y1);
}

static void vnc_refresh(void *opaque, struct vnc_server *s)
{
    struct display *d = opaque;
    if (d->text) {
        pthread_mutex_lock(&d->lock);
        render_text(d, damage, s);
        pthread_mutex_unlock(&d->lock);
    } else {
        vga_fb_changed(d->vga, damage, s);
    }
}

static void vnc_key(void *opaque, unsigned qnum, bool down)
{
    struct display *d = opaque;
    const struct keymap_key *k = d->keyboard ? keymap_by_qnum(qnum) : NULL;
    if (k && virtio_input_key(d->keyboard, k->linux_code, down))
        return;
    if (i8042_key(d->kbd, qnum, down) < 0)
        err_clear(); /* the guest's keyboard is off or full: the key is lost, as on hardware */
}

static void vnc_pointer(void *opaque, unsigned x, unsigned y, unsigned buttons)
{
    struct display *d = opaque;
    if (!d->pointer)
        return;
    unsigned w = 0, h = 0, stride;
    if (d->text)
        w = TEXT_W, h = TEXT_H;
    else
        vga_framebuffer(d->vga, &w, &h, &stride);
    struct virtio_input_pointer p = {.x = x, .y = y, .width = w, .height = h, .buttons = buttons};
    virtio_input_pointer(d->pointer, &p);
}

static const struct vnc_ops vnc_ops = {
    .refresh = vnc_refresh, .key = vnc_key, .pointer = vnc_pointer};

/* ---- QMP ---- */

static void release_held(struct display *d)
{
    /* in reverse order, as a person lets go of Ctrl-Alt-Del */
    while (d->nheld)
        vnc_key(d, d->held[--d->nheld], false);
    struct itimerspec off = {{0, 0}, {0, 0}};
    timerfd_settime(d->timer_fd, 0, &off, NULL);
}

static void timer_ready(void *opaque, uint32_t events)
{
    struct display *d = opaque;
    uint64_t n;
    (void)events;
    if (read(d->timer_fd, &n, sizeof n) < 0)
        (void)0; /* spurious: the keys are released all the same */
    release_held(d);
}

/* QEMU's qcode names for the keys whose name differs from Linux's. */
static int qcode_qnum(const char *q, unsigned *qnum)
{
    static const struct {
        const char *qcode, *linux_name;
    } alias[] = {
        {"ctrl", "LEFTCTRL"},   {"ctrl_r", "RIGHTCTRL"}, {"alt", "LEFTALT"},
        {"alt_r", "RIGHTALT"},  {"shift", "LEFTSHIFT"},  {"shift_r", "RIGHTSHIFT"},
        {"ret", "ENTER"},       {"spc", "SPACE"},        {"meta_l", "LEFTMETA"},
        {"meta_r", "RIGHTMETA"}, {"caps_lock", "CAPSLOCK"}, {"bracket_left", "LEFTBRACE"},
        {"bracket_right", "RIGHTBRACE"}, {"print", "SYSRQ"}, {"pgup", "PAGEUP"},
        {"pgdn", "PAGEDOWN"}, {"kp_enter", "KPENTER"}, {"kp_divide", "KPSLASH"},
        {"kp_multiply", "KPASTERISK"}, {"kp_subtract", "KPMINUS"}, {"kp_add", "KPPLUS"},
        {"kp_decimal", "KPDOT"}, {"less", "102ND"}, {"menu", "COMPOSE"},
    };
    const char *name = q;
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (!strcmp(alias[i].qcode, q))
            name = alias[i].linux_name;
    const struct keymap_key *k = keymap_by_name(name);
    if (!k || !strncmp(q, "KEY_", 4))
        return err_set("Parameter 'keys.data' does not accept value '%s'", q);
    *qnum = k->qnum;
    return 0;
}

static int qmp_send_key(struct json_object *args, struct json_object **ret)
{
    struct display *d = qmp_display;
    (void)ret;
    struct json_object *keys, *hold;
    if (!d)
        return err_set("the guest has no keyboard");
    if (!json_object_object_get_ex(args, "keys", &keys) ||
        !json_object_is_type(keys, json_type_array))
        return err_set("Parameter 'keys' is missing");
    size_t n = json_object_array_length(keys);
    if (n == 0 || n > MAX_HELD)
        return err_set("send-key: between 1 and %d keys", MAX_HELD);
    int64_t hold_ms = DEFAULT_HOLD_MS;
    if (json_object_object_get_ex(args, "hold-time", &hold)) {
        hold_ms = json_object_get_int64(hold);
        if (!json_object_is_type(hold, json_type_int) || hold_ms < 0 || hold_ms > 60000)
            return err_set("send-key: 'hold-time' must be 0-60000 ms");
    }
    unsigned q[MAX_HELD];
    for (size_t i = 0; i < n; i++) {
        struct json_object *k = json_object_array_get_idx(keys, i), *type, *data;
        if (!json_object_object_get_ex(k, "type", &type) ||
            !json_object_object_get_ex(k, "data", &data))
            return err_set("send-key: each key is {\"type\": \"number\"|\"qcode\", \"data\": ...}");
        const char *t = json_object_get_string(type);
        if (!strcmp(t, "number")) {
            int64_t v = json_object_get_int64(data);
            if (!json_object_is_type(data, json_type_int) || v < 0 || v > 0xFF ||
                (!keymap_by_qnum((unsigned)v) && v != KEYMAP_QNUM_PAUSE))
                return err_set("send-key: no key has number %s", json_object_get_string(data));
            q[i] = (unsigned)v;
        } else if (!strcmp(t, "qcode")) {
            if (qcode_qnum(json_object_get_string(data), &q[i]) < 0)
                return -1;
        } else {
            return err_set("Parameter 'keys.type' does not accept value '%s'", t);
        }
    }
    release_held(d); /* an earlier send-key still holding its keys lets go first */
    for (size_t i = 0; i < n; i++) {
        vnc_key(d, q[i], true);
        d->held[d->nheld++] = q[i];
    }
    if (hold_ms == 0) {
        release_held(d);
        return 0;
    }
    struct itimerspec at = {{0, 0}, {hold_ms / 1000, (hold_ms % 1000) * 1000000}};
    if (timerfd_settime(d->timer_fd, 0, &at, NULL) < 0) {
        release_held(d);
        return err_errno("send-key: timer");
    }
    return 0;
}

/* P6 PPM of what a VNC client sees now. */
static int write_ppm(struct display *d, int fd)
{
    unsigned w, h, stride;
    const uint8_t *px;
    if (d->text) {
        pthread_mutex_lock(&d->lock);
        render_text(d, NULL, NULL);
        w = TEXT_W, h = TEXT_H, stride = TEXT_W * 4;
        px = d->text_fb;
    } else {
        px = vga_framebuffer(d->vga, &w, &h, &stride);
    }
    FILE *f = fdopen(fd, "w");
    int rc = 0;
    if (!f) {
        rc = err_errno("screendump");
        close(fd);
    } else {
        fprintf(f, "P6\n%u %u\n255\n", w, h);
        uint8_t *row = malloc((size_t)w * 3);
        for (unsigned y = 0; row && y < h; y++) {
            const uint32_t *src = (const uint32_t *)(px + (size_t)y * stride);
            for (unsigned x = 0; x < w; x++) {
                uint32_t v = src[x];
                row[3 * x] = (uint8_t)(v >> 16);
                row[3 * x + 1] = (uint8_t)(v >> 8);
                row[3 * x + 2] = (uint8_t)v;
            }
            fwrite(row, 3, w, f);
        }
        if (!row)
            rc = err_set("out of memory");
        free(row);
        if (fclose(f) != 0 && rc == 0)
            rc = err_errno("screendump");
    }
    if (d->text)
        pthread_mutex_unlock(&d->lock);
    return rc;
}

static int qmp_screendump(struct json_object *args, struct json_object **ret)
{
    struct display *d = qmp_display;
    (void)ret;
    struct json_object *fn, *fmt;
    if (!d || !d->vga)
        return err_set("no display device (the domain has no <video>)");
    if (!json_object_object_get_ex(args, "filename", &fn) ||
        !json_object_is_type(fn, json_type_string))
        return err_set("Parameter 'filename' is missing");
    if (json_object_object_get_ex(args, "format", &fmt) &&
        strcmp(json_object_get_string(fmt), "ppm"))
        return err_set("screendump: only format 'ppm' (tvm converts to PNG itself)");
    const char *name = json_object_get_string(fn);
    /* A plain name lands in the run directory (all the sandbox may write);
     * nothing that climbs out of it. */
    if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return err_set("screendump: '%s': give a file name in the run directory", name);
    int dfd = sandbox_rundir_fd();
    int fd = dfd >= 0 ? openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)
                      : -1;
    if (dfd < 0) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", d->rundir, name) >= (int)sizeof path)
            return err_set("screendump: %s: path too long", name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0)
        return err_errno("screendump: %s", name);
    return write_ppm(d, fd);
}

static int qmp_query_vnc(struct json_object *args, struct json_object **ret)
{
    struct display *d = qmp_display;
    (void)args;
    struct json_object *o = json_object_new_object();
    if (!d) {
        json_object_object_add(o, "enabled", json_object_new_boolean(false));
        *ret = o;
        return 0;
    }
    json_object_object_add(o, "enabled", json_object_new_boolean(d->vnc != NULL));
    if (d->vnc && vnc_port(d->vnc) >= 0) {
        char port[16];
        snprintf(port, sizeof port, "%d", vnc_port(d->vnc));
        const char *host = vnc_listen(d->vnc);
        json_object_object_add(o, "host", json_object_new_string(host));
        json_object_object_add(o, "service", json_object_new_string(port));
        json_object_object_add(o, "family",
                               json_object_new_string(strchr(host, ':') ? "ipv6" : "ipv4"));
    }
    if (d->vnc) {
        json_object_object_add(o, "unix", json_object_new_string(VMM_SOCK_VNC));
        json_object_object_add(o, "clients", json_object_new_int((int)vnc_clients(d->vnc)));
    }
    *ret = o;
    return 0;
}

/* add_client {"protocol": "vnc", "fdname": NAME, "skipauth": BOOL, "tls":
 * BOOL}, as QEMU has it: the socket a getfd named becomes a VNC client. */
static int qmp_add_client(struct json_object *args, struct json_object **ret)
{
    struct display *d = qmp_display;
    (void)ret;
    struct json_object *protocol, *fdname, *skipauth = NULL, *tls = NULL;
    if (!json_object_object_get_ex(args, "protocol", &protocol) ||
        !json_object_is_type(protocol, json_type_string))
        return err_set("Parameter 'protocol' is missing");
    if (!json_object_object_get_ex(args, "fdname", &fdname) ||
        !json_object_is_type(fdname, json_type_string))
        return err_set("Parameter 'fdname' is missing");
    json_object_object_foreach(args, key, val) {
        (void)val;
        if (strcmp(key, "protocol") && strcmp(key, "fdname") && strcmp(key, "skipauth") &&
            strcmp(key, "tls"))
            return err_set("Parameter '%s' is unexpected", key);
    }
    if ((json_object_object_get_ex(args, "skipauth", &skipauth) &&
         !json_object_is_type(skipauth, json_type_boolean)) ||
        (json_object_object_get_ex(args, "tls", &tls) &&
         !json_object_is_type(tls, json_type_boolean)))
        return err_set("Parameters 'skipauth' and 'tls' are booleans");
    if (strcmp(json_object_get_string(protocol), "vnc"))
        return err_set("protocol '%s' is invalid", json_object_get_string(protocol));
    if (tls && json_object_get_boolean(tls))
        return err_set("add_client: tvm-vmm's VNC server has no TLS");
    if (!d || !d->vnc)
        return err_set("add_client: no VNC server (the domain has no <video>)");
    int fd = control_take_fd(json_object_get_string(fdname));
    if (fd < 0)
        return -1;
    return vnc_add_client(d->vnc, fd, skipauth && json_object_get_boolean(skipauth));
}

/* Text mode as text, for viewers that draw it as characters (the TUI):
 * code page 437's printable ASCII as is, line drawing as + - |, the rest
 * as spaces. */
static int qmp_query_screen(struct json_object *args, struct json_object **ret)
{
    struct display *d = qmp_display;
    (void)args;
    if (!d || !d->vga)
        return err_set("no display device (the domain has no <video>)");
    struct json_object *o = json_object_new_object();
    if (!d->text) {
        unsigned w, h, stride;
        vga_framebuffer(d->vga, &w, &h, &stride);
        json_object_object_add(o, "mode", json_object_new_string("graphics"));
        json_object_object_add(o, "width", json_object_new_int((int)w));
        json_object_object_add(o, "height", json_object_new_int((int)h));
        *ret = o;
        return 0;
    }
    struct vga_text t;
    vga_text_read(d->vga, &t);
    json_object_object_add(o, "mode", json_object_new_string("text"));
    json_object_object_add(o, "cols", json_object_new_int(VGA_TEXT_COLS));
    json_object_object_add(o, "rows", json_object_new_int(VGA_TEXT_ROWS));
    json_object_object_add(o, "cursor", json_object_new_int(t.cursor));
    struct json_object *lines = json_object_new_array();
    for (unsigned r = 0; r < VGA_TEXT_ROWS; r++) {
        char line[VGA_TEXT_COLS + 1];
        for (unsigned c = 0; c < VGA_TEXT_COLS; c++) {
            uint8_t ch = (uint8_t)t.cells[r * VGA_TEXT_COLS + c];
            line[c] = ch >= 0x20 && ch < 0x7F ? (char)ch
                      : ch == 0xC4             ? '-'
                      : ch == 0xB3             ? '|'
                      : (ch >= 0xB4 && ch <= 0xDA) ? '+'
                                                   : ' ';
        }
        line[VGA_TEXT_COLS] = '\0';
        json_object_array_add(lines, json_object_new_string(line));
    }
    json_object_object_add(o, "lines", lines);
    *ret = o;
    return 0;
}

static int register_qmp(void)
{
    static bool done;
    if (done)
        return 0;
    if (control_register("send-key", qmp_send_key) < 0 ||
        control_register("screendump", qmp_screendump) < 0 ||
        control_register("query-vnc", qmp_query_vnc) < 0 ||
        control_register("add_client", qmp_add_client) < 0 ||
        control_register("x-tvm-query-screen", qmp_query_screen) < 0)
        return err_prefix("display: ");
    done = true;
    return 0;
}

/* ---- life ---- */

/* VMM_FILE_GRAPHICS (vmm-protocol.h): the port autoport chose, for tvm's
 * live XML and the TUI, without a QMP round trip. */
static int write_graphics(const struct display *d, int index)
{
    char line[128];
    snprintf(line, sizeof line, "%d %d %s\n", index, vnc_port(d->vnc), vnc_listen(d->vnc));
    return runfile_write(d->rundir, VMM_FILE_GRAPHICS, line);
}

struct display *display_new(struct vm *vm, const struct display_config *c)
{
    struct display *d = calloc(1, sizeof *d);
    if (!d) {
        err_set("out of memory");
        return NULL;
    }
    d->vm = vm;
    d->loop = c->loop;
    d->kbd = c->kbd;
    d->pointer = c->tablet ? c->tablet : c->mouse;
    d->keyboard = c->keyboard;
    d->timer_fd = -1;
    pthread_mutex_init(&d->lock, NULL);
    snprintf(d->rundir, sizeof d->rundir, "%s", c->rundir ? c->rundir : ".");
    d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->timer_fd < 0 || loop_add(d->loop, d->timer_fd, EPOLLIN, timer_ready, d) < 0) {
        if (d->timer_fd < 0)
            err_errno("display: timerfd");
        goto fail;
    }
    qmp_display = d;
    if (register_qmp() < 0)
        goto fail;
    if (!c->pci)
        return d; /* a keyboard for send-key, no screen */
    d->vga = vga_new(vm, c->pci, &c->vga);
    if (!d->vga)
        goto fail;
    d->text = c->vga.text;
    void *fb;
    unsigned w, h, stride;
    if (d->text) {
        d->text_fb = calloc(TEXT_W * TEXT_H, 4);
        if (!d->text_fb) {
            err_set("out of memory");
            goto fail;
        }
        fb = d->text_fb, w = TEXT_W, h = TEXT_H, stride = TEXT_W * 4;
    } else {
        fb = vga_framebuffer(d->vga, &w, &h, &stride);
    }
    char sock[PATH_MAX];
    if (snprintf(sock, sizeof sock, "%s/%s", d->rundir, VMM_SOCK_VNC) >= (int)sizeof sock) {
        err_set("%s: path too long", d->rundir);
        goto fail;
    }
    struct vnc_config vc = {
        .unix_path = sock,
        .listen = c->vnc_tcp ? (c->listen && *c->listen ? c->listen : "127.0.0.1") : NULL,
        .port = c->port,
        .password = c->passwd,
        .name = c->name,
        .framebuffer = fb,
        .width = w,
        .height = h,
        .stride = stride,
        .ops = &vnc_ops,
        .opaque = d,
    };
    d->vnc = vnc_new(&vc);
    if (!d->vnc || vnc_start(d->vnc) < 0)
        goto fail;
    if (vnc_port(d->vnc) >= 0) {
        fprintf(stderr, "tvm-vmm: VNC on %s port %d (display :%d) and %s\n", vnc_listen(d->vnc),
                vnc_port(d->vnc), vnc_port(d->vnc) - 5900, VMM_SOCK_VNC);
        if (write_graphics(d, c->graphics_index) < 0)
            goto fail;
    }
    return d;
fail:
    display_free(d);
    return NULL;
}

const struct vm_screen *vga_screen_of(struct display *d)
{
    return d && d->vga ? vga_screen(d->vga) : NULL;
}

void display_free(struct display *d)
{
    if (!d)
        return;
    bool had_vnc = d->vnc != NULL;
    vnc_free(d->vnc); /* the thread stops before the buffers go */
    if (had_vnc) {
        /* vnc_free's own unlink cannot reach the run directory once the
         * sandbox has dropped the privileges that walk to it. */
        char sock[PATH_MAX];
        if (snprintf(sock, sizeof sock, "%s/%s", d->rundir, VMM_SOCK_VNC) < (int)sizeof sock)
            sandbox_unlink(sock);
        /* the port is free again: its note goes too */
        if (snprintf(sock, sizeof sock, "%s/%s", d->rundir, VMM_FILE_GRAPHICS) < (int)sizeof sock)
            sandbox_unlink(sock);
    }
    if (d->timer_fd >= 0) {
        loop_del(d->loop, d->timer_fd);
        close(d->timer_fd);
    }
    if (qmp_display == d)
        qmp_display = NULL;
    free(d->text_fb);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
