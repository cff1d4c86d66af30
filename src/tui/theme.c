/* Theme files: parsing, the search path, and turning roles into curses pairs. */
#include "tui/theme.h"
#include "core/base/err.h"
#include "core/base/paths.h"

#include <curses.h>
#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const role_names[ROLE_COUNT] = {
    [ROLE_TITLE] = "title",
    [ROLE_LIST_HEADER] = "list-header",
    [ROLE_ROW] = "row",
    [ROLE_ROW_SELECTED] = "row-selected",
    [ROLE_STATE_RUNNING] = "state-running",
    [ROLE_STATE_PAUSED] = "state-paused",
    [ROLE_STATE_SHUTOFF] = "state-shutoff",
    [ROLE_STATE_CRASHED] = "state-crashed",
    [ROLE_STATE_OTHER] = "state-other",
    [ROLE_STATUS] = "status",
    [ROLE_STATUS_ERROR] = "status-error",
    [ROLE_HELP_KEY] = "help-key",
    [ROLE_HELP_TEXT] = "help-text",
    [ROLE_BORDER] = "border",
    [ROLE_TAB_ACTIVE] = "tab-active",
    [ROLE_TAB] = "tab",
    [ROLE_LABEL] = "label",
    [ROLE_CONSOLE] = "console",
    [ROLE_DIALOG] = "dialog",
    [ROLE_FILTER] = "filter",
};

static const char *const colour_names[8] = {"black", "red",     "green", "yellow",
                                            "blue",  "magenta", "cyan",  "white"};

static const struct {
    const char *name;
    unsigned attr;
} attr_names[] = {
    {"bold", A_BOLD},   {"dim", A_DIM},       {"underline", A_UNDERLINE}, {"reverse", A_REVERSE},
    {"blink", A_BLINK}, {"italic", A_ITALIC}, {"standout", A_STANDOUT},   {"normal", 0},
};

/* The attributes per role once theme_apply() ran. */
static unsigned role_attrs[ROLE_COUNT];

const char *theme_role_name(enum role r)
{
    return r < ROLE_COUNT ? role_names[r] : "?";
}

static void set(struct theme *t, enum role r, short fg, short bg, unsigned attrs)
{
    t->roles[r] = (struct theme_entry){.fg = fg, .bg = bg, .attrs = attrs};
}

void theme_builtin(struct theme *t)
{
    const short D = THEME_DEFAULT_COLOUR;
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "built-in");
    set(t, ROLE_TITLE, COLOR_BLACK, COLOR_CYAN, 0);
    set(t, ROLE_LIST_HEADER, COLOR_BLACK, COLOR_GREEN, 0);
    set(t, ROLE_ROW, D, D, 0);
    set(t, ROLE_ROW_SELECTED, COLOR_BLACK, COLOR_CYAN, 0);
    set(t, ROLE_STATE_RUNNING, COLOR_GREEN, D, A_BOLD);
    set(t, ROLE_STATE_PAUSED, COLOR_YELLOW, D, 0);
    set(t, ROLE_STATE_SHUTOFF, D, D, A_DIM);
    set(t, ROLE_STATE_CRASHED, COLOR_RED, D, A_BOLD);
    set(t, ROLE_STATE_OTHER, COLOR_MAGENTA, D, 0);
    set(t, ROLE_STATUS, D, D, 0);
    set(t, ROLE_STATUS_ERROR, COLOR_WHITE, COLOR_RED, A_BOLD);
    set(t, ROLE_HELP_KEY, D, D, 0);
    set(t, ROLE_HELP_TEXT, COLOR_BLACK, COLOR_CYAN, 0);
    set(t, ROLE_BORDER, COLOR_BLUE, D, 0);
    set(t, ROLE_TAB_ACTIVE, COLOR_BLACK, COLOR_YELLOW, A_BOLD);
    set(t, ROLE_TAB, D, D, 0);
    set(t, ROLE_LABEL, COLOR_CYAN, D, 0);
    set(t, ROLE_CONSOLE, D, D, 0);
    set(t, ROLE_DIALOG, COLOR_BLACK, COLOR_WHITE, 0);
    set(t, ROLE_FILTER, COLOR_BLACK, COLOR_YELLOW, 0);
}

/* "red", "bright-red", "default", "0".."255" -> colour number; -2 if unknown. */
static int parse_colour(const char *s)
{
    if (!strcasecmp(s, "default"))
        return THEME_DEFAULT_COLOUR;
    int bright = 0;
    if (!strncasecmp(s, "bright-", 7)) {
        bright = 8;
        s += 7;
    }
    for (int i = 0; i < 8; i++)
        if (!strcasecmp(s, colour_names[i]))
            return i + bright;
    if (bright || !*s)
        return -2;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < 0 || v > 255)
        return -2;
    return (int)v;
}

static int parse_attr(const char *s, unsigned *attr)
{
    for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
        if (!strcasecmp(s, attr_names[i].name)) {
            *attr |= attr_names[i].attr;
            return 0;
        }
    }
    return -1;
}

static int find_role(const char *s)
{
    for (int r = 0; r < ROLE_COUNT; r++)
        if (!strcmp(s, role_names[r]))
            return r;
    return -1;
}

/* Split in place on blanks; returns the number of words (at most max). */
static int split_blanks(char *s, char **words, int max)
{
    int n = 0;
    for (char *tok = strtok(s, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
        if (n == max)
            return max + 1;
        words[n++] = tok;
    }
    return n;
}

static int parse_line(struct theme *t, char *line, const char *path, unsigned lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *eq = strchr(line, '=');
    char *words[8];
    if (!eq) {
        if (split_blanks(line, words, 8) == 0)
            return 0; /* blank or comment */
        return err_set("%s:%u: expected 'role = fg bg [attrs]'", path, lineno);
    }
    *eq = '\0';
    char *lhs[2];
    if (split_blanks(line, lhs, 1) != 1)
        return err_set("%s:%u: expected one role name before '='", path, lineno);
    int role = find_role(lhs[0]);
    if (role < 0)
        return err_set("%s:%u: unknown role '%s'", path, lineno, lhs[0]);
    int n = split_blanks(eq + 1, words, 8);
    if (n < 2)
        return err_set("%s:%u: %s: expected a foreground and a background colour", path, lineno,
                       lhs[0]);
    if (n > 8)
        return err_set("%s:%u: %s: too many words", path, lineno, lhs[0]);
    int fg = parse_colour(words[0]), bg = parse_colour(words[1]);
    if (fg == -2)
        return err_set("%s:%u: unknown colour '%s'", path, lineno, words[0]);
    if (bg == -2)
        return err_set("%s:%u: unknown colour '%s'", path, lineno, words[1]);
    unsigned attrs = 0;
    for (int i = 2; i < n; i++)
        if (parse_attr(words[i], &attrs) < 0)
            return err_set("%s:%u: unknown attribute '%s'", path, lineno, words[i]);
    set(t, role, (short)fg, (short)bg, attrs);
    return 0;
}

int theme_load_file(struct theme *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_errno("cannot open theme %s", path);
    char line[1024];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f))
        rc = parse_line(t, line, path, ++lineno);
    fclose(f);
    size_t plen = strlen(path);
    if (rc == 0 && plen < sizeof(t->path))
        memcpy(t->path, path, plen + 1);
    return rc;
}

static const char *config_home(char *buf, size_t len)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    if (x && *x)
        snprintf(buf, len, "%s", x);
    else
        snprintf(buf, len, "%s/.config", getenv("HOME") ? getenv("HOME") : "/");
    return buf;
}

/* Directories searched for NAME.theme, in order; returns how many. */
static int theme_dirs(char dirs[][PATH_MAX], int max)
{
    int n = 0;
    char tmp[PATH_MAX];
    snprintf(dirs[n++], PATH_MAX, "%.*s/tvm/themes", PATH_MAX - 32, config_home(tmp, sizeof(tmp)));
    const char *env = getenv("TVM_THEMES_DIR");
    if (env && *env)
        snprintf(dirs[n++], PATH_MAX, "%s", env);
    if (paths_self_dir(tmp, sizeof(tmp)) == 0 && n + 2 <= max) {
        snprintf(dirs[n++], PATH_MAX, "%.*s/../share/tvm/themes", PATH_MAX - 32, tmp);
        snprintf(dirs[n++], PATH_MAX, "%.*s/../themes", PATH_MAX - 32, tmp);
    }
    err_clear();
    return n;
}

int theme_load(struct theme *t, const char *name)
{
    theme_builtin(t);
    if (strchr(name, '/'))
        return theme_load_file(t, name);
    char dirs[4][PATH_MAX];
    int n = theme_dirs(dirs, 4);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 128];
        if (strlen(dirs[i]) + strlen(name) + 8 >= sizeof(path))
            continue;
        strcpy(path, dirs[i]);
        strcat(path, "/");
        strcat(path, name);
        strcat(path, ".theme");
        if (access(path, R_OK) == 0) {
            snprintf(t->name, sizeof(t->name), "%s", name);
            return theme_load_file(t, path);
        }
    }
    if (!strcmp(name, "default"))
        return 0; /* no theme files installed: the built-in one is the default */
    return err_set("theme '%s' not found (looked in %s%s%s)", name, dirs[0], n > 1 ? " and " : "",
                   n > 1 ? "the themes directories" : "");
}

int theme_config_name(char *buf, size_t len)
{
    char home[PATH_MAX], path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/tvm/tvm.conf", config_home(home, sizeof(home)));
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : err_errno("cannot open %s", path);
    char line[1024];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *words[4];
        char *eq = strchr(line, '=');
        if (!eq) {
            if (split_blanks(line, words, 3) != 0)
                rc = err_set("%s:%u: expected 'key = value'", path, lineno);
            continue;
        }
        *eq = '\0';
        int nkey = split_blanks(line, words, 1);
        if (nkey != 1 || strcmp(words[0], "theme") != 0) {
            rc = err_set("%s:%u: unknown setting '%s'", path, lineno, nkey == 1 ? words[0] : "");
            continue;
        }
        if (split_blanks(eq + 1, words, 1) != 1)
            rc = err_set("%s:%u: theme: expected one theme name", path, lineno);
        else
            snprintf(buf, len, "%s", words[0]);
    }
    fclose(f);
    return rc;
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

int theme_list(char (*names)[64], int max)
{
    char dirs[4][PATH_MAX];
    int ndirs = theme_dirs(dirs, 4), n = 0;
    for (int d = 0; d < ndirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        for (struct dirent *e; n < max && (e = readdir(dir));) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len <= 6 || len - 6 >= 64 ||
                strcmp(e->d_name + len - 6, ".theme") != 0)
                continue;
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(len - 6), e->d_name);
            bool seen = false;
            for (int i = 0; i < n && !seen; i++)
                seen = !strcmp(names[i], name);
            if (!seen)
                memcpy(names[n++], name, sizeof(name));
        }
        closedir(dir);
    }
    qsort(names, (size_t)n, sizeof(names[0]), name_cmp);
    return n;
}

/* A theme name is one word: it goes into tvm.conf as it is. */
static bool theme_name_ok(const char *name)
{
    if (!*name || strlen(name) >= 64)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '#' || *p == '=')
            return false;
    return true;
}

/* Is this tvm.conf line (comments aside) the theme setting? */
static bool is_theme_line(const char *line)
{
    char copy[1024], *words[2];
    snprintf(copy, sizeof(copy), "%s", line);
    char *hash = strchr(copy, '#');
    if (hash)
        *hash = '\0';
    char *eq = strchr(copy, '=');
    if (!eq)
        return false;
    *eq = '\0';
    return split_blanks(copy, words, 1) == 1 && !strcmp(words[0], "theme");
}

int theme_config_save(const char *name, char *path_out, size_t len)
{
    if (!theme_name_ok(name))
        return err_set("theme name '%s' cannot be kept in tvm.conf (one word, no '#' or '=')",
                       name);
    char home[PATH_MAX], dir[PATH_MAX + 16], path[PATH_MAX + 32], tmp[PATH_MAX + 48];
    config_home(home, sizeof(home));
    snprintf(dir, sizeof(dir), "%s/tvm", home);
    snprintf(path, sizeof(path), "%s/tvm.conf", dir);
    snprintf(tmp, sizeof(tmp), "%s/.tvm.conf.new", dir);
    if (path_out)
        snprintf(path_out, len, "%s", path);
    /* The other lines (comments too) stay as the user wrote them. */
    if (mkdir(home, 0700) < 0 && errno != EEXIST)
        return err_errno("cannot create %s", home);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_errno("cannot create %s", dir);
    FILE *in = fopen(path, "r");
    if (!in && errno != ENOENT)
        return err_errno("cannot open %s", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        int saved = errno;
        if (in)
            fclose(in);
        errno = saved;
        return err_errno("cannot write %s", tmp);
    }
    bool written = false;
    char line[1024];
    while (in && fgets(line, sizeof(line), in)) {
        if (!is_theme_line(line)) {
            fputs(line, out);
            if (!strchr(line, '\n'))
                fputc('\n', out);
        } else if (!written) {
            fprintf(out, "theme = %s\n", name);
            written = true;
        }
    }
    if (!written)
        fprintf(out, "theme = %s\n", name);
    if (in)
        fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        int saved = errno;
        fclose(out);
        unlink(tmp);
        errno = saved;
        return err_errno("cannot write %s", tmp);
    }
    fclose(out);
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return err_errno("cannot replace %s", path);
    }
    return 0;
}

/* A 256-colour index as the nearest of the 8 basic colours. */
static short colour_to_8(int c)
{
    if (c < 8)
        return (short)c;
    if (c < 16)
        return (short)(c - 8);
    if (c >= 232)
        return c >= 244 ? COLOR_WHITE : COLOR_BLACK;
    int v = c - 16, r = v / 36, g = (v / 6) % 6, b = v % 6;
    return (short)((r >= 3 ? COLOR_RED : 0) | (g >= 3 ? COLOR_GREEN : 0) |
                   (b >= 3 ? COLOR_BLUE : 0));
}

/* Fit one colour to what the terminal has; bright forms become bold on 8-colour terminals. */
static short fit_colour(int c, unsigned *attrs, bool is_fg)
{
    if (c < 0 || c < COLORS)
        return (short)c;
    if (c >= 8 && c < 16 && is_fg)
        *attrs |= A_BOLD;
    return colour_to_8(c);
}

void theme_apply(const struct theme *t)
{
    bool colour = has_colors() && start_color() == OK;
    if (colour)
        use_default_colors();
    for (int r = 0; r < ROLE_COUNT; r++) {
        const struct theme_entry *e = &t->roles[r];
        unsigned attrs = e->attrs;
        if (colour && r + 1 < COLOR_PAIRS) {
            short fg = fit_colour(e->fg, &attrs, true), bg = fit_colour(e->bg, &attrs, false);
            init_pair((short)(r + 1), fg, bg);
            attrs |= COLOR_PAIR(r + 1);
        } else if (r == ROLE_ROW_SELECTED || r == ROLE_TITLE || r == ROLE_LIST_HEADER ||
                   r == ROLE_TAB_ACTIVE || r == ROLE_DIALOG || r == ROLE_STATUS_ERROR) {
            attrs |= A_REVERSE; /* monochrome: keep the bars and the selection visible */
        }
        role_attrs[r] = attrs;
    }
}

unsigned theme_attr(enum role r)
{
    return r < ROLE_COUNT ? role_attrs[r] : 0;
}
