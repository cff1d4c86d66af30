/* QMP migrate / migrate-incoming / query-migrate (migrate.c): the guest's
 * saved state over a descriptor sent with getfd ("fd:NAME"). */
#ifndef TVM_VMM_MIGRATE_H
#define TVM_VMM_MIGRATE_H

struct vm;

/* Registers the commands; DOMAIN_XML (copied) is the definition the
 * guest runs with, which every saved state carries first. */
int migrate_init(struct vm *vm, const char *domain_xml);
void migrate_close(void);

#endif
