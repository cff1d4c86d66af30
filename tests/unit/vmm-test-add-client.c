/* QMP add_client on a real board (src/vmm/board.c, a VM from vm_new(), no
 * vCPU, no /dev/kvm) with a VGA <video>, a password and a virtio tablet:
 * one end of a socketpair sent with getfd and named in add_client gets the
 * VNC server's RFB handshake as a client of vnc.sock would (the picture's
 * size, 640x400 text mode); skipauth lets any answer to the password
 * challenge through and its absence does not; QEMU's errors for a wrong
 * protocol, TLS, an unknown fdname; and the tablet sits on its PCI slot
 * as virtio-input (device 0x1052, class input); libvncserver's per-client
 * chatter stays out of vmm.log, which a reconnecting client cannot flood.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "board.h"
#include "core/base/err.h"
#include "core/model/domain.h"
#include "vm.h"
#include "vmm-qmp.h"

struct h {
    char dir[64];
    struct domain *dom;
    struct vm *vm;
    struct board *board;
    struct vmm_qmp q;
};

static void build(struct h *h)
{
    const char *xml =
        "<domain type='kvm'><name>v</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os><devices>"
        "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='secret12'/>"
        "<video><model type='vga'/></video><input type='tablet' bus='virtio'><address "
        "type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></input>"
        "</devices></domain>";
    if (domain_parse(xml, strlen(xml), "t.xml", &h->dom) < 0)
        fail_msg("domain_parse: %s", err_msg());
    snprintf(h->dir, sizeof h->dir, "/tmp/vmm-test-add-client-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    struct vm_config cfg;
    board_vm_config(h->dom, &cfg);
    h->vm = vm_new(&cfg);
    assert_non_null(h->vm);
    vmm_qmp_open(&h->q, h->vm, "v");
    struct board_opts o = {.loop = h->q.loop, .rundir = h->dir};
    h->board = board_new(h->vm, h->dom, &o);
    if (!h->board)
        fail_msg("board_new: %s", err_msg());
}

static void done(struct h *h)
{
    board_free(h->board);
    vmm_qmp_close(&h->q);
    vm_free(h->vm);
    domain_free(h->dom);
    assert_int_equal(rmdir(h->dir), 0);
}

/* getfd NAME with FD attached; the reply line. */
static const char *getfd(struct h *h, const char *name, int fd)
{
    char req[128];
    int n = snprintf(req, sizeof req,
                     "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}\n", name);
    struct iovec iov = {.iov_base = req, .iov_len = (size_t)n};
    char ctl[CMSG_SPACE(sizeof(int))] = {0};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    assert_int_equal(sendmsg(h->q.fd, &m, MSG_NOSIGNAL), n);
    return vmm_qmp_line(&h->q);
}

/* N bytes from FD, pumping the QMP loop (the VNC thread answers). */
static void read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    for (int i = 0; got < n && i < 500; i++) {
        struct timeval tv = {0, 10000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
        if (r == 0)
            fail_msg("the server closed the connection after %zu bytes", got);
        if (r > 0)
            got += (size_t)r;
    }
    assert_int_equal(got, n);
}

static void put(int fd, const void *buf, size_t n)
{
    assert_int_equal(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* The RFB 3.8 handshake with VNC authentication answered by 16 zero
 * bytes; the security result (0: in). With 0, ServerInit's size too. */
static uint32_t handshake(int fd, unsigned *w, unsigned *hgt)
{
    char version[12];
    read_all(fd, version, 12);
    assert_memory_equal(version, "RFB 003.008\n", 12);
    put(fd, "RFB 003.008\n", 12);
    uint8_t ntypes, type;
    read_all(fd, &ntypes, 1);
    assert_int_equal(ntypes, 1);
    read_all(fd, &type, 1);
    assert_int_equal(type, 2); /* VNC authentication: the server has a password */
    put(fd, &type, 1);
    uint8_t challenge[16], answer[16] = {0};
    read_all(fd, challenge, 16);
    put(fd, answer, 16);
    uint8_t result[4];
    read_all(fd, result, 4);
    uint32_t r = (uint32_t)result[0] << 24 | (uint32_t)result[1] << 16 | result[2] << 8 | result[3];
    if (r != 0)
        return r;
    uint8_t shared = 1, init[24];
    put(fd, &shared, 1);
    read_all(fd, init, 24);
    *w = (unsigned)init[0] << 8 | init[1];
    *hgt = (unsigned)init[2] << 8 | init[3];
    return 0;
}

static void test_add_client(void **state)
{
    (void)state;
    struct h h = {0};
    build(&h);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_non_null(strstr(getfd(&h, "viewer", sv[1]), "\"return\""));
    close(sv[1]);
    assert_non_null(strstr(vmm_qmp_send(&h.q, "{\"execute\": \"add_client\", \"arguments\": "
                                              "{\"protocol\": \"vnc\", \"fdname\": \"viewer\", "
                                              "\"skipauth\": true}}"),
                           "\"return\""));
    unsigned w = 0, hgt = 0;
    assert_int_equal(handshake(sv[0], &w, &hgt), 0);
    assert_int_equal(w, 640);
    assert_int_equal(hgt, 400);
    /* the name is used up: a second add_client with it fails */
    assert_non_null(strstr(vmm_qmp_send(&h.q, "{\"execute\": \"add_client\", \"arguments\": "
                                              "{\"protocol\": \"vnc\", \"fdname\": \"viewer\"}}"),
                           "File descriptor named 'viewer' not found"));
    close(sv[0]);

    /* without skipauth the password counts */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_non_null(strstr(getfd(&h, "other", sv[1]), "\"return\""));
    close(sv[1]);
    assert_non_null(strstr(vmm_qmp_send(&h.q, "{\"execute\": \"add_client\", \"arguments\": "
                                              "{\"protocol\": \"vnc\", \"fdname\": \"other\", "
                                              "\"skipauth\": false}}"),
                           "\"return\""));
    assert_int_equal(handshake(sv[0], &w, &hgt), 1);
    close(sv[0]);
    done(&h);
}

static void test_refusals(void **state)
{
    (void)state;
    struct h h = {0};
    build(&h);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_non_null(strstr(getfd(&h, "x", sv[1]), "\"return\""));
    static const struct {
        const char *args, *msg;
    } bad[] = {
        {"{\"protocol\": \"spice\", \"fdname\": \"x\"}", "protocol 'spice' is invalid"},
        {"{\"protocol\": \"vnc\", \"fdname\": \"x\", \"tls\": true}", "has no TLS"},
        {"{\"protocol\": \"vnc\", \"fdname\": \"x\", \"skipauth\": \"yes\"}", "are booleans"},
        {"{\"protocol\": \"vnc\"}", "Parameter 'fdname' is missing"},
        {"{\"fdname\": \"x\"}", "Parameter 'protocol' is missing"},
        {"{\"protocol\": \"vnc\", \"fdname\": \"x\", \"port\": 1}",
         "Parameter 'port' is unexpected"},
        {"{\"protocol\": \"vnc\", \"fdname\": \"nosuch\"}",
         "File descriptor named 'nosuch' not found"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "{\"execute\": \"add_client\", \"arguments\": %s}", bad[i].args);
        const char *reply = vmm_qmp_send(&h.q, req);
        if (!strstr(reply, bad[i].msg))
            fail_msg("%s: '%s' does not say '%s'", bad[i].args, reply, bad[i].msg);
    }
    /* the refused requests left the descriptor named: it still works */
    assert_non_null(strstr(vmm_qmp_send(&h.q, "{\"execute\": \"add_client\", \"arguments\": "
                                              "{\"protocol\": \"vnc\", \"fdname\": \"x\", "
                                              "\"skipauth\": true}}"),
                           "\"return\""));
    char version[12];
    read_all(sv[0], version, 12);
    close(sv[0]);
    close(sv[1]);
    /* a datagram socket is no VNC client */
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_non_null(strstr(getfd(&h, "dgram", sv[1]), "\"return\""));
    assert_non_null(strstr(vmm_qmp_send(&h.q, "{\"execute\": \"add_client\", \"arguments\": "
                                              "{\"protocol\": \"vnc\", \"fdname\": \"dgram\"}}"),
                           "not a stream socket"));
    close(sv[0]);
    close(sv[1]);
    done(&h);
}

/* libvncserver's chatter per client stays out of vmm.log, and a client
 * connecting over and over cannot flood it: 60 clients write at most the
 * burst of lines, none of them the statistics tables or protocol steps. */
static void test_log_bounded(void **state)
{
    (void)state;
    struct h h = {0};
    build(&h);
    char log[] = "/tmp/vmm-test-add-client-log-XXXXXX";
    int lfd = mkstemp(log);
    assert_true(lfd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(lfd, STDERR_FILENO);
    for (int i = 0; i < 60; i++) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_non_null(strstr(getfd(&h, "c", sv[1]), "\"return\""));
        close(sv[1]);
        assert_non_null(strstr(vmm_qmp_send(&h.q, "{\"execute\": \"add_client\", \"arguments\": "
                                                  "{\"protocol\": \"vnc\", \"fdname\": \"c\"}}"),
                               "\"return\""));
        unsigned w, hgt;
        assert_int_equal(handshake(sv[0], &w, &hgt), 1); /* a wrong password each time */
        close(sv[0]);
    }
    usleep(300000); /* the VNC thread sees the last ones go */
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fdopen(lfd, "r");
    rewind(f);
    char line[512];
    unsigned vnc_lines = 0, connected = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "tvm-vmm: vnc: "))
            continue;
        vnc_lines++;
        connected += strstr(line, "connected") != NULL;
        if (strstr(line, "Statistics") || strstr(line, "Enabling") ||
            strstr(line, "Protocol version"))
            fail_msg("chatter in the log: %s", line);
    }
    fclose(f);
    unlink(log);
    if (vnc_lines > 30 || connected == 0)
        fail_msg("%u VNC lines for 60 clients (%u saying who connected)", vnc_lines, connected);
    done(&h);
}

/* The tablet on the slot its <address> names, as virtio-input. */
static void test_tablet_on_pci(void **state)
{
    (void)state;
    struct h h = {0};
    build(&h);
    uint32_t a = 0x80000000u | 7u << 11, v = 0;
    io_dispatch_pio(h.vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(h.vm, 0xCFC, (uint8_t *)&v, 4, false);
    assert_int_equal(v, 0x10521AF4u);
    a = 0x80000000u | 7u << 11 | 0x08;
    io_dispatch_pio(h.vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(h.vm, 0xCFC, (uint8_t *)&v, 4, false);
    assert_int_equal(v >> 16, 0x0980); /* input device, other */
    done(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_client),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_log_bounded),
        cmocka_unit_test(test_tablet_on_pci),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
