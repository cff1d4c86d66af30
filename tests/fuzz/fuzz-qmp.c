/* tvm-vmm's QMP server (src/vmm/control.c) fed as a client feeds it: the
 * input is the byte stream one client writes to the control socket. The
 * server runs on the VMM's real event loop and socket plumbing; the VM
 * behind it is a recorder (control_start() takes the actions as struct
 * control_ops, as vmm-test-control does), since a VM that never starts
 * needs no /dev/kvm. A balloon and a NIC are created on a VM with guest
 * memory but no vCPUs, so their commands (balloon, query-balloon, qom-get,
 * qom-set, set_link) are served too.
 *
 * The first input byte sets how the stream is cut into writes (1-255
 * bytes, 0: one write), since the server must not care where reads end.
 *
 * Properties: the server survives; every line it sends is a JSON object
 * with exactly one of "QMP", "return", "error" or "event"; when the client
 * shuts its side, the server closes the connection (it is not stuck
 * waiting inside a request) and holds nothing for it.
 */
#include <errno.h>
#include <json-c/json.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz-util.h"

#include "control.h"
#include "core/base/err.h"
#include "virtio/virtio.h"
#include "vm.h"

/* The recorder: only the state the QMP commands can see. */
static enum vm_run_state state = VM_RUNNING;

static enum vm_run_state rec_run_state(struct vm *vm)
{
    (void)vm;
    return state;
}

static int rec_pause(struct vm *vm)
{
    (void)vm;
    state = VM_PAUSED;
    return 0;
}

static int rec_resume(struct vm *vm)
{
    (void)vm;
    state = VM_RUNNING;
    return 0;
}

static int rec_powerdown(struct vm *vm, bool reboot)
{
    (void)vm;
    (void)reboot;
    return 0;
}

static int rec_reset(struct vm *vm)
{
    (void)vm;
    return 0;
}

static int rec_quit(struct vm *vm, const char *reason)
{
    (void)vm;
    (void)reason;
    return 0;
}

static unsigned rec_vcpu_count(struct vm *vm)
{
    (void)vm;
    return 2;
}

static int rec_vcpu_info(struct vm *vm, unsigned i, int *thread_id, unsigned *apic_id)
{
    (void)vm;
    *thread_id = 4000 + (int)i;
    *apic_id = i;
    return 0;
}

static uint64_t rec_ram_size(struct vm *vm)
{
    (void)vm;
    return 16ull << 20;
}

static const struct control_ops rec_ops = {
    .run_state = rec_run_state,
    .pause = rec_pause,
    .resume = rec_resume,
    .powerdown = rec_powerdown,
    .reset = rec_reset,
    .quit = rec_quit,
    .vcpu_count = rec_vcpu_count,
    .vcpu_info = rec_vcpu_info,
    .ram_size = rec_ram_size,
};

static struct loop *loop;
static struct sockaddr_un addr = {.sun_family = AF_UNIX};
static char dir[64];
static int net_peer = -1;

static void on_queue(void *opaque, unsigned q)
{
    (void)opaque;
    (void)q;
}

static void on_config(void *opaque)
{
    (void)opaque;
}

static void cleanup(void)
{
    control_close();
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_mute_stderr();
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fuzz-qmp-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fuzz_fail("mkdtemp %s: %s", dir, strerror(errno));
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/control.sock", dir);
    loop = loop_new();
    if (!loop)
        fuzz_fail("loop_new: %s", err_msg());
    struct control_config cfg = {.name = "fuzz", .cores_per_socket = 2, .threads_per_core = 1};
    if (control_start(loop, NULL, &rec_ops, &cfg, addr.sun_path) < 0)
        fuzz_fail("control_start: %s", err_msg());
    atexit(cleanup);

    /* The devices whose files register QMP commands. They live as long as
     * the process: the registry holds them. */
    struct vm_config vc = {.ram_bytes = 16u << 20, .vcpus = 1};
    struct vm *vm = vm_new(&vc);
    if (!vm)
        fuzz_fail("vm_new: %s", err_msg());
    struct virtio_balloon_config_in bc = {.stats_period = 0};
    struct virtio_dev *balloon = virtio_balloon_new(vm, &bc);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        fuzz_fail("socketpair: %s", strerror(errno));
    net_peer = sv[1];
    struct virtio_net_config_in nc = {.mac = "52:54:00:12:34:56", .fd = sv[0]};
    struct virtio_dev *net = virtio_net_new(vm, &nc);
    if (!balloon || !net)
        fuzz_fail("devices: %s", err_msg());
    struct virtio_transport t = {.signal_queue = on_queue, .signal_config = on_config};
    balloon->transport = t;
    net->transport = t;
    return 0;
}

struct reader {
    char buf[1 << 17];
    size_t len;
    unsigned lines;
};

static void check_line(const char *line, size_t n)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, line, (int)n);
    if (!o || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != n)
        fuzz_fail("the server sent a line that is not one JSON value: %.*s", (int)n, line);
    json_tokener_free(tok);
    if (!json_object_is_type(o, json_type_object))
        fuzz_fail("the server sent a JSON value that is not an object: %.*s", (int)n, line);
    int kinds = 0;
    static const char *const keys[] = {"QMP", "return", "error", "event"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        kinds += json_object_object_get_ex(o, keys[i], NULL);
    if (kinds != 1)
        fuzz_fail("a reply with %d of QMP/return/error/event: %.*s", kinds, (int)n, line);
    json_object_put(o);
}

/* Takes what the server sent; -1 once it closed the connection. */
static int drain(int fd, struct reader *r)
{
    for (;;) {
        ssize_t got = recv(fd, r->buf + r->len, sizeof r->buf - r->len, MSG_DONTWAIT);
        if (got == 0)
            return -1;
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1; /* reset by the server */
        }
        r->len += (size_t)got;
        char *nl;
        while ((nl = memchr(r->buf, '\n', r->len))) {
            size_t n = (size_t)(nl - r->buf);
            check_line(r->buf, n);
            r->lines++;
            memmove(r->buf, nl + 1, r->len - n - 1);
            r->len -= n + 1;
        }
        if (r->len == sizeof r->buf)
            fuzz_fail("the server sent %zu bytes without a newline", r->len);
    }
}

/* One turn of the VMM's loop (it does not say whether anything ran). */
static void pump(int timeout_ms)
{
    if (loop_run_once(loop, timeout_ms) < 0)
        fuzz_fail("loop: %s", err_msg());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct reader r;
    r.len = 0;
    r.lines = 0;
    size_t chunk = size ? data[0] : 0;
    if (size) {
        data++;
        size--;
    }
    if (chunk == 0)
        chunk = size ? size : 1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        fuzz_fail("connect: %s", strerror(errno));
    pump(0);
    size_t off = 0;
    bool closed = false;
    for (unsigned spins = 0; off < size && !closed; spins++) {
        if (spins > 1000000)
            fuzz_fail("the server stopped reading");
        size_t n = size - off < chunk ? size - off : chunk;
        ssize_t sent = send(fd, data + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent > 0)
            off += (size_t)sent;
        else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            closed = true; /* the server may drop a client; that is allowed */
        pump(0);
        closed = closed || drain(fd, &r) < 0;
    }
    shutdown(fd, SHUT_WR);
    for (unsigned spins = 0; !closed; spins++) {
        if (spins > 10000)
            fuzz_fail("the server kept the connection after the client's EOF");
        pump(1);
        closed = drain(fd, &r) < 0;
    }
    close(fd);
    if (r.lines == 0)
        fuzz_fail("no greeting");
    return 0;
}
