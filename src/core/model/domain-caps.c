/* What a tvm guest can be: the limits of tvm-vmm (one x86-64 KVM VMM)
 * that libvirt would find in the driver's capabilities. define and edit
 * check them so that a guest tvm cannot run is refused when it is written,
 * not when it is first started; tvm-vmm checks them again at start. */
#include "core/model/domain.h"

#include "core/base/err.h"
#include "core/xml/xml-util.h"

#include <libxml/tree.h>
#include <string.h>

static const char *const runnable_arches[] = {"x86_64", "i686", NULL};

int domain_check_runnable(const struct domain *d, const char *origin)
{
    xmlNodePtr root = d->doc ? xmlDocGetRootElement((xmlDocPtr)d->doc) : NULL;
    xmlNodePtr os = root ? xml_child(root, "os") : NULL;
    xmlNodePtr type = os ? xml_child(os, "type") : NULL;
    if (d->os_type && strcmp(d->os_type, "hvm") != 0)
        return xml_err(origin, type, "os type",
                       "tvm-vmm runs fully virtualized guests (hvm), not '%s'", d->os_type);
    if (d->os_arch && !xml_in_list(d->os_arch, runnable_arches))
        return xml_err(origin, type, "type arch",
                       "tvm-vmm runs x86_64 and i686 guests, not arch '%s'", d->os_arch);
    if (d->vcpus > DOMAIN_MAX_VCPUS)
        return xml_err(origin, root ? xml_child(root, "vcpu") : NULL, "vcpu",
                       "%u vCPUs is more than tvm-vmm's limit of %u", d->vcpus, DOMAIN_MAX_VCPUS);
    return 0;
}
