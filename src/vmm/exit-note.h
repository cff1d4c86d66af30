/* What went wrong while tvm-vmm tore the guest down, for exit.json: a disk
 * whose completed writes could not be flushed on close turns an otherwise
 * clean exit into an error (the guest's data may be lost, and tvm must
 * not record a clean shutdown). Main thread only (teardown). */
#ifndef TVM_VMM_EXIT_NOTE_H
#define TVM_VMM_EXIT_NOTE_H

/* Keeps the first message noted; later ones are only logged to stderr. */
void vmm_exit_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first message noted, or NULL. */
const char *vmm_exit_noted(void);

#endif
