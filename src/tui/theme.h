/* Colour themes: semantic roles mapped to colours by small text files.
 *
 *     # comment
 *     role = FG BG [ATTR ...]
 *
 * Colours are names (black red green yellow blue magenta cyan white, their
 * bright-* forms, default) or 0-255. Attributes: bold dim underline reverse
 * blink italic standout. A theme is loaded (and every error reported with
 * FILE:LINE) before the screen starts; theme_apply() then turns it into
 * curses colour pairs, degrading 256 colours to 16 or 8 when the terminal
 * has fewer.
 */
#ifndef TVM_TUI_THEME_H
#define TVM_TUI_THEME_H

#include <stdbool.h>
#include <stddef.h>

enum role {
    ROLE_TITLE,
    ROLE_LIST_HEADER,
    ROLE_ROW,
    ROLE_ROW_SELECTED,
    ROLE_STATE_RUNNING,
    ROLE_STATE_PAUSED,
    ROLE_STATE_SHUTOFF,
    ROLE_STATE_CRASHED,
    ROLE_STATE_OTHER,
    ROLE_STATUS,
    ROLE_STATUS_ERROR,
    ROLE_HELP_KEY,
    ROLE_HELP_TEXT,
    ROLE_BORDER,
    ROLE_TAB_ACTIVE,
    ROLE_TAB,
    ROLE_LABEL,
    ROLE_CONSOLE,
    ROLE_DIALOG,
    ROLE_FILTER,
    ROLE_COUNT
};

#define THEME_DEFAULT_COLOUR (-1)

struct theme_entry {
    short fg, bg;   /* 0-255 or THEME_DEFAULT_COLOUR */
    unsigned attrs; /* curses A_* bits */
};

struct theme {
    char name[64];
    char path[4096]; /* file it came from, "" for the built-in one */
    struct theme_entry roles[ROLE_COUNT];
};

/* The compiled-in theme (used for roles a file leaves out). */
void theme_builtin(struct theme *t);
/* Parse a theme file over the built-in defaults. -1 with "FILE:LINE: ..." in err_msg(). */
int theme_load_file(struct theme *t, const char *path);
/* Find NAME (or a path containing '/') in the theme search path and load it.
 * Search: $XDG_CONFIG_HOME/tvm/themes, $TVM_THEMES_DIR, <bindir>/../share/tvm/themes,
 * <bindir>/../themes. */
int theme_load(struct theme *t, const char *name);
/* Name of the theme chosen in $XDG_CONFIG_HOME/tvm/tvm.conf (`theme = NAME`),
 * copied to buf ("" when unset). -1 with FILE:LINE on a malformed config. */
int theme_config_name(char *buf, size_t len);
/* The names of the themes in the search path (each once, sorted); how many. */
int theme_list(char (*names)[64], int max);
/* Keep NAME as the theme in tvm.conf: its theme line replaced (or one
 * added), every other line as it was. The file's path goes to path_out. */
int theme_config_save(const char *name, char *path_out, size_t len);
const char *theme_role_name(enum role r);

/* After initscr(): create colour pairs. */
void theme_apply(const struct theme *t);
/* curses attributes (colour pair + attrs) for a role. */
unsigned theme_attr(enum role r);

#endif
