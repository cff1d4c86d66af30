/* The viewer's VNC client (see viewer.h): one thread owns the rfbClient,
 * its socket and the QMP connection; the caller's thread sees only the
 * state below, under the lock, and is woken through a pipe. Keys go the
 * other way through a queue the client's thread sends from, so the
 * caller never writes to the socket and never waits for it. */
#include "viewer/viewer.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/base/paths.h"
#include "core/model/domain.h"
#include "core/proto/qmp-client.h"
#include "core/proto/vmm-protocol.h"

#define KEYQ 16384 /* queued key events: a paste of 8000 characters */
#define QMP_TIMEOUT_MS 1000
#define POLL_MS 500

struct viewer {
    char sock_path[PATH_MAX], qmp_path[PATH_MAX];
    char password[64];
    bool has_password;
    bool handed; /* the connection came by add_client, not vnc.sock */
    pthread_t thread;
    bool thread_started;
    int wake[2];   /* caller -> client thread: keys queued, or stop */
    int notify[2]; /* client thread -> caller: something changed */

    pthread_mutex_t lock; /* everything below */
    bool stop, connected, ended, changed;
    char status[256];
    bool text;
    unsigned width, height;
    uint8_t *pixels; /* RGBA copy of the framebuffer */
    unsigned dirty_y0, dirty_y1;
    struct viewer_text cells;
    uint32_t keyq[KEYQ]; /* keysym | KEY_DOWN */
    unsigned keyq_head, keyq_len;

    /* the client thread's own */
    unsigned pend_y0, pend_y1;
    struct qmp *qmp;
};

#define KEY_DOWN 0x80000000u
static int client_tag;
static __thread char client_error[256];

static void quiet_log(const char *fmt, ...)
{
    (void)fmt;
}

/* libvncclient's errors: the last one is kept for the status line. */
static void keep_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(client_error, sizeof client_error, fmt, ap);
    va_end(ap);
    size_t n = strlen(client_error);
    while (n && (client_error[n - 1] == '\n' || client_error[n - 1] == ' '))
        client_error[--n] = '\0';
}

static void wake_caller(struct viewer *v)
{
    char b = 1;
    if (write(v->notify[1], &b, 1) < 0 && errno != EAGAIN)
        return; /* the caller is gone; nothing to tell */
}

static void set_status(struct viewer *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->status, sizeof v->status, fmt, ap);
    va_end(ap);
    v->changed = true;
}

/* ---- the guest's password, from the definition it runs with ---- */

static void read_password(struct viewer *v, const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, VMM_FILE_DOMAIN);
    FILE *f = fopen(path, "re");
    if (!f)
        return; /* no definition: the server will say if it wants one */
    char *xml = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&xml, &len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    fclose(f);
    if (mem)
        fclose(mem);
    struct domain *d = NULL;
    if (xml && domain_parse(xml, len, path, &d) == 0) {
        for (size_t i = 0; i < d->ngraphics; i++)
            if (d->graphics[i].type && !strcmp(d->graphics[i].type, "vnc") &&
                d->graphics[i].passwd) {
                snprintf(v->password, sizeof v->password, "%s", d->graphics[i].passwd);
                v->has_password = true;
            }
        domain_free(d);
    }
    err_clear();
    free(xml);
}

/* ---- libvncclient callbacks (client thread) ---- */

static struct viewer *of(rfbClient *cl)
{
    return rfbClientGetClientData(cl, &client_tag);
}

static char *get_password(rfbClient *cl)
{
    struct viewer *v = of(cl);
    return strdup(v->has_password ? v->password : "");
}

static rfbBool alloc_framebuffer(rfbClient *cl)
{
    struct viewer *v = of(cl);
    size_t size = (size_t)cl->width * cl->height * 4;
    free(cl->frameBuffer);
    cl->frameBuffer = calloc(1, size ? size : 4);
    uint8_t *copy = calloc(1, size ? size : 4);
    if (!cl->frameBuffer || !copy) {
        free(copy);
        return FALSE;
    }
    pthread_mutex_lock(&v->lock);
    free(v->pixels);
    v->pixels = copy;
    v->width = (unsigned)cl->width;
    v->height = (unsigned)cl->height;
    v->dirty_y0 = 0;
    v->dirty_y1 = v->height;
    v->changed = true;
    pthread_mutex_unlock(&v->lock);
    v->pend_y0 = UINT_MAX;
    v->pend_y1 = 0;
    return TRUE;
}

static void got_update(rfbClient *cl, int x, int y, int w, int h)
{
    struct viewer *v = of(cl);
    (void)x;
    (void)w;
    if (y < 0 || h <= 0)
        return;
    if ((unsigned)y < v->pend_y0)
        v->pend_y0 = (unsigned)y;
    if ((unsigned)(y + h) > v->pend_y1)
        v->pend_y1 = (unsigned)(y + h);
}

/* The VGA palette's 16 colours; a cell's colour is the nearest of them. */
static const uint8_t vga_rgb[16][3] = {
    {0, 0, 0},     {0, 0, 170},     {0, 170, 0},    {0, 170, 170},   {170, 0, 0},   {170, 0, 170},
    {170, 85, 0},  {170, 170, 170}, {85, 85, 85},   {85, 85, 255},   {85, 255, 85}, {85, 255, 255},
    {255, 85, 85}, {255, 85, 255},  {255, 255, 85}, {255, 255, 255},
};

static uint8_t nearest_vga(const uint8_t *px)
{
    unsigned best = 0, best_d = UINT_MAX;
    for (unsigned i = 0; i < 16; i++) {
        int dr = px[0] - vga_rgb[i][0], dg = px[1] - vga_rgb[i][1], db = px[2] - vga_rgb[i][2];
        unsigned d = (unsigned)(dr * dr + dg * dg + db * db);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return (uint8_t)best;
}

/* A text cell's colours from its 8x16 pixels: the commoner colour is the
 * background, the other the foreground (light grey when the cell is one
 * colour). With LOCK held. */
static void cell_colours(struct viewer *v, unsigned row, unsigned col)
{
    const unsigned cw = 8, ch = 16;
    uint8_t *fg = &v->cells.fg[row][col], *bg = &v->cells.bg[row][col];
    if ((col + 1) * cw > v->width || (row + 1) * ch > v->height) {
        *fg = 7;
        *bg = 0;
        return;
    }
    const uint8_t *first = v->pixels + ((size_t)row * ch * v->width + col * cw) * 4, *other = NULL;
    unsigned n_first = 0, n_other = 0;
    for (unsigned y = 0; y < ch; y++)
        for (unsigned x = 0; x < cw; x++) {
            const uint8_t *px = v->pixels + (((size_t)row * ch + y) * v->width + col * cw + x) * 4;
            if (!memcmp(px, first, 3))
                n_first++;
            else {
                other = other ? other : px;
                n_other++;
            }
        }
    const uint8_t *b = n_first >= n_other ? first : other, *f = n_first >= n_other ? other : first;
    *bg = nearest_vga(b);
    *fg = f ? nearest_vga(f) : (*bg == 7 ? 0 : 7);
}

/* Text mode: the characters from the VMM. -1 when it did not answer. */
static int query_text(struct viewer *v)
{
    if (!v->qmp && qmp_open(v->qmp_path, QMP_TIMEOUT_MS, &v->qmp) < 0)
        return -1;
    char *reply = NULL;
    if (qmp_execute(v->qmp, "x-tvm-query-screen", NULL, &reply) < 0) {
        qmp_close(v->qmp);
        v->qmp = NULL;
        return -1;
    }
    struct json_object *o = json_tokener_parse(reply), *lines, *cur;
    free(reply);
    if (!o || !json_object_object_get_ex(o, "lines", &lines) ||
        !json_object_is_type(lines, json_type_array)) {
        json_object_put(o);
        return -1;
    }
    pthread_mutex_lock(&v->lock);
    memset(v->cells.chars, ' ', sizeof v->cells.chars);
    size_t n = json_object_array_length(lines);
    for (size_t r = 0; r < n && r < VIEWER_TEXT_ROWS; r++) {
        const char *s = json_object_get_string(json_object_array_get_idx(lines, r));
        for (size_t c = 0; s && s[c] && c < VIEWER_TEXT_COLS; c++)
            v->cells.chars[r][c] = s[c];
    }
    v->cells.cursor = json_object_object_get_ex(o, "cursor", &cur) ? json_object_get_int(cur) : -1;
    if (v->cells.cursor >= VIEWER_TEXT_ROWS * VIEWER_TEXT_COLS)
        v->cells.cursor = -1;
    for (unsigned r = 0; r < VIEWER_TEXT_ROWS; r++)
        for (unsigned c = 0; c < VIEWER_TEXT_COLS; c++)
            cell_colours(v, r, c);
    v->changed = true;
    pthread_mutex_unlock(&v->lock);
    json_object_put(o);
    return 0;
}

static void finished_update(rfbClient *cl)
{
    struct viewer *v = of(cl);
    if (v->pend_y1 <= v->pend_y0)
        return;
    pthread_mutex_lock(&v->lock);
    unsigned y1 = v->pend_y1 < v->height ? v->pend_y1 : v->height;
    size_t row = (size_t)v->width * 4;
    for (unsigned y = v->pend_y0; y < y1; y++) {
        const uint8_t *src = cl->frameBuffer + y * row;
        uint8_t *dst = v->pixels + y * row;
        memcpy(dst, src, row);
        for (size_t i = 3; i < row; i += 4)
            dst[i] = 0xff; /* VNC's padding byte is no alpha */
    }
    if (v->dirty_y1 <= v->dirty_y0) {
        v->dirty_y0 = v->pend_y0;
        v->dirty_y1 = y1;
    } else {
        v->dirty_y0 = v->pend_y0 < v->dirty_y0 ? v->pend_y0 : v->dirty_y0;
        v->dirty_y1 = y1 > v->dirty_y1 ? y1 : v->dirty_y1;
    }
    v->changed = true;
    bool text = v->text;
    pthread_mutex_unlock(&v->lock);
    v->pend_y0 = UINT_MAX;
    v->pend_y1 = 0;
    if (text && query_text(v) < 0) {
        pthread_mutex_lock(&v->lock);
        v->text = false; /* the picture of the text, rather than nothing */
        set_status(v, "framebuffer %ux%u (text mode, but the VMM did not say the characters: %s)",
                   v->width, v->height, err_msg());
        pthread_mutex_unlock(&v->lock);
    }
    wake_caller(v);
}

/* ---- the client thread ---- */

/* Whether the VMM shows VGA text (its characters are then asked for). */
static bool vmm_in_text_mode(struct viewer *v)
{
    char *reply = NULL;
    if (qmp_open(v->qmp_path, QMP_TIMEOUT_MS, &v->qmp) < 0 ||
        qmp_execute(v->qmp, "x-tvm-query-screen", NULL, &reply) < 0) {
        err_clear();
        return false;
    }
    struct json_object *o = reply ? json_tokener_parse(reply) : NULL, *mode;
    free(reply);
    bool text = o && json_object_object_get_ex(o, "mode", &mode) &&
                !strcmp(json_object_get_string(mode), "text");
    json_object_put(o);
    return text;
}

/* A connection without a listener, as QEMU's clients get one: one end of
 * a socketpair goes to the VMM by getfd and becomes its VNC client by
 * add_client; the other end is returned. -1 (err_msg() set) when the VMM
 * does not take it: the caller uses vnc.sock then. skipauth: tvm already
 * holds the control socket, which can do more than the screen can. */
static int handed_socket(struct viewer *v)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return err_errno("viewer: socketpair");
    if ((!v->qmp && qmp_open(v->qmp_path, QMP_TIMEOUT_MS, &v->qmp) < 0) ||
        qmp_getfd(v->qmp, "tvm-viewer", sv[1]) < 0 ||
        qmp_execute(v->qmp, "add_client",
                    "{\"protocol\": \"vnc\", \"fdname\": \"tvm-viewer\", \"skipauth\": true}",
                    NULL) < 0) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    close(sv[1]);
    return sv[0];
}

static void send_keys(struct viewer *v, rfbClient *cl)
{
    for (;;) {
        pthread_mutex_lock(&v->lock);
        if (!v->keyq_len) {
            pthread_mutex_unlock(&v->lock);
            return;
        }
        uint32_t k = v->keyq[v->keyq_head];
        v->keyq_head = (v->keyq_head + 1) % KEYQ;
        v->keyq_len--;
        pthread_mutex_unlock(&v->lock);
        SendKeyEvent(cl, k & ~KEY_DOWN, (k & KEY_DOWN) ? TRUE : FALSE);
    }
}

static void end(struct viewer *v, const char *why)
{
    pthread_mutex_lock(&v->lock);
    v->ended = true;
    set_status(v, "%s", why);
    pthread_mutex_unlock(&v->lock);
    wake_caller(v);
}

static void *client_main(void *arg)
{
    struct viewer *v = arg;
    bool text = vmm_in_text_mode(v);
    rfbClient *cl = rfbGetClient(8, 3, 4);
    if (!cl) {
        end(v, "out of memory");
        return NULL;
    }
    rfbClientSetClientData(cl, &client_tag, v);
    int handed = handed_socket(v);
    if (handed >= 0) {
        /* connected already: libvncclient skips its own connect, as after -listen */
        cl->sock = handed;
        cl->listenSpecified = TRUE;
        SetNonBlocking(handed);
    } else {
        err_clear();
        free(cl->serverHost);                  /* rfbGetClient's "" */
        cl->serverHost = strdup(v->sock_path); /* a path: libvncclient connects to the unix socket */
    }
    v->handed = handed >= 0;
    cl->GetPassword = get_password;
    cl->MallocFrameBuffer = alloc_framebuffer;
    cl->GotFrameBufferUpdate = got_update;
    cl->FinishedFrameBufferUpdate = finished_update;
    cl->canHandleNewFBSize = TRUE;
    cl->appData.encodingsString = "raw"; /* a local socket: no compression to pay for */
    /* The pointer's shape comes apart (and is not drawn): otherwise the
     * server paints its cursor into the picture's top-left corner. */
    cl->appData.useRemoteCursor = TRUE;
    v->pend_y0 = UINT_MAX;
    pthread_mutex_lock(&v->lock);
    v->text = text;
    pthread_mutex_unlock(&v->lock);
    if (!rfbInitClient(cl, NULL, NULL)) { /* it freed cl */
        char why[PATH_MAX + 320];
        snprintf(why, sizeof why, "cannot open the guest's screen (%s): %s",
                 v->handed ? "a socket handed over by QMP add_client" : v->sock_path,
                 client_error[0] ? client_error : "connection refused");
        end(v, why);
        return NULL;
    }
    pthread_mutex_lock(&v->lock);
    v->connected = true;
    if (v->text)
        set_status(v, "text %dx%d", VIEWER_TEXT_COLS, VIEWER_TEXT_ROWS);
    else
        set_status(v, "framebuffer %dx%d", cl->width, cl->height);
    pthread_mutex_unlock(&v->lock);
    wake_caller(v);
    for (;;) {
        pthread_mutex_lock(&v->lock);
        bool stop = v->stop;
        pthread_mutex_unlock(&v->lock);
        if (stop)
            break;
        send_keys(v, cl);
        if (!cl->buffered) {
            struct pollfd p[2] = {{.fd = cl->sock, .events = POLLIN},
                                  {.fd = v->wake[0], .events = POLLIN}};
            if (poll(p, 2, POLL_MS) < 0 && errno != EINTR)
                break;
            if (p[1].revents & POLLIN) {
                char buf[64];
                while (read(v->wake[0], buf, sizeof buf) > 0)
                    ;
            }
            if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
        }
        if (!HandleRFBServerMessage(cl)) {
            end(v, "the guest's screen closed (the guest stopped?)");
            break;
        }
    }
    free(cl->frameBuffer);
    cl->frameBuffer = NULL;
    /* The pointer's shape: libvncclient 0.9.14's cleanup leaves it. */
    free(cl->rcSource);
    free(cl->rcMask);
    cl->rcSource = cl->rcMask = NULL;
    rfbClientCleanup(cl);
    if (v->qmp)
        qmp_close(v->qmp);
    v->qmp = NULL;
    return NULL;
}

/* ---- the caller's side ---- */

struct viewer *viewer_open(const char *uuid)
{
    struct viewer *v = calloc(1, sizeof *v);
    if (!v) {
        err_set("out of memory");
        return NULL;
    }
    v->wake[0] = v->wake[1] = v->notify[0] = v->notify[1] = -1;
    pthread_mutex_init(&v->lock, NULL);
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/%s", paths_rundir(), uuid) >= (int)sizeof dir ||
        snprintf(v->sock_path, sizeof v->sock_path, "%s/%s", dir, VMM_SOCK_VNC) >=
            (int)sizeof(((struct sockaddr_un *)0)->sun_path) ||
        snprintf(v->qmp_path, sizeof v->qmp_path, "%s/%s", dir, VMM_SOCK_CONTROL) >=
            (int)sizeof v->qmp_path) {
        err_set("the guest's run directory %s is too long a path for its sockets", dir);
        goto fail;
    }
    if (access(v->sock_path, F_OK) < 0) {
        err_set("the guest has no screen socket %s (is it running?)", v->sock_path);
        goto fail;
    }
    read_password(v, dir);
    if (pipe2(v->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
        pipe2(v->notify, O_CLOEXEC | O_NONBLOCK) < 0) {
        err_errno("viewer: pipe");
        goto fail;
    }
    snprintf(v->status, sizeof v->status, "connecting to the guest's screen");
    v->cells.cursor = -1;
    rfbClientLog = quiet_log;
    rfbClientErr = keep_error;
    if (pthread_create(&v->thread, NULL, client_main, v) != 0) {
        err_set("viewer: cannot start its thread");
        goto fail;
    }
    v->thread_started = true;
    return v;
fail:
    viewer_close(v);
    return NULL;
}

void viewer_close(struct viewer *v)
{
    if (!v)
        return;
    if (v->thread_started) {
        pthread_mutex_lock(&v->lock);
        v->stop = true;
        pthread_mutex_unlock(&v->lock);
        char b = 0;
        if (write(v->wake[1], &b, 1) < 0) {
            /* the pipe is full: the thread is awake anyway */
        }
        pthread_join(v->thread, NULL);
    }
    for (int i = 0; i < 2; i++) {
        if (v->wake[i] >= 0)
            close(v->wake[i]);
        if (v->notify[i] >= 0)
            close(v->notify[i]);
    }
    pthread_mutex_destroy(&v->lock);
    free(v->pixels);
    free(v);
}

int viewer_fd(const struct viewer *v)
{
    return v->notify[0];
}

int viewer_service(struct viewer *v)
{
    char buf[64];
    while (read(v->notify[0], buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&v->lock);
    int r = v->ended ? -1 : v->changed ? 1 : 0;
    v->changed = false;
    if (v->ended)
        err_set("%s", v->status);
    pthread_mutex_unlock(&v->lock);
    return r;
}

const char *viewer_status(struct viewer *v)
{
    static __thread char copy[256];
    pthread_mutex_lock(&v->lock);
    snprintf(copy, sizeof copy, "%s", v->status);
    pthread_mutex_unlock(&v->lock);
    return copy;
}

int viewer_draw(struct viewer *v, struct render *r, struct vbuf *out)
{
    pthread_mutex_lock(&v->lock);
    struct viewer_screen s = {
        .text = v->text,
        .width = v->width,
        .height = v->height,
        .pixels = v->pixels,
        .cells = &v->cells,
        .dirty_y0 = v->dirty_y0,
        .dirty_y1 = v->dirty_y1,
    };
    int n = v->connected ? render_frame(r, &s, out) : 0;
    if (v->connected)
        v->dirty_y0 = v->dirty_y1 = 0;
    pthread_mutex_unlock(&v->lock);
    return n;
}

void viewer_key(struct viewer *v, uint32_t keysym, bool down)
{
    pthread_mutex_lock(&v->lock);
    if (v->keyq_len < KEYQ) {
        v->keyq[(v->keyq_head + v->keyq_len) % KEYQ] = keysym | (down ? KEY_DOWN : 0);
        v->keyq_len++;
    }
    pthread_mutex_unlock(&v->lock);
    char b = 1;
    if (write(v->wake[1], &b, 1) < 0) {
        /* full: the thread has wake-ups pending already */
    }
}

void viewer_combo(struct viewer *v, const uint32_t *keysyms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        viewer_key(v, keysyms[i], true);
    for (size_t i = n; i-- > 0;)
        viewer_key(v, keysyms[i], false);
}

size_t viewer_type(struct viewer *v, const char *text, size_t len)
{
    size_t typed = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        uint32_t ks = c == '\n' || c == '\r'  ? XK_RETURN
                      : c == '\t'             ? XK_TAB
                      : c >= 0x20 && c < 0x7f ? c
                                              : 0;
        if (c == '\n' && i > 0 && text[i - 1] == '\r')
            continue; /* CR LF is one Return */
        if (!ks)
            continue;
        viewer_key(v, ks, true);
        viewer_key(v, ks, false);
        typed++;
    }
    return typed;
}
