/* Option parsing against an entry's spec ("all,name,file="), virsh style:
 * `--opt`, `--opt VALUE`, `--opt=VALUE`, options anywhere among the
 * positional arguments, `--` ends options. A lone "-" is a positional
 * argument (stdin).
 *
 * As in virsh, every positional argument has an option name too
 * (`dominfo --domain a`, `snapshot-dumpxml a --snapshotname s`). The names
 * are read from the entry's usage string, so the usage stays the one place
 * that says what a command takes: its upper-case words are the positional
 * arguments, named in lower case or by virsh's name where it differs
 * (SNAPSHOT is --snapshotname).
 */
#include "core/cmd/cmd.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

/* The spec entry for `name` (length n), or NULL; *takes_value tells whether
 * it ends in '=', *repeatable whether in '=*' (a list given as repeated
 * options, as virsh's and virt-clone's `--file a --file b`). */
static const char *spec_lookup(const char *spec, const char *name, size_t n, bool *takes_value,
                               bool *repeatable)
{
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool repeat = len > 1 && p[len - 2] == '=' && p[len - 1] == '*';
        if (repeat)
            len--;
        bool value = len > 0 && p[len - 1] == '=';
        if ((value ? len - 1 : len) == n && strncmp(p, name, n) == 0) {
            *takes_value = value;
            *repeatable = repeat;
            return p;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* virsh's option name for a usage word, where it is not the word in lower case. */
static const struct {
    const char *word, *name;
} positional_aliases[] = {
    {"SNAPSHOT", "snapshotname"}, {"KEY", "vol"},       {"DOMAIN-UUID", "domain"},
    {"INPUTVOL", "vol"},          {"up|down", "state"}, {"TEXT", "new-desc"},
};

static bool is_usage_word(const char *w, size_t n)
{
    bool upper = false;
    for (size_t i = 0; i < n; i++) {
        if (w[i] >= 'A' && w[i] <= 'Z')
            upper = true;
        else if (!(w[i] >= '0' && w[i] <= '9') && w[i] != '-')
            return false;
    }
    return upper;
}

/* The option name of one positional usage word into name[CMD_NAME_MAX];
 * "" when it has none (lower-case words such as img's sub-verbs). */
static void positional_name(const char *w, size_t n, char *name)
{
    name[0] = '\0';
    for (size_t i = 0; i < sizeof(positional_aliases) / sizeof(positional_aliases[0]); i++)
        if (strlen(positional_aliases[i].word) == n &&
            strncmp(positional_aliases[i].word, w, n) == 0) {
            snprintf(name, CMD_NAME_MAX, "%s", positional_aliases[i].name);
            return;
        }
    if (!is_usage_word(w, n) || n >= CMD_NAME_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
    name[n] = '\0';
}

int cmd_positional_names(const struct cmd_entry *e, char names[][CMD_NAME_MAX], int max)
{
    const char *u = e->usage ? strchr(e->usage, ' ') : NULL;
    int count = 0;
    bool want_value = false, alternative = false;
    while (u && *u && count < max) {
        while (*u == ' ')
            u++;
        size_t len = strcspn(u, " ");
        if (len == 0)
            break;
        const char *w = u;
        size_t n = len;
        u += len;
        while (n && (*w == '[' || *w == '{' || *w == '(')) {
            w++;
            n--;
        }
        bool closed = n && (w[n - 1] == ']' || w[n - 1] == '}' || w[n - 1] == ')');
        while (n && (w[n - 1] == ']' || w[n - 1] == '}' || w[n - 1] == ')' || w[n - 1] == '.'))
            n--;
        if (strlen(e->name) == n && strncmp(w, e->name, n) == 0)
            return 0; /* several usages in one (img's sub-verbs): no names */
        if (n == 1 && *w == '|') {
            alternative = true;
            continue;
        }
        if (n && *w == '-') {
            /* An option; one not closed by a bracket takes the next word. */
            want_value = !closed && !memchr(w, '=', n);
            alternative = false;
            continue;
        }
        if (want_value && w == u - len) {
            want_value = false;
            alternative = false;
            continue;
        }
        want_value = false;
        if (alternative) {
            alternative = false;
            continue;
        }
        if (n == 0)
            continue;
        positional_name(w, n, names[count++]);
    }
    return count;
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

int cmd_get_all(const struct cmd_args *a, const char *opt, const char **values, int max)
{
    int n = 0;
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opt_names[i], opt) == 0 && n < max)
            values[n++] = a->opt_values[i];
    return n;
}

static enum cmd_result usage_error(const struct cmd_entry *e, const char *what)
{
    err_set("%s; usage: %s", what, e->usage);
    return CMD_USAGE;
}

/* `--NAME VALUE` (or `--NAME=VALUE`) where NAME is not an option of e but
 * names one of its positional arguments. */
static enum cmd_result add_named_positional(const struct cmd_entry *e, struct cmd_args *out,
                                            char **argv, int argc, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    char names[CMD_MAX_POSITIONAL][CMD_NAME_MAX];
    int count = cmd_positional_names(e, names, CMD_MAX_POSITIONAL);
    char what[512];
    int slot = -1;
    for (int k = 0; k < count && slot < 0; k++)
        if (names[k][0] && strlen(names[k]) == n && strncmp(names[k], arg, n) == 0)
            slot = k;
    if (slot < 0) {
        snprintf(what, sizeof(what), "command '%s' doesn't support option --%.*s", e->name,
                 (int)(n > 200 ? 200 : n), arg);
        return usage_error(e, what);
    }
    if (out->named[slot]) {
        snprintf(what, sizeof(what), "%s: option --%s already seen (it takes one value)", e->name,
                 names[slot]);
        return usage_error(e, what);
    }
    if (eq)
        out->named[slot] = eq + 1;
    else if (*i + 1 < argc)
        out->named[slot] = argv[++*i];
    else {
        snprintf(what, sizeof(what), "%s: option --%s needs a value", e->name, names[slot]);
        return usage_error(e, what);
    }
    return CMD_OK;
}

/* Puts the named positional arguments in their slots and the others, in
 * order, into the free slots around them: `snapshot-dumpxml --snapshotname s
 * a` is `snapshot-dumpxml a s`. */
static enum cmd_result merge_named(const struct cmd_entry *e, struct cmd_args *out)
{
    int last = -1;
    for (int k = 0; k < CMD_MAX_POSITIONAL; k++)
        if (out->named[k])
            last = k;
    if (last < 0)
        return CMD_OK;
    char **merged = calloc((size_t)out->argc + CMD_MAX_POSITIONAL + 1, sizeof(char *));
    if (!merged) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    int from = 0, n = 0;
    for (int k = 0; k <= last; k++) {
        if (out->named[k])
            merged[n++] = (char *)out->named[k];
        else if (from < out->argc)
            merged[n++] = out->argv[from++];
        else {
            char names[CMD_MAX_POSITIONAL][CMD_NAME_MAX], what[512];
            int count = cmd_positional_names(e, names, CMD_MAX_POSITIONAL);
            snprintf(what, sizeof(what), "%s: missing argument --%s", e->name,
                     k < count && names[k][0] ? names[k] : "?");
            free(merged);
            err_set("%s; usage: %s", what, e->usage);
            return CMD_USAGE;
        }
    }
    while (from < out->argc)
        merged[n++] = out->argv[from++];
    free(out->argv);
    out->argv = merged;
    out->argc = n;
    return CMD_OK;
}

/* Records the option at argv[*i] (and its value, which may be the next
 * word). Option names are copied so that they are NUL-terminated. */
static enum cmd_result add_option(const struct cmd_entry *e, struct cmd_args *out, char **argv,
                                  int argc, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    bool takes_value, repeatable;
    char what[512];

    const char *spec = spec_lookup(e->opts, arg, n, &takes_value, &repeatable);
    if (!spec)
        return add_named_positional(e, out, argv, argc, i);
    if (out->nopts >= CMD_MAX_OPTS)
        return usage_error(e, "too many options");
    char *name = strndup(spec, n);
    if (!name) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    const char *value = "";
    what[0] = '\0';
    if (opt_index(out, name) >= 0 && !repeatable)
        snprintf(what, sizeof(what), "%s: option --%s already seen (it takes one value)", e->name,
                 name);
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
    enum cmd_result merged = merge_named(e, out);
    if (merged != CMD_OK) {
        args_release(out);
        return merged;
    }
    char what[512];
    if (out->argc < e->min_args) {
        /* virsh's words, naming the first argument missing */
        char names[CMD_MAX_POSITIONAL][CMD_NAME_MAX];
        int count = cmd_positional_names(e, names, CMD_MAX_POSITIONAL);
        if (out->argc < count && names[out->argc][0])
            snprintf(what, sizeof(what), "command '%s' requires <%s> option", e->name,
                     names[out->argc]);
        else
            snprintf(what, sizeof(what), "%s: missing argument%s", e->name,
                     e->min_args - out->argc > 1 ? "s" : "");
        args_release(out);
        return usage_error(e, what);
    }
    if (e->max_args >= 0 && out->argc > e->max_args) {
        snprintf(what, sizeof(what), "unexpected data '%.200s'", out->argv[e->max_args]);
        args_release(out);
        return usage_error(e, what);
    }
    return CMD_OK;
}

void cmd_free_args(struct cmd_args *a)
{
    args_release(a);
}
