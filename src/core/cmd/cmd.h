/* The command table: one entry per command, one file per command
 * (src/core/cmd-*.c), shared by one-shot verbs (`tvm list --all`), batch
 * scripts (`tvm --batch FILE`) and the TUI (its ':' prompt and key bindings
 * are command strings run through cmd_run_line()).
 *
 * Options follow virsh: `--all`, `--file PATH` or `--file=PATH`. An entry's
 * option spec is a comma-separated list; a trailing '=' means the option
 * takes a value: "all,name,inactive,file=". A trailing '=*' means it may
 * be given again, each time with one more value ("file=*": `--file a
 * --file b`, read with cmd_get_all()); any other option given twice is a
 * usage error. `--` ends options.
 * Exit codes: 0 ok, 1 command failed, 2 usage error.
 */
#ifndef TVM_CORE_CMD_H
#define TVM_CORE_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct store;

enum cmd_result {
    CMD_OK = 0,
    CMD_ERROR = 1, /* the command ran and failed; message in err_msg() */
    CMD_USAGE = 2, /* bad arguments or unknown command */
};

#define CMD_MAX_OPTS 64
#define CMD_MAX_POSITIONAL 8
#define CMD_NAME_MAX 32

struct cmd_entry;

struct cmd_args {
    const struct cmd_entry *entry; /* the command being run: its data row */
    int argc;                      /* positional arguments only */
    char **argv;
    const char *opt_names[CMD_MAX_OPTS];
    const char *opt_values[CMD_MAX_OPTS]; /* "" for flags */
    int nopts;
    /* Positional arguments given by name (`--domain a`), by slot; merged
     * into argv once parsing is done. */
    const char *named[CMD_MAX_POSITIONAL];
};
bool cmd_has(const struct cmd_args *a, const char *opt);
const char *cmd_get(const struct cmd_args *a, const char *opt); /* NULL if absent */
/* Every value of a repeatable option in the order given; how many (<= max). */
int cmd_get_all(const struct cmd_args *a, const char *opt, const char **values, int max);

/* What a command runs against. Output goes to `out`, errors are returned
 * through err_set() and printed by the caller (with FILE:LINE in batch). */
struct cmd_ctx {
    const char *db_path;
    struct store *store; /* opened lazily by cmd_store() */
    FILE *out;
    bool interactive; /* a terminal user is present (may prompt, run $EDITOR) */
    bool in_tui; /* running inside the TUI: commands that take over the terminal refuse or adapt */
    bool stdin_busy; /* stdin carries the batch script: `define -` must not read it */
    /* Long work (a wipe, an upload) says how far it got through
     * cmd_progress(). NULL: a bar on stderr when stderr is a terminal. The
     * TUI sets its own, called on the worker's thread. */
    void (*progress)(void *opaque, const char *what, uint64_t done, uint64_t total);
    void *progress_opaque;
};
/* DONE of TOTAL bytes of WHAT ("wiping web.img"); cheap enough per chunk.
 * cmd_progress_end() after the last call, whether the work finished or not. */
void cmd_progress(struct cmd_ctx *ctx, const char *what, uint64_t done, uint64_t total);
void cmd_progress_end(struct cmd_ctx *ctx);
/* The store, opened on first use. NULL with err_msg() set on failure. */
struct store *cmd_store(struct cmd_ctx *ctx);

struct cmd_entry {
    const char *name;
    const char *alias; /* NULL if none */
    const char *usage; /* "list [--all] [--inactive] [--name]" */
    const char *summary;
    const char *opts;       /* option spec, see above */
    int min_args, max_args; /* positional; max -1 = unbounded */
    enum cmd_result (*exec)(struct cmd_ctx *ctx, struct cmd_args *args);
    unsigned flags; /* CMD_F_* */
    /* What tells one command from its siblings when they share an exec
     * (the lifecycle verbs, the per-kind define/edit/...): exec reads it
     * as args->entry->data. */
    const void *data;
};

/* The command changes the store: cmd_run_argv() opens it and runs exec in
 * one transaction, committed on CMD_OK and rolled back otherwise, so a
 * failing command (or batch line) changes nothing. Leave it off for
 * commands that block for long (console) or hand work to other processes. */
#define CMD_F_WRITES 0x1u

/* TVM_VERSION ("0.1.0") comes from CMake: project(tvm VERSION ...). */

/* Every command, in help order; NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];

/* The command with this exact name or alias, as virsh finds its verbs (no
 * abbreviations). NULL with err_msg() set ("unknown command 'x'", with
 * the commands it abbreviates as a suggestion). */
const struct cmd_entry *cmd_find(const char *name);
/* As cmd_find(), and a unique prefix names its command: for the TUI's ':'
 * prompt only. NULL with "ambiguous command 'li': list, ..." when several. */
const struct cmd_entry *cmd_find_prefix(const char *name);
/* Parse argv (argv[0] is the command name) and run. */
enum cmd_result cmd_run_argv(struct cmd_ctx *ctx, int argc, char **argv);
/* Run one given entry as cmd_run_argv() runs a table entry (help, option
 * parsing, the CMD_F_WRITES transaction). For callers with entries of
 * their own, such as tests. */
enum cmd_result cmd_run_entry(struct cmd_ctx *ctx, const struct cmd_entry *e, int argc,
                              char **argv);
/* Split one line like a shell (quotes, backslashes) and run it. */
enum cmd_result cmd_run_line(struct cmd_ctx *ctx, const char *line);

/* Check argv (argv[0] is the command name) against e's option spec and
 * argument counts. On success out->argv is malloc'd (free it) and points
 * into argv. Returns CMD_OK or CMD_USAGE with err_msg() naming the problem
 * and the usage. `--help`/`-h` are not handled here (cmd_run_argv does). */
enum cmd_result cmd_parse_args(const struct cmd_entry *e, int argc, char **argv,
                               struct cmd_args *out);
void cmd_free_args(struct cmd_args *a);
/* The option names of e's positional arguments in order (`domain`,
 * `snapshotname`), read from its usage string; "" for one without a name.
 * Returns how many (at most max). */
int cmd_positional_names(const struct cmd_entry *e, char names[][CMD_NAME_MAX], int max);
/* "usage: NAME ARGS" and the summary, as `tvm help NAME` prints them. */
void cmd_print_help(const struct cmd_entry *e, FILE *f);

/* Shell-like word splitting for one logical line. Returns the number of
 * words (>= 0) with *argv malloc'd (free with cmd_free_words), or -1 with
 * an error such as "unterminated quote". */
int cmd_split_words(const char *line, char ***argv);
void cmd_free_words(int argc, char **argv);
/* False while `text` ends inside a quote or with a continuation backslash,
 * so a reader should append the next line before splitting. */
bool cmd_words_complete(const char *text);

/* Run a batch script ("-" = stdin). Stops at the first failing line and
 * reports "FILE:LINE: message" on stderr unless keep_going. Returns the
 * exit code (0, 1 or 2 as for a single command; with keep_going the worst). */
int cmd_run_batch(struct cmd_ctx *ctx, const char *path, bool keep_going);

#endif
