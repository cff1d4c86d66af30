/* Every command entry, one line each, in help order: CMD(entry_symbol).
 * Each entry is defined in its own src/core/cmd-*.c file as
 *     const struct cmd_entry cmd_<name>_entry = { ... };
 * Add a line here when you add the file. */

/* foundation: inventory and XML */
/* lifecycle (VMM) */
/* TUI-only or misc */
