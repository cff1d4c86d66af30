/* What keys do in the storage pane (keys.c binds them). As everywhere in
 * the TUI, a change is a command line from the shared table run on the
 * command worker (pool-start, vol-create-as, vol-wipe ...), so the pane
 * can do nothing `tvm VERB` could not, and never waits for the disk. */
#include "tui/app.h"

#include <stdio.h>
#include <string.h>

int act_storage(struct app *a)
{
    a->view = a->view == VIEW_STORAGE ? VIEW_DOMAINS : VIEW_STORAGE;
    a->message[0] = '\0';
    if (a->view == VIEW_STORAGE)
        jobs_submit_refresh(a, true); /* the pools, measured now */
    return R_REDRAW;
}

/* ---- moving ---- */

int act_storage_up(struct app *a)
{
    storage_move(&a->storage, -1);
    return R_REDRAW;
}
int act_storage_down(struct app *a)
{
    storage_move(&a->storage, 1);
    return R_REDRAW;
}
int act_storage_home(struct app *a)
{
    storage_move(&a->storage, -(1L << 30));
    return R_REDRAW;
}
int act_storage_end(struct app *a)
{
    storage_move(&a->storage, 1L << 30);
    return R_REDRAW;
}
int act_storage_switch(struct app *a)
{
    a->storage.on_volumes = !a->storage.on_volumes;
    return R_REDRAW;
}

/* ---- helpers ---- */

/* The selected pool's name, copied (the rows may reload during a prompt). */
static bool need_pool(struct app *a, char *name, size_t len)
{
    const struct inv_pool *p = storage_pool(&a->storage);
    if (!p) {
        app_message(a, true, "no storage pool selected");
        return false;
    }
    snprintf(name, len, "%s", p->name);
    return true;
}

static bool need_volume(struct app *a, char *pool, char *vol, size_t len)
{
    const struct inv_volume *v = storage_volume(&a->storage);
    if (!v) {
        app_message(a, true, "no volume selected (Tab moves to the volumes)");
        return false;
    }
    snprintf(pool, len, "%s", v->pool);
    snprintf(vol, len, "%s", v->name);
    return true;
}

/* A prompt that was left with Esc or an empty answer cancels the action. */
static bool ask(struct app *a, const char *label, char *buf, size_t len)
{
    if (widget_prompt(a, label, buf, len, NULL) && buf[0])
        return true;
    app_message(a, false, "cancelled");
    return false;
}

static int run_on_pool(struct app *a, const char *verb, const char *label)
{
    char pool[256], what[300];
    if (!need_pool(a, pool, sizeof(pool)))
        return R_REDRAW;
    snprintf(what, sizeof(what), "%s %s", label, pool);
    const char *words[] = {verb, pool, NULL, NULL};
    return actions_run_steps(a, what, false, words);
}

/* ---- pools ---- */

/* A directory pool, as virt-manager's "dir" pool: defined, its directory
 * made (pool-build), started. */
int act_pool_new(struct app *a)
{
    char name[256] = "", path[1024] = "", what[300];
    if (!ask(a, "New directory pool, name: ", name, sizeof(name)) ||
        !ask(a, "Directory of its volumes: ", path, sizeof(path)))
        return R_REDRAW;
    snprintf(what, sizeof(what), "making pool %s", name);
    const char *words[] = {
        "pool-define-as", name, "dir", "--target", path, NULL, "pool-build", name, NULL,
        "pool-start",     name, NULL,  NULL};
    return actions_run_steps(a, what, false, words);
}

int act_pool_start(struct app *a)
{
    return run_on_pool(a, "pool-start", "starting pool");
}
int act_pool_stop(struct app *a)
{
    return run_on_pool(a, "pool-destroy", "stopping pool");
}
int act_pool_refresh(struct app *a)
{
    return run_on_pool(a, "pool-refresh", "refreshing pool");
}

int act_pool_autostart(struct app *a)
{
    const struct inv_pool *p = storage_pool(&a->storage);
    if (!p) {
        app_message(a, true, "no storage pool selected");
        return R_REDRAW;
    }
    char pool[256];
    snprintf(pool, sizeof(pool), "%s", p->name);
    const char *on[] = {"pool-autostart", pool, NULL, NULL};
    const char *off[] = {"pool-autostart", pool, "--disable", NULL, NULL};
    return actions_run_steps(a, NULL, false, p->autostart ? off : on);
}

/* virt-manager's "Delete": the pool stopped, its (empty) storage removed,
 * its definition gone. A pool with volumes left stops and stays defined:
 * pool-delete says what is in the way. */
int act_pool_delete(struct app *a)
{
    const struct inv_pool *p = storage_pool(&a->storage);
    if (!p) {
        app_message(a, true, "no storage pool selected");
        return R_REDRAW;
    }
    char pool[256], target[512], what[300];
    bool active = p->active;
    snprintf(pool, sizeof(pool), "%s", p->name);
    snprintf(target, sizeof(target), "%s", p->target);
    if (!widget_confirm(a, "Delete pool '%s': stop it, remove %s and undefine it?", pool,
                        target[0] ? target : "its storage")) {
        app_message(a, false, "delete of pool '%s' cancelled", pool);
        return R_REDRAW;
    }
    snprintf(what, sizeof(what), "deleting pool %s", pool);
    const char *stop_first[] = {"pool-destroy",  pool, NULL, "pool-delete", pool, NULL,
                                "pool-undefine", pool, NULL, NULL};
    return actions_run_steps(a, what, false, active ? stop_first : stop_first + 3);
}

/* ---- volumes ---- */

int act_vol_new(struct app *a)
{
    char pool[256], name[256] = "", size[64] = "", format[16] = "qcow2", what[300];
    if (!need_pool(a, pool, sizeof(pool)))
        return R_REDRAW;
    if (!ask(a, "New volume, name: ", name, sizeof(name)) ||
        !ask(a, "Capacity (e.g. 10G): ", size, sizeof(size)) ||
        !ask(a, "Format (raw or qcow2): ", format, sizeof(format)))
        return R_REDRAW;
    if (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0) {
        app_message(a, true, "format '%s': raw or qcow2", format);
        return R_REDRAW;
    }
    snprintf(what, sizeof(what), "creating %s", name);
    /* Sparse, as virt-manager's default: nothing is reserved up front. */
    const char *words[] = {"vol-create-as", pool,           name, size, "--format",
                           format,          "--allocation", "0",  NULL, NULL};
    return actions_run_steps(a, what, false, words);
}

int act_vol_delete(struct app *a)
{
    char pool[256], vol[256], what[300];
    if (!need_volume(a, pool, vol, sizeof(pool)))
        return R_REDRAW;
    if (!widget_confirm(a, "Delete volume '%s' of pool '%s' (its data is lost)?", vol, pool)) {
        app_message(a, false, "delete of volume '%s' cancelled", vol);
        return R_REDRAW;
    }
    snprintf(what, sizeof(what), "deleting %s", vol);
    const char *words[] = {"vol-delete", vol, "--pool", pool, NULL, NULL};
    return actions_run_steps(a, what, false, words);
}

/* "20G" sets the capacity, "+5G" grows it by 5G (vol-resize --delta). */
int act_vol_resize(struct app *a)
{
    char pool[256], vol[256], size[64] = "", what[300];
    if (!need_volume(a, pool, vol, sizeof(pool)))
        return R_REDRAW;
    if (!ask(a, "New capacity (e.g. 20G, or +5G to grow by 5G): ", size, sizeof(size)))
        return R_REDRAW;
    bool delta = size[0] == '+';
    snprintf(what, sizeof(what), "resizing %s", vol);
    /* Without --delta the line ends one word earlier; two NULLs end the list either way. */
    const char *words[] = {"vol-resize", vol,  delta ? size + 1 : size,
                           "--pool",     pool, delta ? "--delta" : NULL,
                           NULL,         NULL};
    return actions_run_steps(a, what, false, words);
}

int act_vol_wipe(struct app *a)
{
    char pool[256], vol[256], what[300];
    if (!need_volume(a, pool, vol, sizeof(pool)))
        return R_REDRAW;
    if (!widget_confirm(a, "Wipe volume '%s': write zeros over all of it?", vol)) {
        app_message(a, false, "wipe of volume '%s' cancelled", vol);
        return R_REDRAW;
    }
    snprintf(what, sizeof(what), "wiping %s", vol);
    const char *words[] = {"vol-wipe", vol, "--pool", pool, NULL, NULL};
    return actions_run_steps(a, what, false, words);
}

/* vol-upload: a local file's bytes replace the volume's content (a qcow2
 * volume takes a qcow2 image), with progress below, as wipe shows it. */
int act_vol_upload(struct app *a)
{
    char pool[256], vol[256], file[1024] = "", what[300];
    if (!need_volume(a, pool, vol, sizeof(pool)))
        return R_REDRAW;
    if (!ask(a, "Upload into the volume from file: ", file, sizeof(file)))
        return R_REDRAW;
    if (!widget_confirm(a, "Upload '%s' into volume '%s' (its content is replaced)?", file, vol)) {
        app_message(a, false, "upload into volume '%s' cancelled", vol);
        return R_REDRAW;
    }
    snprintf(what, sizeof(what), "uploading into %s", vol);
    const char *words[] = {"vol-upload", vol, file, "--pool", pool, NULL, NULL};
    return actions_run_steps(a, what, false, words);
}
