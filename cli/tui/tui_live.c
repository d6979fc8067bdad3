/*
 * tui_live.c - refreshing `heapview tui` from a live target: stop it, take
 * a new snapshot, find and decode the heaps again with the analysis core
 * (as cli/load.c does for the first snapshot), let it run, then swap the
 * new heaps in.  On any failure the previous snapshot stays on screen and
 * the reason goes to the status line.
 */
#include <stdlib.h>
#include <string.h>

#include "../source/source_live.h"
#include "tui_app.h"

static void reason(char *err, size_t errlen, const struct hv_source *src, const char *what)
{
    if (src->error[0])
        snprintf(err, errlen, "%s", src->error);
    else
        snprintf(err, errlen, "%s", what);
}

/* Discovery and decoding into the out parameters; 0 or -1 with err. */
static int decode_snapshot(struct tui_app *app, struct hv_snapshot *snap, struct hv_discovery *disc,
                           struct hv_heap **heaps_out, size_t *count_out, char *err, size_t errlen)
{
    struct session *s = &app->s;
    const struct cli_args *a = app->args;
    if (a->heap_count) {
        /* heaps given by address: the same ones again */
        for (size_t i = 0; i < s->disc.count; i++) {
            const struct hv_heap_ref *r = &s->disc.refs[i];
            if (hv_discovery_add(disc, r->name, r->format, r->address) < 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            disc->refs[disc->count - 1] = *r;
        }
    } else if (hv_discover(disc, snap, s->has_elf ? &s->elf : NULL, !a->no_scan, a->upstream) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (disc->count == 0) {
        reason(err, errlen, s->src, disc->note_count ? disc->notes[0] : "no heap found");
        return -1;
    }
    char why[256];
    struct hv_heap *heaps;
    if (session_decode_refs(s, snap, disc, &heaps, why, sizeof why) < 0) {
        reason(err, errlen, s->src, why);
        return -1;
    }
    *heaps_out = heaps;
    *count_out = disc->count;
    return 0;
}

/* After a failed refresh the connection may be dead or out of step: open
 * a new one to the same target, as cli/load.c opened the first. */
static int reconnect(struct tui_app *app, char *err, size_t errlen)
{
    const struct cli_args *a = app->args;
    struct hv_live_options opt;
    session_live_options(a, &opt);
    const char *target = a->gdb_remote ? a->gdb_remote : a->openocd;
    char why[256];
    struct hv_source *src = a->gdb_remote ? hv_source_gdb_open(target, &opt, why, sizeof why)
                                          : hv_source_openocd_open(target, &opt, why, sizeof why);
    if (!src) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    hv_source_close(app->s.src);
    app->s.src = src;
    app->s.snap.src = src;   /* frozen: never read through again */
    return 0;
}

int tui_live_refresh(struct tui_app *app, char *err, size_t errlen)
{
    struct session *s = &app->s;
    if (app->live_error[0] && reconnect(app, err, errlen) < 0)
        return -1;
    struct hv_source *src = s->src;
    src->error[0] = '\0';
    if (src->ops->set_halted && src->ops->set_halted(src, 1) < 0) {
        reason(err, errlen, src, "cannot stop the target");
        return -1;
    }
    struct hv_snapshot snap;
    struct hv_discovery disc;
    memset(&disc, 0, sizeof disc);
    hv_snapshot_init(&snap, src);
    struct hv_heap *heaps = NULL;
    size_t count = 0;
    int rc = decode_snapshot(app, &snap, &disc, &heaps, &count, err, errlen);
    /* --no-halt: a running target may change memory while it is read;
     * re-read each heap's start and decode again when it did */
    app->torn_at = 0;
    for (int attempt = 0; rc == 0 && app->args->no_halt && attempt < 3; attempt++) {
        uint64_t where = 0;
        if (!session_heaps_torn(src, heaps, count, &where))
            break;
        if (attempt == 2) {
            app->torn_at = where;
            break;
        }
        session_free_heaps(heaps, count);
        hv_discovery_free(&disc);
        hv_snapshot_free(&snap);
        memset(&disc, 0, sizeof disc);
        hv_snapshot_init(&snap, src);
        heaps = NULL;
        count = 0;
        rc = decode_snapshot(app, &snap, &disc, &heaps, &count, err, errlen);
    }
    if (src->ops->set_halted && src->ops->set_halted(src, 0) < 0 && rc == 0) {
        reason(err, errlen, src, "cannot resume the target");
        session_free_heaps(heaps, count);
        rc = -1;
    }
    if (rc < 0) {
        hv_discovery_free(&disc);
        hv_snapshot_free(&snap);
        return -1;
    }
    snap.frozen = 1;   /* from now on only what was read while stopped */

    struct tui_heap_view *old_views = app->views;
    size_t old_view_count = app->view_count;
    struct hv_heap *old_heaps = s->heaps;
    size_t old_heap_count = s->heap_count;
    s->heaps = heaps;
    s->heap_count = count;
    if (tui_views_rebuild(app, old_views, old_view_count) < 0) {
        s->heaps = old_heaps;
        s->heap_count = old_heap_count;
        session_free_heaps(heaps, count);
        hv_discovery_free(&disc);
        hv_snapshot_free(&snap);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    tui_views_free(old_views, old_view_count);
    session_free_heaps(old_heaps, old_heap_count);
    hv_discovery_free(&s->disc);
    s->disc = disc;
    hv_snapshot_free(&s->snap);
    s->snap = snap;   /* the namer keeps pointing at s->snap */
    return 0;
}
