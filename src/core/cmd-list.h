/* Every command entry, one line each, in help order: CMD(entry_symbol).
 * Each entry is defined in its own src/core/cmd-*.c file as
 *     const struct cmd_entry cmd_<name>_entry = { ... };
 * Add a line here when you add the file. */

/* foundation: inventory and XML */
CMD(cmd_help_entry)
CMD(cmd_version_entry)
/* lifecycle (VMM) */
CMD(cmd_start_entry)
CMD(cmd_shutdown_entry)
CMD(cmd_destroy_entry)
CMD(cmd_reboot_entry)
CMD(cmd_reset_entry)
CMD(cmd_suspend_entry)
CMD(cmd_resume_entry)
CMD(cmd_console_entry)
CMD(cmd_domstate_entry)
/* TUI-only or misc */
