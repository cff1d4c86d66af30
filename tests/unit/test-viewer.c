/* The terminal viewer (src/viewer) against tvm-vmm's real VNC server
 * (src/vnc, libvncserver) on a unix socket in a scratch run directory:
 * the picture it draws for a four-colour framebuffer (colours in the
 * right cells, per render mode), only changed rows written again, a
 * resize redrawing all, text mode drawn as characters with their colours,
 * typed and pasted text arriving as the keys a US keyboard has them on,
 * Ctrl-Alt-Del from the menu, the guest's password, and the terminal's
 * replies and input bytes parsed as a terminal sends them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curses.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/err.h"
#include "viewer/viewer.h"
#include "vnc/vnc.h"

#define W 64
#define H 48
#define UUID "6a1b2c3d-0000-4000-8000-000000000001"

static uint32_t fb[W * H];
static char rundir[256];
static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned keys[256], nkeys;

/* XRGB quadrants: red, green / blue, white. */
static void paint(void)
{
    for (unsigned y = 0; y < H; y++)
        for (unsigned x = 0; x < W; x++)
            fb[y * W + x] =
                y < H / 2 ? (x < W / 2 ? 0xff0000 : 0x00ff00) : (x < W / 2 ? 0x0000ff : 0xffffff);
}

static void on_refresh(void *opaque, struct vnc_server *s)
{
    (void)opaque;
    (void)s;
}

static void on_key(void *opaque, unsigned qnum, bool down)
{
    (void)opaque;
    pthread_mutex_lock(&keys_mu);
    if (nkeys < 256)
        keys[nkeys++] = qnum | (down ? 0x1000 : 0);
    pthread_mutex_unlock(&keys_mu);
}

static const struct vnc_ops ops = {.refresh = on_refresh, .key = on_key};

static struct vnc_server *server(const char *password)
{
    char dir[300], sock[400];
    snprintf(dir, sizeof dir, "%s/%s", rundir, UUID);
    mkdir(dir, 0700);
    snprintf(sock, sizeof sock, "%s/vnc.sock", dir);
    unlink(sock);
    paint();
    struct vnc_config c = {.unix_path = sock,
                           .port = -1,
                           .password = password,
                           .name = "t",
                           .framebuffer = fb,
                           .width = W,
                           .height = H,
                           .stride = W * 4,
                           .ops = &ops};
    struct vnc_server *s = vnc_new(&c);
    if (!s || vnc_start(s) < 0)
        fail_msg("vnc server: %s", err_msg());
    return s;
}

/* Services the viewer until its status starts with WANT (or it ends). */
static int wait_status(struct viewer *v, const char *want)
{
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {.fd = viewer_fd(v), .events = POLLIN};
        poll(&p, 1, 100);
        int r = viewer_service(v);
        if (!strncmp(viewer_status(v), want, strlen(want)))
            return 0;
        if (r < 0)
            return -1;
    }
    return -1;
}

/* The colour of the first SGR colour in TEXT: "R;G;B" of 38;2/48;2, or
 * "idx N" of 38;5/48;5. */
static void first_colour(const char *text, char *out, size_t len)
{
    const char *p = strstr(text, "8;2;");
    const char *q = strstr(text, "8;5;");
    out[0] = '\0';
    if (p && (!q || p < q)) {
        int r, g, b;
        if (sscanf(p + 4, "%d;%d;%d", &r, &g, &b) == 3)
            snprintf(out, len, "%d;%d;%d", r, g, b);
    } else if (q) {
        int n;
        if (sscanf(q + 4, "%d", &n) == 1)
            snprintf(out, len, "idx %d", n);
    }
}

/* The text drawn at row ROW (1-based, as the CSI says) in OUT, up to the next row's move. */
static char *row_of(const char *out, int row)
{
    char mark[32];
    snprintf(mark, sizeof mark, "\033[%d;1H", row);
    const char *p = strstr(out, mark);
    if (!p)
        return NULL;
    p += strlen(mark);
    const char *end = strstr(p, "\033[");
    while (end && end[2] != '\0' &&
           !(end[2] >= '0' && end[2] <= '9' && strchr(end + 2, 'H') &&
             strchr(end + 2, 'H') < strchr(end + 2, 'm')))
        end = strstr(end + 2, "\033[");
    return strndup(p, end ? (size_t)(end - p) : strlen(p));
}

/* The last colour mentioned in a row (its right end). */
static void last_colour(const char *row, char *out, size_t len)
{
    const char *p = row, *hit = NULL;
    while ((p = strstr(p, "8;2;")) || (p = NULL))
        hit = p++;
    out[0] = '\0';
    if (hit) {
        int r, g, b;
        if (sscanf(hit + 4, "%d;%d;%d", &r, &g, &b) == 3)
            snprintf(out, len, "%d;%d;%d", r, g, b);
    }
}

static void test_picture(void **state)
{
    (void)state;
    struct vnc_server *s = server(NULL);
    struct viewer *v = viewer_open(UUID);
    assert_non_null(v);
    assert_int_equal(wait_status(v, "framebuffer 64x48"), 0);
    struct render *r = render_new(VIEWER_MODE_TRUECOLOR);
    render_set_cell_pixels(r, 8, 16);
    render_set_area(r, 0, 0, 12, 24); /* 64x48 at 1:2 cells: 24x9 */
    struct vbuf out = {0};
    /* The first update may still be on its way: draw until the picture is there. */
    for (int i = 0; i < 50 && !strstr(out.p ? out.p : "", "255;255;255"); i++) {
        struct pollfd p = {.fd = viewer_fd(v), .events = POLLIN};
        poll(&p, 1, 100);
        viewer_service(v);
        out.len = 0;
        render_invalidate(r);
        viewer_draw(v, r, &out);
    }
    char c[32];
    char *top = row_of(out.p, 1), *bottom = row_of(out.p, 9), *below = row_of(out.p, 10);
    assert_non_null(top);
    assert_non_null(bottom);
    first_colour(top, c, sizeof c);
    assert_string_equal(c, "255;0;0");
    last_colour(top, c, sizeof c);
    assert_string_equal(c, "0;255;0");
    first_colour(bottom, c, sizeof c);
    assert_string_equal(c, "0;0;255");
    last_colour(bottom, c, sizeof c);
    assert_string_equal(c, "255;255;255");
    assert_non_null(below); /* under the picture: blank, no colour */
    first_colour(below, c, sizeof c);
    assert_string_equal(c, "");
    free(top);
    free(bottom);
    free(below);

    /* Nothing changed: nothing written. */
    out.len = 0;
    viewer_draw(v, r, &out);
    assert_int_equal(out.len, 0);

    /* A resize rescales: every row again, at the new width. */
    render_set_area(r, 0, 0, 6, 12);
    viewer_draw(v, r, &out);
    for (int row = 1; row <= 6; row++) {
        char *line = row_of(out.p, row);
        assert_non_null(line);
        free(line);
    }
    vbuf_free(&out);

    /* 256 colours: palette indices, red 196 and blue 21 in the 6x6x6 cube. */
    struct render *r256 = render_new(VIEWER_MODE_256);
    render_set_cell_pixels(r256, 8, 16);
    render_set_area(r256, 0, 0, 12, 24);
    viewer_draw(v, r256, &out);
    char *top256 = row_of(out.p, 1), *bottom256 = row_of(out.p, 9);
    first_colour(top256, c, sizeof c);
    assert_string_equal(c, "idx 196");
    first_colour(bottom256, c, sizeof c);
    assert_string_equal(c, "idx 21");
    free(top256);
    free(bottom256);
    vbuf_free(&out);

    /* sixel and kitty: one picture sequence at the area's corner */
    struct render *rs = render_new(VIEWER_MODE_SIXEL), *rk = render_new(VIEWER_MODE_KITTY);
    render_set_area(rs, 2, 3, 12, 24);
    render_set_area(rk, 2, 3, 12, 24);
    viewer_draw(v, rs, &out);
    assert_non_null(strstr(out.p, "\033[3;4H\033P"));
    assert_non_null(strstr(out.p, ";2;100;0;0#")); /* sixel colour registers: red and */
    assert_non_null(strstr(out.p, ";2;0;0;100#")); /* blue, in percent */
    out.len = 0;
    viewer_draw(v, rk, &out);
    assert_non_null(strstr(out.p, "\033[3;4H\033_G"));
    assert_non_null(strstr(out.p, "a=T"));
    vbuf_free(&out);

    render_free(r);
    render_free(r256);
    render_free(rs);
    render_free(rk);
    viewer_close(v);
    vnc_free(s);
}

static void test_only_changed_rows(void **state)
{
    (void)state;
    struct viewer_text t;
    memset(&t, 0, sizeof t);
    memset(t.chars, ' ', sizeof t.chars);
    memcpy(t.chars[3], "login: root", 11);
    memset(t.fg, 7, sizeof t.fg);
    t.fg[3][0] = 14; /* yellow 'l' */
    t.bg[3][0] = 1;  /* on blue */
    t.cursor = 3 * VIEWER_TEXT_COLS + 11;
    struct viewer_screen s = {.text = true, .width = 640, .height = 400, .cells = &t};
    struct render *r = render_new(VIEWER_MODE_256);
    render_set_area(r, 1, 2, 30, 90);
    struct vbuf out = {0};
    assert_int_equal(render_frame(r, &s, &out), 30);
    assert_non_null(
        strstr(out.p, "\033[5;3H\033[0;93;44ml\033[0;37;40mogin: root\033[0;37;40;7m "));
    assert_int_equal(strncmp(out.p, "\0337", 2), 0);
    assert_int_equal(strcmp(out.p + out.len - 6, "\033[0m\0338"), 0);
    out.len = 0;
    assert_int_equal(render_frame(r, &s, &out), 0);
    assert_int_equal(out.len, 0);
    memcpy(t.chars[20], "echo hi", 7);
    assert_int_equal(render_frame(r, &s, &out), 1);
    assert_non_null(strstr(out.p, "\033[22;3H"));
    assert_non_null(strstr(out.p, "echo hi"));
    /* A pane lower than 25 rows keeps the cursor's row in view. */
    out.len = 0;
    render_set_area(r, 0, 0, 5, 40);
    t.cursor = 20 * VIEWER_TEXT_COLS + 7;
    assert_int_equal(render_frame(r, &s, &out), 5);
    assert_non_null(strstr(out.p, "\033[5;1H\033[0;37;40mecho hi"));
    vbuf_free(&out);
    render_free(r);
}

static void wait_keys(unsigned n)
{
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&keys_mu);
        unsigned have = nkeys;
        pthread_mutex_unlock(&keys_mu);
        if (have >= n)
            return;
        usleep(20000);
    }
}

static void test_keys(void **state)
{
    (void)state;
    struct vnc_server *s = server(NULL);
    struct viewer *v = viewer_open(UUID);
    assert_non_null(v);
    assert_int_equal(wait_status(v, "framebuffer"), 0);
    nkeys = 0;
    /* A paste: 'A' needs Shift (the server holds it), Return for the newline. */
    assert_int_equal(viewer_type(v, "Ab\r\n\x01", 5), 3);
    const unsigned want[] = {0x102A, 0x101E, 0x1E, 0x2A, 0x1030, 0x30, 0x101C, 0x1C};
    wait_keys(8);
    assert_int_equal(nkeys, 8);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(keys[i], want[i]);
    /* Ctrl-C typed, then the menu's Ctrl-Alt-Del. */
    nkeys = 0;
    viewer_send_key(v, 3);
    viewer_menu_send(v, 0);
    const unsigned want2[] = {0x101D, 0x102E, 0x2E, 0x1D, 0x101D, 0x1038, 0x10D3, 0xD3, 0x38, 0x1D};
    wait_keys(10);
    assert_int_equal(nkeys, 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(keys[i], want2[i]);
    viewer_close(v);
    vnc_free(s);
}

static void test_password(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/%s/domain.xml", rundir, UUID);
    mkdir(rundir, 0700);
    struct vnc_server *s = server("pw123456");
    FILE *f = fopen(path, "w");
    fprintf(f, "<domain type='kvm'><name>g</name><memory>131072</memory><os><type>hvm</type>"
               "</os><devices><graphics type='vnc' passwd='wrong'/></devices></domain>");
    fclose(f);
    struct viewer *v = viewer_open(UUID);
    assert_int_equal(wait_status(v, "framebuffer"), -1);
    assert_non_null(strstr(viewer_status(v), "cannot open the guest's screen"));
    viewer_close(v);
    f = fopen(path, "w");
    fprintf(f, "<domain type='kvm'><name>g</name><memory>131072</memory><os><type>hvm</type>"
               "</os><devices><graphics type='vnc' passwd='pw123456'/></devices></domain>");
    fclose(f);
    v = viewer_open(UUID);
    assert_int_equal(wait_status(v, "framebuffer 64x48"), 0);
    viewer_close(v);
    unlink(path);
    vnc_free(s);

    /* No server at all: a clear message, no viewer. */
    setenv("TVM_RUNDIR", "/nonexistent-tvm-rundir", 1);
    assert_null(viewer_open(UUID));
    assert_non_null(strstr(err_msg(), "has no screen socket"));
    setenv("TVM_RUNDIR", rundir, 1);
}

static void test_probe_reply(void **state)
{
    (void)state;
    const char kitty[] = "\033_Gi=31;OK\033\\\033[?62;22c";
    const char sixel[] = "\033[?62;4;6;22c";
    const char plain[] = "\033[?1;2c";
    assert_int_equal(viewer_probe_reply(kitty, sizeof kitty - 1, false), VIEWER_MODE_KITTY);
    assert_int_equal(viewer_probe_reply(sixel, sizeof sixel - 1, false), VIEWER_MODE_SIXEL);
    assert_int_equal(viewer_probe_reply(plain, sizeof plain - 1, false), VIEWER_MODE_256);
    assert_int_equal(viewer_probe_reply(plain, sizeof plain - 1, true), VIEWER_MODE_TRUECOLOR);
    assert_int_equal(viewer_probe_reply("", 0, false), VIEWER_MODE_256);
    /* $TVM_VIEWER_MODE wins; inside tmux nothing is asked. */
    setenv("TVM_VIEWER_MODE", "sixel", 1);
    assert_int_equal(viewer_probe(0, 1, 10), VIEWER_MODE_SIXEL);
    unsetenv("TVM_VIEWER_MODE");
    setenv("TMUX", "/tmp/x,1,0", 1);
    setenv("COLORTERM", "truecolor", 1);
    assert_int_equal(viewer_probe(0, 1, 10), VIEWER_MODE_TRUECOLOR);
    unsetenv("TMUX");
    unsetenv("COLORTERM");
    assert_int_equal(viewer_mode_parse("kitty"), VIEWER_MODE_KITTY);
    assert_int_equal(viewer_mode_parse("bogus"), -1);
}

struct events {
    char log[512];
};

static void record(void *opaque, enum viewer_input_event ev, int key, const char *text, size_t len)
{
    struct events *e = opaque;
    char one[128];
    if (ev == VIN_PASTE)
        snprintf(one, sizeof one, "paste[%.*s] ", (int)len, text);
    else if (ev == VIN_KEY && key >= KEY_MIN)
        snprintf(one, sizeof one, "%s ", keyname(key));
    else
        snprintf(one, sizeof one, "%s%d ",
                 ev == VIN_ESCAPE ? "esc"
                 : ev == VIN_MENU ? "menu"
                                  : "k",
                 key);
    strncat(e->log, one, sizeof e->log - strlen(e->log) - 1);
}

static void test_input(void **state)
{
    (void)state;
    struct viewer_input in = {0};
    struct events e = {{0}};
    const char bytes[] = "a\033[A\033OP\033[15~\033[200~x\033[Ay\033[201~\007\035\033";
    /* Fed in two chunks: a sequence split between reads still parses. */
    viewer_input_feed(&in, (const unsigned char *)bytes, 3, record, &e);
    viewer_input_feed(&in, (const unsigned char *)bytes + 3, sizeof bytes - 4, record, &e);
    assert_string_equal(e.log, "k97 KEY_UP KEY_F(1) KEY_F(5) paste[x\033[Ay] menu7 esc29 k27 ");
    vbuf_free(&in.paste);
    bool ctrl;
    assert_int_equal(viewer_keysym_of(KEY_F(12), &ctrl), 0xFFC9);
    assert_int_equal(viewer_keysym_of(3, &ctrl), 'c');
    assert_true(ctrl);
    assert_int_equal(viewer_keysym_of('\r', &ctrl), XK_RETURN);
    assert_false(ctrl);
}

int main(void)
{
    snprintf(rundir, sizeof rundir, "/tmp/tvm-test-viewer-XXXXXX");
    if (!mkdtemp(rundir))
        return 1;
    setenv("TVM_RUNDIR", rundir, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_picture),     cmocka_unit_test(test_only_changed_rows),
        cmocka_unit_test(test_keys),        cmocka_unit_test(test_password),
        cmocka_unit_test(test_probe_reply), cmocka_unit_test(test_input),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", rundir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
