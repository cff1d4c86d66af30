/* Keeps the TUI library non-empty while its files are being written. */
typedef int tvm_tui_keep;
