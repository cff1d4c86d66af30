/* Option parsing against an entry's spec ("all,name,file="), virsh style:
 * `--opt`, `--opt VALUE`, `--opt=VALUE`, options anywhere among the
 * positional arguments, `--` ends options. A lone "-" is a positional
 * argument (stdin).
 */
#include "core/cmd/cmd.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

/* The spec entry for `name` (length n), or NULL; *takes_value tells whether
 * it ends in '='. */
static const char *spec_lookup(const char *spec, const char *name, size_t n, bool *takes_value)
{
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool value = len > 0 && p[len - 1] == '=';
        if ((value ? len - 1 : len) == n && strncmp(p, name, n) == 0) {
            *takes_value = value;
            return p;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static int opt_index(const struct cmd_args *a, const char *opt)
{
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opt_names[i], opt) == 0)
            return i;
    return -1;
}

bool cmd_has(const struct cmd_args *a, const char *opt)
{
    return opt_index(a, opt) >= 0;
}

const char *cmd_get(const struct cmd_args *a, const char *opt)
{
    int i = opt_index(a, opt);
    return i < 0 ? NULL : a->opt_values[i];
}

static enum cmd_result usage_error(const struct cmd_entry *e, const char *what)
{
    err_set("%s; usage: %s", what, e->usage);
    return CMD_USAGE;
}

/* Records the option at argv[*i] (and its value, which may be the next
 * word). Option names are copied so that they are NUL-terminated. */
static enum cmd_result add_option(const struct cmd_entry *e, struct cmd_args *out, char **argv,
                                  int argc, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    bool takes_value;
    char what[512];

    const char *spec = spec_lookup(e->opts, arg, n, &takes_value);
    if (!spec) {
        snprintf(what, sizeof(what), "command '%s' doesn't support option --%.*s", e->name,
                 (int)(n > 200 ? 200 : n), arg);
        return usage_error(e, what);
    }
    if (out->nopts >= CMD_MAX_OPTS)
        return usage_error(e, "too many options");
    char *name = strndup(spec, n);
    if (!name) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    const char *value = "";
    what[0] = '\0';
    if (opt_index(out, name) >= 0)
        snprintf(what, sizeof(what), "%s: option --%s given twice", e->name, name);
    else if (takes_value && eq)
        value = eq + 1;
    else if (takes_value && *i + 1 < argc)
        value = argv[++*i];
    else if (takes_value)
        snprintf(what, sizeof(what), "%s: option --%s needs a value", e->name, name);
    else if (eq)
        snprintf(what, sizeof(what), "%s: option --%s takes no value", e->name, name);
    if (what[0]) {
        free(name);
        return usage_error(e, what);
    }
    out->opt_names[out->nopts] = name;
    out->opt_values[out->nopts] = value;
    out->nopts++;
    return CMD_OK;
}

static void args_release(struct cmd_args *out)
{
    for (int i = 0; i < out->nopts; i++)
        free((char *)out->opt_names[i]);
    free(out->argv);
    memset(out, 0, sizeof(*out));
}

enum cmd_result cmd_parse_args(const struct cmd_entry *e, int argc, char **argv,
                               struct cmd_args *out)
{
    memset(out, 0, sizeof(*out));
    out->entry = e;
    out->argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!out->argv) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && a[0] == '-' && a[1] == '-') {
            enum cmd_result r = add_option(e, out, argv, argc, &i);
            if (r != CMD_OK) {
                args_release(out);
                return r;
            }
        } else {
            out->argv[out->argc++] = argv[i];
        }
    }
    char what[512];
    if (out->argc < e->min_args) {
        snprintf(what, sizeof(what), "%s: missing argument%s", e->name,
                 e->min_args - out->argc > 1 ? "s" : "");
        args_release(out);
        return usage_error(e, what);
    }
    if (e->max_args >= 0 && out->argc > e->max_args) {
        snprintf(what, sizeof(what), "%s: unexpected argument '%.200s'", e->name,
                 out->argv[e->max_args]);
        args_release(out);
        return usage_error(e, what);
    }
    return CMD_OK;
}

void cmd_free_args(struct cmd_args *a)
{
    args_release(a);
}
