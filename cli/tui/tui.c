/*
 * tui.c - `heapview tui`: options, the session, the key loop.  Input comes
 * through the same session as every other command (cli/load.c), so a dump
 * or a live target gives the same heaps `heapview report` shows; drawing is
 * tui_draw.c, the terminal tui_term.c, live refresh tui_live.c.
 */
#include "tui.h"

#include <curses.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../opts.h"
#include "tui_app.h"

#define OFF(field) offsetof(struct cli_args, field)

static const struct opt tui_opts[] = {
    { "base", OPT_NUM, OFF(base), "ADDR", "address of raw images (default: the ELF's lowest writable section)", 0 },
    { "heap", OPT_NUM_LIST, OFF(heap), "ADDR", "decode the heap at ADDR (control block), repeatable", 0 },
    { "upstream", OPT_FLAG, OFF(upstream), NULL, "also decode upstream umm_malloc heaps (umm_heap_current)", 0 },
    { "heap-size", OPT_NUM, OFF(heap_size), "BYTES", "size of an upstream heap given with --heap", 0 },
    { "block-size", OPT_NUM, OFF(block_size), "BYTES", "upstream block size (default heap_size/numblocks, else 8)", 0 },
    { "poison", OPT_FLAG, OFF(poison), NULL, "the upstream heap was built with UMM_POISON_CHECK", 0 },
    { "no-scan", OPT_FLAG, OFF(no_scan), NULL, "do not scan the dump for control blocks", 0 },
    { "gdb-remote", OPT_STRING, OFF(gdb_remote), "HOST:PORT", "read a live target through a GDB stub (or unix:PATH)", 0 },
    { "openocd", OPT_STRING, OFF(openocd), "HOST[:PORT]", "read a live target through OpenOCD's Tcl RPC", 0 },
    { "halt", OPT_SET_VALUE, OFF(no_halt), NULL, "live: halt, read, resume (the default)", 0 },
    { "no-halt", OPT_FLAG, OFF(no_halt), NULL, "live: leave the target running while reading", 0 },
    { "timeout", OPT_NUM, OFF(timeout), "MS", "live: timeout per network step (default 5000)", 0 },
    { "color", OPT_COLOR, OFF(color), "WHEN", "auto, always or never (auto: colour unless NO_COLOR)", 0 },
    { "no-color", OPT_SET_VALUE, OFF(color), NULL, "same as --color never", COLOR_NEVER },
    { 0 },
};

static const struct command tui_command = {
    "tui", "[options] DUMP... [firmware.elf]  (or --gdb-remote/--openocd TARGET firmware.elf)",
    "Interactive fragmentation map: block inspector, problems, owners, live refresh.",
    tui_opts, NULL, 0, MAX_FILES,
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stamp_time(struct tui_app *app)
{
    time_t t = time(NULL);
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(app->refreshed_at, sizeof app->refreshed_at, "%H:%M:%S", &tm);
}

int tui_views_rebuild(struct tui_app *app, struct tui_heap_view *prev, size_t prev_count)
{
    size_t n = app->s.heap_count;
    struct tui_heap_view *views = calloc(n ? n : 1, sizeof *views);
    if (!views)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct tui_heap_view *was = NULL;
        for (size_t k = 0; k < prev_count; k++) {
            if (prev[k].heap && prev[k].heap->address == app->s.heaps[i].address &&
                prev[k].heap->format == app->s.heaps[i].format)
                was = &prev[k];
        }
        if (tui_view_build(&views[i], &app->s.heaps[i], was) < 0) {
            for (size_t k = 0; k < i; k++)
                tui_view_free(&views[k]);
            free(views);
            return -1;
        }
        if (views[i].owner_highlight && tui_view_owners(&views[i]) < 0)
            views[i].owner_highlight = 0;
    }
    /* stay on the same heap when heaps came or went */
    size_t sel = app->heap_sel < n ? app->heap_sel : 0;
    if (prev && app->heap_sel < prev_count && prev[app->heap_sel].heap) {
        for (size_t i = 0; i < n; i++) {
            if (app->s.heaps[i].address == prev[app->heap_sel].heap->address)
                sel = i;
        }
    }
    app->views = views;
    app->view_count = n;
    app->heap_sel = sel;
    return 0;
}

void tui_views_free(struct tui_heap_view *views, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tui_view_free(&views[i]);
    free(views);
}

static void set_message(struct tui_app *app, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_message(struct tui_app *app, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->message, sizeof app->message, fmt, ap);
    va_end(ap);
    app->message_error = error;
}

static void live_refresh(struct tui_app *app)
{
    char err[256];
    /* the target is read with the key loop blocked (up to --timeout per
     * network step): say so first */
    app->reading = 1;
    tui_draw(app);
    int rc = tui_live_refresh(app, err, sizeof err);
    app->reading = 0;
    if (rc < 0) {
        /* the first error says what happened; later ones are its echo */
        if (!app->live_error[0])
            snprintf(app->live_error, sizeof app->live_error, "%s", err);
        app->failed_refreshes++;
        /* back off while the target stays away: 2, 4, 8, 16 intervals */
        unsigned shift = app->failed_refreshes < 4 ? app->failed_refreshes : 4;
        app->next_refresh = now_seconds() + (double)(app->interval_ms << shift) / 1000.0;
        return;
    } else {
        app->live_error[0] = '\0';
        app->failed_refreshes = 0;
        app->refresh_count++;
        stamp_time(app);
    }
    app->next_refresh = now_seconds() + (double)app->interval_ms / 1000.0;
}

/* Moves the map cursor by `cells` cells (rows are cols cells). */
static void move_cells(struct tui_app *app, long cells)
{
    struct tui_heap_view *v = &app->views[app->heap_sel];
    if (!v->item_count)
        return;
    const struct tui_layout *l = &app->layout;
    long c = (long)tui_cell_of_item(v, l, v->cursor) + cells;
    if (c < 0)
        c = 0;
    if (l->cell_count && (size_t)c >= l->cell_count)
        c = (long)l->cell_count - 1;
    size_t i = tui_item_of_cell(v, l, (size_t)c);
    /* a block longer than the move: step past it rather than stay */
    if (i == v->cursor && cells > 0 && i + 1 < v->item_count)
        i++;
    else if (i == v->cursor && cells < 0 && i > 0)
        i--;
    v->cursor = i;
}

static void move_items(struct tui_app *app, long delta)
{
    struct tui_heap_view *v = &app->views[app->heap_sel];
    if (!v->item_count)
        return;
    long i = (long)v->cursor + delta;
    if (i < 0)
        i = 0;
    if ((size_t)i >= v->item_count)
        i = (long)v->item_count - 1;
    v->cursor = (size_t)i;
}

static void move_list(struct tui_app *app, long delta)
{
    struct tui_heap_view *v = &app->views[app->heap_sel];
    size_t *sel = app->focus == FOCUS_OWNERS ? &v->owner_sel : &v->problem_sel;
    size_t count = app->focus == FOCUS_OWNERS ? v->owner_count : v->heap->problem_count;
    if (!count)
        return;
    long s = (long)*sel + delta;
    if (s < 0)
        s = 0;
    if ((size_t)s >= count)
        s = (long)count - 1;
    *sel = (size_t)s;
    if (app->focus == FOCUS_OWNERS) {
        if (tui_view_owners(v) < 0)
            set_message(app, 1, "out of memory");
        else
            v->owner_highlight = 1;
    }
}

static void go_to_address(struct tui_app *app)
{
    char buf[64];
    if (tui_prompt(app, "go to address: ", buf, sizeof buf) < 0 || !buf[0])
        return;
    struct opt_num n = { 0 };
    if (parse_num(buf, &n) < 0) {
        set_message(app, 1, "not an address: '%s'", buf);
        return;
    }
    for (size_t k = 0; k < app->view_count; k++) {
        size_t h = (app->heap_sel + k) % app->view_count;
        long i = tui_item_at_address(&app->views[h], n.value);
        if (i >= 0) {
            app->heap_sel = h;
            app->views[h].cursor = (size_t)i;
            app->focus = FOCUS_MAP;
            set_message(app, 0, "0x%llx is in %s", (unsigned long long)n.value, app->views[h].heap->name);
            return;
        }
    }
    set_message(app, 1, "0x%llx is in no heap's blocks", (unsigned long long)n.value);
}

static void select_heap(struct tui_app *app, int delta)
{
    if (app->view_count < 2)
        return;
    app->heap_sel = (app->heap_sel + app->view_count + (size_t)(long)delta) % app->view_count;
}

/* Handles one key; returns 0 to go on, 1 to quit. */
static int handle_key(struct tui_app *app, int ch)
{
    struct tui_heap_view *v = &app->views[app->heap_sel];
    size_t page = app->map_rows ? app->map_rows : 1;
    int in_list = app->focus != FOCUS_MAP;
    if (app->show_help) {
        app->show_help = 0;
        return ch == 'q';
    }
    if (ch != KEY_RESIZE)
        app->message[0] = '\0';
    switch (ch) {
    case 'q':
    case 'Q':
        return 1;
    case '?':
        app->show_help = 1;
        break;
    case KEY_LEFT:
    case 'h':
        if (!in_list)
            move_items(app, -1);
        break;
    case KEY_RIGHT:
    case 'l':
        if (!in_list)
            move_items(app, 1);
        break;
    case KEY_UP:
    case 'k':
        if (in_list)
            move_list(app, -1);
        else
            move_cells(app, -(long)app->layout.cols);
        break;
    case KEY_DOWN:
    case 'j':
        if (in_list)
            move_list(app, 1);
        else
            move_cells(app, (long)app->layout.cols);
        break;
    case KEY_PPAGE:
        if (in_list)
            move_list(app, -8);
        else
            move_cells(app, -(long)(app->layout.cols * page));
        break;
    case KEY_NPAGE:
        if (in_list)
            move_list(app, 8);
        else
            move_cells(app, (long)(app->layout.cols * page));
        break;
    case KEY_HOME:
        if (in_list)
            move_list(app, -(long)(v->owner_count + v->heap->problem_count));
        else
            v->cursor = 0;
        break;
    case KEY_END:
        if (in_list)
            move_list(app, (long)(v->owner_count + v->heap->problem_count));
        else if (v->item_count)
            v->cursor = v->item_count - 1;
        break;
    case 'g':
        go_to_address(app);
        break;
    case '+':
        if (app->block_mode)
            app->block_mode = 0;
        else if ((app->fit_units >> app->zoom) > 1)
            app->zoom++;
        break;
    case '-':
        if (app->block_mode)
            app->block_mode = 0;
        else if (app->zoom > 0)
            app->zoom--;
        break;
    case '0':
        app->block_mode = 0;
        app->zoom = 0;
        break;
    case 'b':
        app->block_mode = !app->block_mode;
        break;
    case '\t':
    case ']':
        select_heap(app, 1);
        break;
    case KEY_BTAB:
    case '[':
        select_heap(app, -1);
        break;
    case '!':
    case 'e':
        app->panel = app->focus = FOCUS_PROBLEMS;
        break;
    case 'o':
        app->panel = app->focus = FOCUS_OWNERS;
        if (v->owner_count) {
            if (tui_view_owners(v) < 0)
                set_message(app, 1, "out of memory");
            else
                v->owner_highlight = 1;
        }
        break;
    case 'J':
        app->hex_scroll++;
        break;
    case 'K':
        app->hex_scroll--;
        break;
    case 'c':
        v->owner_highlight = 0;
        break;
    case 'm':
    case 27:
        if (app->focus == FOCUS_MAP)
            v->owner_highlight = 0;
        app->focus = FOCUS_MAP;
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (app->focus == FOCUS_PROBLEMS && v->problem_sel < v->heap->problem_count) {
            long i = tui_problem_item(v, &v->heap->problems[v->problem_sel]);
            if (i >= 0) {
                v->cursor = (size_t)i;
                app->focus = FOCUS_MAP;
            } else {
                set_message(app, 1, "this problem names no block in the map");
            }
        } else if (app->focus == FOCUS_OWNERS) {
            app->focus = FOCUS_MAP;
        }
        break;
    case 'r':
        if (app->live)
            live_refresh(app);
        else
            set_message(app, 0, "r refreshes live targets only; this is a dump");
        break;
    case 'p':
        if (app->live) {
            app->paused = !app->paused;
            app->next_refresh = now_seconds() + (double)app->interval_ms / 1000.0;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Takes --interval MS out of argv (the shared option table has no room
 * for it).  Returns the interval, 0 when absent, -1 when malformed. */
static long take_interval(int *argc, char **argv)
{
    long ms = 0;
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--interval") == 0) {
            if (i + 1 >= *argc)
                return -1;
            value = argv[++i];
        } else if (strncmp(argv[i], "--interval=", 11) == 0) {
            value = argv[i] + 11;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        struct opt_num n = { 0 };
        if (parse_num(value, &n) < 0 || n.value < 100 || n.value > 3600000)
            return -1;
        ms = (long)n.value;
    }
    *argc = out;
    return ms;
}

static int run(struct tui_app *app)
{
    char err[256];
    int has_color = 0;
    int want = app->args->color == COLOR_ALWAYS ||
               (app->args->color == COLOR_AUTO && !(getenv("NO_COLOR") && getenv("NO_COLOR")[0]));
    if (tui_term_start(want, &has_color, err, sizeof err) < 0) {
        fprintf(stderr, "heapview: %s\n", err);
        return EXIT_USAGE;
    }
    app->color = has_color;
    app->next_refresh = now_seconds() + (double)app->interval_ms / 1000.0;
    int dirty = 1, quit = 0;
    while (!quit && !tui_term_stop_signal()) {
        if (dirty)
            tui_draw(app);
        dirty = 0;
        int ch = tui_read_key(100);
        if (ch >= 0) {
            quit = handle_key(app, ch);
            dirty = 1;
        }
        if (app->live && !app->paused && now_seconds() >= app->next_refresh) {
            live_refresh(app);
            dirty = 1;
        }
    }
    tui_term_stop();
    int sig = tui_term_stop_signal();
    return sig ? 128 + sig : EXIT_HEALTHY;
}

int cmd_tui(int argc, char **argv)
{
    static struct cli_args args;
    memset(&args, 0, sizeof args);
    long interval = take_interval(&argc, argv);
    if (interval < 0) {
        fprintf(stderr, "heapview: --interval wants milliseconds, 100..3600000\n");
        return EXIT_USAGE;
    }
    int rc = opts_parse(&tui_command, argc, argv, &args);
    if (rc != 0)
        return rc;
    if (args.help) {
        opts_help(stdout, &tui_command);
        printf("  --interval MS        live: refresh every MS milliseconds (default 1000)\n\n"
               "keys: arrows/hjkl move, g go to address, +/- zoom, Tab heaps, ! problems, o owners,\n"
               "      r refresh, p pause, ? help, q quit\n");
        return EXIT_HEALTHY;
    }
    static struct tui_app app;
    memset(&app, 0, sizeof app);
    app.args = &args;
    app.interval_ms = interval ? interval : 1000;
    app.panel = FOCUS_PROBLEMS;
    rc = session_open_args(&app.s, &args);
    if (rc != 0)
        return rc;
    app.live = app.s.live;
    stamp_time(&app);
    app.refresh_count = 1;
    if (tui_views_rebuild(&app, NULL, 0) < 0) {
        fprintf(stderr, "heapview: out of memory\n");
        session_close(&app.s);
        return EXIT_USAGE;
    }
    /* the cursor starts on the first block, or on the first problem's */
    for (size_t i = 0; i < app.view_count; i++) {
        struct tui_heap_view *v = &app.views[i];
        for (size_t k = 0; k < v->item_count; k++) {
            if (v->items[k].kind == TI_BLOCK) {
                v->cursor = k;
                break;
            }
        }
    }
    for (size_t i = 0; i < app.view_count; i++) {
        struct tui_heap_view *v = &app.views[i];
        if (v->heap->problem_count) {
            long at = tui_problem_item(v, &v->heap->problems[0]);
            if (at >= 0)
                v->cursor = (size_t)at;
            app.heap_sel = i;
            break;
        }
    }
    rc = run(&app);
    tui_views_free(app.views, app.view_count);
    session_close(&app.s);
    return rc;
}
