/* tvm: the TUI with no verb, a batch script with --batch, otherwise one
 * command from the table. All three run commands through cmd_run_argv(),
 * so they accept the same verbs and report errors the same way.
 */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "store/store.h"

#if __has_include("tui/tui.h")
#include "tui/tui.h"
#define TVM_HAVE_TUI 1
#endif

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct tvm_opts {
    const char *db_path;
    const char *batch;
    const char *theme;
    bool keep_going;
    bool version;
    bool help;
};

static void print_usage(FILE *f)
{
    fprintf(f, "usage: tvm [--db PATH] [--theme NAME]             (the TUI)\n"
               "       tvm [--db PATH] COMMAND [ARGS...]           (one command)\n"
               "       tvm [--db PATH] --batch FILE [--keep-going] (a script; '-' = stdin)\n"
               "       tvm --version | --help | help [COMMAND]\n");
}

/* "--db PATH" or "--db=PATH": returns the value and advances *i, or NULL
 * (with *missing set when the option is there but its value is not). */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        err_set("option %s needs a value", name);
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* Global options come before the verb; returns the verb's index or -1 on a usage error. */
static int parse_globals(int argc, char **argv, struct tvm_opts *o)
{
    int i;
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *a = argv[i];
        const char *v;
        bool missing = false;
        if (strcmp(a, "--") == 0)
            return i + 1;
        if ((v = option_value(argc, argv, &i, "--db", &missing))) {
            /* Never fall back to the default inventory: root's is real. */
            if (!*v) {
                err_set("option --db needs a path (it is empty)");
                return -1;
            }
            o->db_path = v;
        } else if (!missing && (v = option_value(argc, argv, &i, "--batch", &missing)))
            o->batch = v;
        else if (!missing && (v = option_value(argc, argv, &i, "--theme", &missing)))
            o->theme = v;
        else if (missing)
            return -1;
        else if (strcmp(a, "--keep-going") == 0)
            o->keep_going = true;
        else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)
            o->version = true;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            o->help = true;
        else {
            err_set("unknown option '%s'", a);
            return -1;
        }
    }
    return i;
}

static int run_tui(struct cmd_ctx *ctx, const char *theme)
{
#ifdef TVM_HAVE_TUI
    int rc = tui_main(ctx, theme);
    if (rc != 0)
        fprintf(stderr, "tvm: %s\n", err_msg());
    return rc;
#else
    (void)ctx;
    (void)theme;
    fprintf(stderr, "tvm: the TUI is not built yet; try 'tvm help'\n");
    return 1;
#endif
}

int main(int argc, char **argv)
{
    struct tvm_opts o = {0};
    int verb = parse_globals(argc, argv, &o);
    if (verb < 0) {
        fprintf(stderr, "tvm: %s\n", err_msg());
        print_usage(stderr);
        return CMD_USAGE;
    }
    if (o.version) {
        printf("tvm %s\n", TVM_VERSION);
        return 0;
    }
    if (o.keep_going && !o.batch) {
        fprintf(stderr, "tvm: --keep-going only applies to --batch\n");
        return CMD_USAGE;
    }
    if (o.batch && verb < argc) {
        fprintf(stderr, "tvm: --batch and a command ('%s') cannot be combined\n", argv[verb]);
        return CMD_USAGE;
    }

    struct cmd_ctx ctx = {
        .db_path = o.db_path ? o.db_path : store_default_path(),
        .out = stdout,
        .interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO),
    };
    int rc;
    if (o.help) {
        char *help_argv[] = {"help", NULL};
        print_usage(stdout);
        putchar('\n');
        rc = cmd_run_argv(&ctx, 1, help_argv);
    } else if (o.batch) {
        if (strcmp(o.batch, "-") == 0)
            ctx.interactive = false;
        rc = cmd_run_batch(&ctx, o.batch, o.keep_going);
    } else if (verb >= argc) {
        rc = run_tui(&ctx, o.theme);
    } else {
        rc = cmd_run_argv(&ctx, argc - verb, argv + verb);
        if (rc != CMD_OK)
            fprintf(stderr, "tvm: %s\n", err_msg());
    }
    fflush(stdout);
    if (ctx.store)
        store_close(ctx.store);
    return rc;
}
