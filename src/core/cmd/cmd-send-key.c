/* send-key DOMAIN [--codeset SET] [--holdtime MS] KEYCODE...: press keys
 * on a running guest's keyboard together, hold them, let go (virsh's
 * verb: Ctrl-Alt-Del is `send-key web KEY_LEFTCTRL KEY_LEFTALT KEY_DELETE`).
 * Code sets as virsh: linux (default; KEY_* names or numbers), xt,
 * atset1, atset2, usb, rfb/qnum. The keys travel as QMP send-key numbers
 * (core/proto/keymap.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/cmd/cmd.h"
#include "core/proto/keymap.h"
#include "core/virt/vm.h"
#include "store/store.h"

#define MAX_KEYS 16 /* virsh's VIR_DOMAIN_SEND_KEY_MAX_KEYS */

static enum cmd_result sendkey_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *set_name = cmd_get(args, "codeset"), *hold = cmd_get(args, "holdtime");
    int set = set_name ? keymap_codeset_parse(set_name) : KEYMAP_LINUX;
    if (set < 0) {
        err_set("unknown codeset: '%s'", set_name);
        return CMD_ERROR;
    }
    long hold_ms = -1;
    if (hold) {
        char *end;
        errno = 0;
        hold_ms = strtol(hold, &end, 10);
        if (!*hold || *end || errno || hold_ms < 0 || hold_ms > 60000) {
            err_set("Numeric value '%s' for <holdtime> option is malformed or out of range", hold);
            return CMD_ERROR;
        }
    }
    if (args->argc - 1 > MAX_KEYS) {
        err_set("too many keycodes (at most %d)", MAX_KEYS);
        return CMD_ERROR;
    }
    char json[64 + MAX_KEYS * 48];
    size_t n = (size_t)snprintf(json, sizeof json, "{\"keys\": [");
    for (int i = 1; i < args->argc; i++) {
        unsigned q;
        if (keymap_to_qnum((enum keymap_codeset)set, args->argv[i], &q) < 0)
            return CMD_ERROR;
        n += (size_t)snprintf(json + n, sizeof json - n, "%s{\"type\": \"number\", \"data\": %u}",
                              i > 1 ? ", " : "", q);
    }
    if (hold_ms >= 0)
        snprintf(json + n, sizeof json - n, "], \"hold-time\": %ld}", hold_ms);
    else
        snprintf(json + n, sizeof json - n, "]}");
    struct store_domain_row row;
    if (cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (!cmd_domain_is_active(&row)) {
        err_set(VM_ERR_NOT_RUNNING);
        return CMD_ERROR;
    }
    if (vm_qmp(&row, VM_QMP_TIMEOUT_MS, "send-key", json, NULL) < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "\n");
    return CMD_OK;
}

const struct cmd_entry cmd_send_key_entry = {
    .name = "send-key",
    .usage = "send-key DOMAIN [--codeset linux|xt|atset1|atset2|usb|rfb] [--holdtime MS] KEYCODE...",
    .summary = "send keystrokes to a running domain's keyboard",
    .opts = "codeset=,holdtime=",
    .min_args = 2,
    .max_args = -1,
    .exec = sendkey_exec,
};
