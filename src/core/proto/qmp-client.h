/* The QMP client tvm uses to talk to a tvm-vmm's control socket (see
 * vmm-protocol.h); any QMP server (QEMU's too) answers it the same way.
 * Errors follow err.h: -1 with err_msg() set. */
#ifndef TVM_CORE_QMP_CLIENT_H
#define TVM_CORE_QMP_CLIENT_H

struct qmp;
/* Connect to a control socket, read the greeting, negotiate capabilities.
 * Every read is bounded by timeout_ms; errors read
 * "control socket PATH not answering" or the like. */
int qmp_open(const char *sock_path, int timeout_ms, struct qmp **out);
/* Run one command. args_json is a JSON object text or NULL. On success
 * *reply_json (if reply_json is non-NULL) is the malloc'd JSON text of the
 * "return" value; an {"error": ...} reply fails with its "desc" as the
 * message. Events arriving before the reply are skipped (and counted). */
int qmp_execute(struct qmp *q, const char *cmd, const char *args_json, char **reply_json);
/* qmp_execute() that sends descriptor FD (-1: none) with the request's
 * bytes by SCM_RIGHTS, as QEMU's getfd and add-fd expect. FD stays ours. */
int qmp_execute_fd(struct qmp *q, const char *cmd, const char *args_json, int fd,
                   char **reply_json);
/* getfd: tvm-vmm holds a copy of FD under FDNAME (see "Named descriptors"
 * in vmm-protocol.h) until a command that names it takes it, or closefd. */
int qmp_getfd(struct qmp *q, const char *fdname, int fd);
/* Events skipped so far whose name is `event` (e.g. "STOP"); 0 if none. */
unsigned qmp_events_seen(const struct qmp *q, const char *event);
void qmp_close(struct qmp *q);
/* One-shot: open, run, close. */
int qmp_command(const char *sock_path, int timeout_ms, const char *cmd, const char *args_json,
                char **reply_json);

#endif
