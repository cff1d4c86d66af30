/* The details pane: tabs over the selected domain's parsed definition,
 * read through the inventory API (core/cmd/inventory.h). */
#include "tui/app.h"
#include "tui/format.h"
#include "core/base/err.h"
#include "core/base/paths.h"
#include "core/proto/vmm-protocol.h"
#include "core/cmd/inventory.h"

#include <curses.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tab_names[TAB_COUNT] = {
    [TAB_OVERVIEW] = "Overview",         [TAB_DISKS] = "Disks", [TAB_NICS] = "NICs",
    [TAB_GRAPHICS] = "Graphics/console", [TAB_BOOT] = "Boot",   [TAB_XML] = "XML",
};

const char *details_tab_name(enum details_tab t)
{
    return t < TAB_COUNT ? tab_names[t] : "?";
}

void details_free(struct details *d)
{
    if (d->dom)
        domain_free(d->dom);
    free(d->xml);
    d->dom = NULL;
    d->xml = NULL;
    d->uuid[0] = '\0';
}

void details_invalidate(struct app *a)
{
    a->det.stale = true;
}

void details_load(struct app *a)
{
    struct details *d = &a->det;
    const struct dom_item *it = domlist_selected(&a->list);
    if (!it) {
        details_free(d);
        return;
    }
    if (!d->stale && !strcmp(d->uuid, it->uuid))
        return;
    if (strcmp(d->uuid, it->uuid))
        d->scroll = 0;
    details_free(d);
    d->stale = false;
    d->parse_error[0] = '\0';
    memcpy(d->uuid, it->uuid, sizeof(d->uuid));
    /* A quick read on the UI thread's own connection; the text is the
     * public one (no VNC passwd), as `tvm dumpxml` prints it. */
    if (inventory_domain_details(a->ctx, it->uuid, &d->xml, &d->dom) < 0)
        snprintf(d->parse_error, sizeof(d->parse_error), "%s", err_msg());
}

/* The pane's text: label/value rows built for the current tab. */
struct pane_text {
    char **labels, **values;
    size_t n, cap;
};

static void add(struct pane_text *t, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct pane_text *t, const char *label, const char *fmt, ...)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char **l = realloc(t->labels, cap * sizeof(*l));
        if (l)
            t->labels = l;
        char **v = realloc(t->values, cap * sizeof(*v));
        if (v)
            t->values = v;
        if (!l || !v)
            return;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *value = NULL;
    if (vasprintf(&value, fmt, ap) < 0)
        value = NULL;
    va_end(ap);
    t->labels[t->n] = strdup(label ? label : "");
    t->values[t->n] = value;
    t->n++;
}

static void pane_text_free(struct pane_text *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->labels[i]);
        free(t->values[i]);
    }
    free(t->labels);
    free(t->values);
}

static const char *s_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static void tab_overview(struct app *a, const struct dom_item *it, const struct domain *d,
                         struct pane_text *t)
{
    char cur[32], max[32];
    add(t, "Name", "%s", d->name);
    add(t, "UUID", "%s", d->uuid);
    if (d->title && *d->title)
        add(t, "Title", "%s", d->title);
    if (d->description && *d->description)
        add(t, "Description", "%s", d->description);
    add(t, "State", "%s", domain_state_name(it->state));
    add(t, "Persistent", "%s", it->transient ? "no (transient: gone once it stops)" : "yes");
    add(t, "Autostart", "%s", it->autostart ? "yes" : "no");
    add(t, "vCPUs", "%u (maximum %u)", d->vcpus_current, d->vcpus);
    fmt_kib(cur, sizeof(cur), d->current_memory_kib);
    fmt_kib(max, sizeof(max), d->memory_kib);
    add(t, "Memory", "%s (maximum %s)", cur, max);
    if (d->cpu_mode || d->cpu_model)
        add(t, "CPU", "%s%s%s", s_or(d->cpu_mode, ""), d->cpu_model ? " " : "",
            s_or(d->cpu_model, ""));
    if (d->cpu_sockets) {
        char so[32], co[32], th[32];
        fmt_count(so, sizeof(so), d->cpu_sockets, "socket", "sockets");
        fmt_count(co, sizeof(co), d->cpu_cores, "core", "cores");
        fmt_count(th, sizeof(th), d->cpu_threads, "thread", "threads");
        add(t, "Topology", "%s, %s, %s", so, co, th);
    }
    add(t, "OS", "%s %s %s", s_or(d->os_type, "hvm"), s_or(d->os_arch, ""),
        s_or(d->os_machine, ""));
    add(t, "Features", "%s%s%s", d->acpi ? "acpi " : "", d->apic ? "apic" : "",
        d->acpi || d->apic ? "" : "none");
    add(t, "On events", "poweroff %s, reboot %s, crash %s", s_or(d->on_poweroff, "destroy"),
        s_or(d->on_reboot, "restart"), s_or(d->on_crash, "destroy"));
    char disks[32], nics[32];
    fmt_count(disks, sizeof(disks), d->ndisks, "disk", "disks");
    fmt_count(nics, sizeof(nics), d->nnics, "NIC", "NICs");
    add(t, "Devices", "%s, %s, %zu graphics", disks, nics, d->ngraphics);
    if (it->pid) {
        char rss[32];
        fmt_kib(rss, sizeof(rss), it->rss_kib);
        add(t, "VMM", "pid %d, CPU %.1f%%, memory use %s", (int)it->pid,
            it->cpu_pct < 0 ? 0.0 : it->cpu_pct, rss);
    }
    (void)a;
}

static void tab_disks(const struct domain *d, struct pane_text *t)
{
    if (!d->ndisks)
        add(t, NULL, "(no disks)");
    for (size_t i = 0; i < d->ndisks; i++) {
        const struct domain_disk *k = &d->disks[i];
        char label[64];
        snprintf(label, sizeof(label), "%s", s_or(k->target_dev, "?"));
        const char *src = k->source ? k->source : k->source_volume ? k->source_volume : "-";
        add(t, label, "%s %s on %s, %s%s%s", s_or(k->device, "disk"), s_or(k->driver_type, "raw"),
            s_or(k->target_bus, "?"), src, k->readonly ? " (read-only)" : "",
            k->shareable ? " (shareable)" : "");
        if (k->cache || k->discard || k->boot_order || k->serial) {
            char extra[512];
            int off = snprintf(extra, sizeof(extra), "cache %s, discard %s",
                               s_or(k->cache, "default"), s_or(k->discard, "default"));
            if (k->boot_order)
                off += snprintf(extra + off, sizeof(extra) - (size_t)off, ", boot order %u",
                                k->boot_order);
            if (k->serial && off < (int)sizeof(extra))
                snprintf(extra + off, sizeof(extra) - (size_t)off, ", serial %s", k->serial);
            add(t, "", "%s", extra);
        }
    }
}

static void tab_nics(const struct domain *d, struct pane_text *t)
{
    if (!d->nnics)
        add(t, NULL, "(no network interfaces)");
    for (size_t i = 0; i < d->nnics; i++) {
        const struct domain_nic *n = &d->nics[i];
        char label[32];
        snprintf(label, sizeof(label), "nic%zu", i);
        add(t, label, "%s %s, mac %s, model %s%s%s", s_or(n->type, "?"), s_or(n->source, "-"),
            n->mac, s_or(n->model, "default"), n->link_state ? ", link " : "",
            s_or(n->link_state, ""));
    }
}

static void tab_graphics(const struct app *a, const struct dom_item *it, const struct domain *d,
                         struct pane_text *t)
{
    /* A running guest's automatic port is the one its VMM bound. */
    size_t live_index = SIZE_MAX;
    int live_port = -1;
    char live_addr[64];
    if (!it->pid || inventory_vnc_address(it->uuid, &live_index, &live_port, live_addr,
                                          sizeof live_addr) <= 0) {
        err_clear();
        live_index = SIZE_MAX;
    }
    for (size_t i = 0; i < d->ngraphics; i++) {
        const struct domain_graphics *g = &d->graphics[i];
        if (i == live_index && g->autoport)
            add(t, "Graphics", "%s, port %d (automatic), listen %s", s_or(g->type, "?"), live_port,
                live_addr);
        else if (g->autoport || g->port < 0)
            add(t, "Graphics", "%s, port auto, listen %s", s_or(g->type, "?"),
                s_or(g->listen, "127.0.0.1"));
        else
            add(t, "Graphics", "%s, port %d, listen %s", s_or(g->type, "?"), g->port,
                s_or(g->listen, "127.0.0.1"));
    }
    if (!d->ngraphics)
        add(t, "Graphics", "none");
    for (size_t i = 0; i < d->nchardevs; i++) {
        const struct domain_chardev *c = &d->chardevs[i];
        char port[32] = ""; /* none written: the XML leaves it to the device */
        if (c->target_port >= 0)
            snprintf(port, sizeof(port), " port %d", c->target_port);
        add(t, s_or(c->element, "chardev"), "%s, target %s%s%s%s", s_or(c->type, "?"),
            s_or(c->target_type, "-"), port, c->source_path ? ", " : "", s_or(c->source_path, ""));
    }
    if (it->pid)
        add(t, "Console", "%s/%s/%s  (c: pane, C: full screen)", paths_rundir(), it->uuid,
            VMM_SOCK_CONSOLE);
    else
        add(t, "Console", "available while running (c: pane, C: full screen)");
    (void)a;
}

static void tab_boot(const struct domain *d, struct pane_text *t)
{
    add(t, "Kernel", "%s", s_or(d->os_kernel, "-"));
    add(t, "Initrd", "%s", s_or(d->os_initrd, "-"));
    add(t, "Cmdline", "%s", s_or(d->os_cmdline, "-"));
    if (d->os_loader)
        add(t, "Loader", "%s", d->os_loader);
    char order[128] = "";
    for (unsigned i = 0; i < d->os_nboot && i < 4; i++) {
        size_t len = strlen(order);
        snprintf(order + len, sizeof(order) - len, "%s%s", i ? ", " : "", d->os_boot[i]);
    }
    add(t, "Boot order", "%s", order[0] ? order : "-");
}

static void tab_xml(const struct details *d, struct pane_text *t)
{
    const char *p = d->xml;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        add(t, NULL, "%.*s", len, p);
        p = nl ? nl + 1 : NULL;
    }
}

static void build(struct app *a, struct pane_text *t)
{
    struct details *d = &a->det;
    const struct dom_item *it = domlist_selected(&a->list);
    if (!it) {
        add(t, NULL, "no domain selected");
        return;
    }
    if (d->tab == TAB_XML && d->xml) {
        tab_xml(d, t);
        return;
    }
    if (!d->dom) {
        add(t, "Error", "%s", d->parse_error[0] ? d->parse_error : "no definition");
        return;
    }
    switch (d->tab) {
    case TAB_OVERVIEW:
        tab_overview(a, it, d->dom, t);
        break;
    case TAB_DISKS:
        tab_disks(d->dom, t);
        break;
    case TAB_NICS:
        tab_nics(d->dom, t);
        break;
    case TAB_GRAPHICS:
        tab_graphics(a, it, d->dom, t);
        break;
    default:
        tab_boot(d->dom, t);
        break;
    }
}

static void draw_tabs(struct app *a, struct rect r)
{
    draw_box(a, r, NULL);
    int x = r.x + 1;
    for (int i = 0; i < TAB_COUNT && x < r.x + r.w - 2; i++) {
        char label[48];
        snprintf(label, sizeof(label), " %d %s ", i + 1, tab_names[i]);
        int w = (int)strlen(label);
        if (x + w > r.x + r.w)
            w = r.x + r.w - x;
        draw_put(r.y, x, w, label, theme_attr(i == (int)a->det.tab ? ROLE_TAB_ACTIVE : ROLE_TAB));
        x += w + 1;
    }
}

void details_draw(struct app *a, struct rect r)
{
    if (r.h < 2)
        return;
    details_load(a);
    draw_tabs(a, r);
    struct pane_text t = {0};
    build(a, &t);
    int rows = r.h - 1;
    int max_scroll = (int)t.n > rows ? (int)t.n - rows : 0;
    if (a->det.scroll > max_scroll)
        a->det.scroll = max_scroll;
    if (a->det.scroll < 0)
        a->det.scroll = 0;
    int label_w = a->det.tab == TAB_XML ? 0 : 13;
    for (int i = 0; i < rows; i++) {
        size_t li = (size_t)(a->det.scroll + i);
        int y = r.y + 1 + i;
        if (li >= t.n) {
            draw_put(y, r.x, r.w, "", theme_attr(ROLE_ROW));
            continue;
        }
        char label[64];
        snprintf(label, sizeof(label), " %s", t.labels[li]);
        if (label_w)
            draw_put(y, r.x, label_w + 1, label, theme_attr(ROLE_LABEL));
        draw_put(y, r.x + label_w + 1, r.w - label_w - 1, t.values[li] ? t.values[li] : "",
                 theme_attr(ROLE_ROW));
    }
    pane_text_free(&t);
}
