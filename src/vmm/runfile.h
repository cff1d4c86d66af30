/* Small files tvm-vmm leaves in its run directory for tvm to read (the
 * taps its NICs got, where its VNC server listens: vmm-protocol.h). */
#ifndef TVM_VMM_RUNFILE_H
#define TVM_VMM_RUNFILE_H

/* RUNDIR/NAME := TEXT, written as NAME.tmp and renamed, so a reader sees
 * all of it or nothing. -1 with err_msg() set. */
int runfile_write(const char *rundir, const char *name, const char *text);

#endif
