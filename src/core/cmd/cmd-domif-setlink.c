/* domif-setlink DOMAIN INTERFACE up|down [--config]: a NIC's link state,
 * as virsh does it. INTERFACE is the MAC address or the tap's name.
 *
 * A running domain changes live (QMP set_link: the guest's carrier
 * follows) and its stored definition stays as it is; --config (or a
 * domain that is not running) changes <link state=.../> in the stored
 * definition only, for the next start.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "core/cmd/cmd-util.h"
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "core/base/mac.h"
#include "core/virt/vm.h"
#include "store/store.h"
#include "core/xml/xml-util.h"

#define ERR_NOT_FOUND "interface '%s' not found"

/* Index of the NIC whose MAC (any case, any digit count) or target dev is IFACE; -1 if none. */
static int find_nic(const struct domain *d, const char *iface)
{
    char mac[MAC_STR_LEN];
    bool is_mac = mac_parse(iface, mac) == 0;
    err_clear();
    for (size_t i = 0; i < d->nnics; i++) {
        const struct domain_nic *n = &d->nics[i];
        if ((is_mac && !strcasecmp(n->mac, mac)) ||
            (n->target_dev && !strcmp(n->target_dev, iface)))
            return (int)i;
    }
    return -1;
}

/* <link state=...> of the index-th <interface>; libvirt puts it after
 * the model/driver/backend group, before mtu and the device address. */
static int set_link_xml(struct domain *d, size_t index, const char *state)
{
    xmlNodePtr root = xmlDocGetRootElement((xmlDocPtr)d->doc);
    xmlNodePtr n = xml_child(xml_child(root, "devices"), "interface");
    for (size_t i = 0; n && i < index; i++)
        n = xml_next(n, "interface");
    if (!n)
        return err_set("interface #%zu not found in the document", index);
    xmlNodePtr link = xml_child(n, "link");
    if (!link) {
        static const char *const later[] = {"mtu",   "coalesce", "teaming", "boot", "rom",
                                            "alias", "address",  "acpi",    NULL};
        xmlNodePtr before = NULL;
        for (xmlNodePtr c = n->children; c && !before; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xml_in_list((const char *)c->name, later))
                before = c;
        link = xmlNewDocNode((xmlDocPtr)d->doc, NULL, BAD_CAST "link", NULL);
        if (!link || !(before ? xmlAddPrevSibling(before, link) : xmlAddChild(n, link)))
            return err_set("out of memory");
    }
    if (xml_set_prop(link, "state", state) < 0)
        return -1;
    char *copy = xml_strdup(state);
    if (!copy)
        return err_set("out of memory");
    free(d->nics[index].link_state);
    d->nics[index].link_state = copy;
    return 0;
}

static int setlink_config(struct store *st, struct domain *d, const char *iface, const char *state)
{
    int i = find_nic(d, iface);
    if (i < 0)
        return err_set(ERR_NOT_FOUND, iface);
    if (set_link_xml(d, (size_t)i, state) < 0 || store_domain_update(st, d) < 0)
        return -1;
    char detail[128];
    snprintf(detail, sizeof detail, "interface %s link %s", d->nics[i].mac, state);
    return store_event_add(st, "domain", d->name, "updated", detail);
}

/* The VMM finds its NIC by MAC, tap name (also one the kernel chose, which
 * no stored definition has) or QMP name; a MAC goes in canonical form. */
static int setlink_live(const struct store_domain_row *row, const char *iface, bool up)
{
    char name[MAC_STR_LEN > 32 ? MAC_STR_LEN : 32];
    if (mac_parse(iface, name) < 0) {
        err_clear();
        if (strlen(iface) >= sizeof name || strpbrk(iface, "\"\\"))
            return err_set(ERR_NOT_FOUND, iface);
        snprintf(name, sizeof name, "%s", iface);
    }
    char args[128];
    snprintf(args, sizeof args, "{\"name\": \"%s\", \"up\": %s}", name, up ? "true" : "false");
    return vm_qmp(row, VM_QMP_TIMEOUT_MS, "set_link", args, NULL);
}

static enum cmd_result setlink_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *iface = args->argv[1], *state = args->argv[2];
    if (strcmp(state, "up") && strcmp(state, "down")) {
        err_set("invalid link state '%s'", state);
        return CMD_ERROR;
    }
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct domain *d;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return CMD_ERROR;
    bool config =
        cmd_has(args, "config") || cmd_has(args, "persistent") || !cmd_domain_is_active(&row);
    int rc = config ? setlink_config(st, d, iface, state)
                    : setlink_live(&row, iface, !strcmp(state, "up"));
    domain_free(d);
    if (rc < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Device updated successfully\n\n");
    return CMD_OK;
}

const struct cmd_entry cmd_domif_setlink_entry = {
    .name = "domif-setlink",
    .usage = "domif-setlink DOMAIN INTERFACE up|down [--config]",
    .summary = "set the link state of a domain's network interface (MAC or tap name)",
    .opts = "config,persistent",
    .min_args = 3,
    .max_args = 3,
    .exec = setlink_exec,
    .flags = CMD_F_WRITES,
};
