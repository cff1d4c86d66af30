/* The $EDITOR loop shared by the *edit verbs: temp file, editor, compare,
 * apply, and virsh's "Try again?" prompt when the result is rejected. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int edit_write_temp(const char *xml, char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, len, "%s/tvm-edit-XXXXXX.xml", dir && *dir ? dir : "/tmp");
    int fd = mkstemps(path, 4);
    if (fd < 0)
        return err_errno("cannot create a temporary file in %s", dir && *dir ? dir : "/tmp");
    size_t n = strlen(xml), done = 0;
    while (done < n) {
        ssize_t w = write(fd, xml + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_errno("cannot write %s", path);
            close(fd);
            unlink(path);
            return -1;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0) {
        err_errno("cannot write %s", path);
        unlink(path);
        return -1;
    }
    return 0;
}

/* Runs the editor through sh, so EDITOR may carry arguments ("emacs -nw").
 * When stdin carries a batch script the editor must not eat it: it gets
 * the terminal, or /dev/null without one. */
static int edit_run_editor(const char *path, bool stdin_busy)
{
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    pid_t pid = fork();
    if (pid < 0)
        return err_errno("cannot start the editor");
    if (pid == 0) {
        if (stdin_busy) {
            int fd = open("/dev/tty", O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd >= 0)
                dup2(fd, STDIN_FILENO);
        }
        /* "$0" is the file, so its name needs no quoting here. */
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "%s \"$0\"", editor);
        execl("/bin/sh", "sh", "-c", cmd, path, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_errno("waiting for the editor");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        return err_set("editor '%s' failed with exit status %d; nothing was changed", editor,
                       WEXITSTATUS(status));
    return err_set("editor '%s' was killed by signal %d; nothing was changed", editor,
                   WTERMSIG(status));
}

enum edit_answer { EDIT_RETRY, EDIT_ABORT };

/* virsh's prompt after a rejected edit. EOF on stdin means "no". */
static enum edit_answer edit_ask_again(struct cmd_ctx *ctx)
{
    for (;;) {
        fprintf(ctx->out, "Failed. Try again? [y,n,i,f,?]:");
        fflush(ctx->out);
        char line[64];
        if (!fgets(line, sizeof(line), stdin))
            return EDIT_ABORT;
        switch (line[0]) {
        case 'y':
        case 'Y':
            return EDIT_RETRY;
        case 'n':
        case 'N':
            return EDIT_ABORT;
        case 'i':
        case 'I':
            fprintf(ctx->out, "tvm always validates the XML; turning that off is not supported\n");
            break;
        case 'f':
        case 'F':
            fprintf(ctx->out, "forcing an invalid definition is not supported\n");
            break;
        default:
            fprintf(ctx->out, "y - send the XML back and apply it\n"
                              "n - abort, i.e. discard any changes\n"
                              "i - turn off validation (not supported)\n"
                              "f - force (not supported)\n"
                              "? - print this help\n");
            break;
        }
    }
}

/* One pass: edit, then compare and apply. 1 = done, 0 = rejected (err_msg), -1 = failure. */
static int edit_once(struct cmd_ctx *ctx, const char *path, const char *orig, const char *what,
                     cmd_edit_apply_fn apply, void *opaque, bool *changed)
{
    char *text;
    size_t len;
    if (edit_run_editor(path, ctx->stdin_busy) < 0 || cmd_read_input(ctx, path, &text, &len) < 0)
        return -1;
    int rc = 1;
    if (strcmp(text, orig) == 0)
        fprintf(ctx->out, "%s XML configuration not changed.\n\n", what);
    else if (apply(ctx, text, len, path, opaque) < 0)
        rc = 0;
    else
        *changed = true;
    free(text);
    return rc;
}

int cmd_edit_xml(struct cmd_ctx *ctx, const char *xml, const char *what, cmd_edit_apply_fn apply,
                 void *opaque, bool *changed)
{
    char path[4096];
    *changed = false;
    if (ctx->in_tui)
        return err_set("edit runs an editor on the terminal; use 'tvm edit' outside the TUI");
    if (edit_write_temp(xml, path, sizeof(path)) < 0)
        return -1;
    int rc;
    while ((rc = edit_once(ctx, path, xml, what, apply, opaque, changed)) == 0) {
        if (!ctx->interactive)
            break;
        fflush(ctx->out);
        fprintf(stderr, "error: %s\n", err_msg());
        if (edit_ask_again(ctx) == EDIT_ABORT) {
            err_set("%s: edit abandoned; nothing was changed", what);
            break;
        }
    }
    unlink(path);
    return rc == 1 ? 0 : -1;
}
