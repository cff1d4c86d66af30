/* The sandbox tvm-vmm enters once everything the guest needs is open and
 * before the guest runs its first instruction (vmm-protocol.h, "Sandbox").
 *
 * Staging: tvm opens /dev/kvm, the taps, the disk images with their locks,
 * the kernel and initrd and tvm-vmm inherits them (fdmap.h; started by
 * hand, tvm-vmm opens them itself); tvm-vmm makes its sockets and opens
 * the console log (and the rotated log beside it) while it still has the
 * privileges of whoever started it; sandbox_enter() then takes every
 * privilege away. Nothing the guest can trigger afterwards needs one:
 * resets reuse the /dev/kvm, kernel and initrd descriptors, taps and
 * images are never reopened, the console log rotates on its descriptors.
 *
 * What sandbox_enter() does, in this order:
 *   - RLIMIT_CORE 0, RLIMIT_NOFILE just above the descriptors in use,
 *     RLIMIT_FSIZE just above what the open images can grow to, or a
 *     saved state of the guest's RAM (sandbox_allow_file_size);
 *   - started by root: the run directory is given to the sandbox user (tvm,
 *     else nobody/nogroup), the capability bounding set emptied, then
 *     uid/gid/groups switched (glibc applies it to every thread);
 *   - every capability set emptied, PR_SET_NO_NEW_PRIVS;
 *   - landlock (when the kernel has it): no file system access at all but
 *     making, writing and removing files in the run directory;
 *   - the main loop's seccomp filter for the whole process (every thread, TSYNC):
 *     only the syscalls tvm-vmm makes, ioctl only with the KVM/tap/tty
 *     requests it issues, clone only for threads. Anything else raises
 *     SIGSYS, whose handler writes exit.json ("crashed", naming the
 *     syscall) through a descriptor of the run directory, and exits.
 *
 * Per thread class: the process's filter is the main loop's; a vCPU
 * thread and a device worker each add their own (sandbox_thread_enter()),
 * which takes away what only the others need. The SIGSYS handler's
 * exit.json names the class ("in thread TID (vcpu)").
 */
#ifndef TVM_VMM_SANDBOX_H
#define TVM_VMM_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

enum sandbox_mode {
    SANDBOX_ON,  /* the default */
    SANDBOX_OFF, /* --no-sandbox or TVM_VMM_SANDBOX=0: debugging only */
    SANDBOX_LOG, /* TVM_VMM_SANDBOX=log: all but seccomp, which only logs (audit/kmsg) */
};

/* The mode from --no-sandbox (no_sandbox) and $TVM_VMM_SANDBOX
 * ("0"/"off"/"no", "log", anything else or unset: on). */
enum sandbox_mode sandbox_mode_from_env(bool no_sandbox);

struct sandbox_config {
    enum sandbox_mode mode;
    const char *rundir; /* exit.json goes here, also from the SIGSYS handler */
};

/* Early, before any file is opened: picks the user, opens the run
 * directory, installs the SIGSYS handler. Still privileged afterwards. */
int sandbox_prepare(const struct sandbox_config *c);

/* Before sandbox_enter(): RLIMIT_FSIZE lets a file of BYTES be written
 * later too (a saved state on a descriptor tvm sends while it runs). */
void sandbox_allow_file_size(uint64_t bytes);

/* After everything is open, before the guest runs: see above. Errors say
 * which step failed; the caller must then not run the guest. */
int sandbox_enter(void);

/* True once sandbox_enter() succeeded (for the log line and tests). */
bool sandbox_active(void);

/* The process-wide seccomp filter alone, for a unit test in a forked
 * child: mode SANDBOX_ON kills (SIGSYS) on anything not allowed. */
int sandbox_seccomp_install(enum sandbox_mode mode);

/* Thread classes, each with its own filter (sandbox.c says what each is
 * refused). The main loop's is the process's; the others narrow it. */
enum sandbox_thread {
    SANDBOX_THREAD_MAIN,
    SANDBOX_THREAD_VCPU,
    SANDBOX_THREAD_WORKER,
};
/* The calling thread takes its class's filter, once, if the sandbox is
 * active (else nothing: unit tests, --no-sandbox). vCPU threads call it
 * when they start (always after sandbox_enter()); device workers, started
 * before it, at each wake-up (a thread check, then nothing). */
void sandbox_thread_enter(enum sandbox_thread cls);
/* TVM_VMM_SECCOMP_SELFTEST's thread classes (main.c): once armed for
 * CLS, the next thread of that class to pass sandbox_selftest_point()
 * makes a system call the main loop may make and its class may not
 * (accept4 on no socket), so the lab sees the class's own filter act. */
void sandbox_selftest_arm(enum sandbox_thread cls);
void sandbox_selftest_point(enum sandbox_thread cls);
/* One class filter on the calling thread regardless, for unit tests. */
int sandbox_thread_seccomp_install(enum sandbox_mode mode, enum sandbox_thread cls);

/* A descriptor of the run directory (-1 before sandbox_prepare()): after
 * the uid change its path may not be reachable any more. */
int sandbox_rundir_fd(void);

/* unlink(path), but a file directly in the run directory is removed through
 * the descriptor of it: sockets and files tvm-vmm made there before the
 * uid change must go when it exits, and the sandbox user may not be able
 * to walk the path to them (/run/tvm, a test's 0700 directory). */
void sandbox_unlink(const char *path);

#endif
