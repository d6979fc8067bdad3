/*
 * tui_app.h - internal to cli/tui/: the state of one `heapview tui` run,
 * shared by the command (tui.c), the screen (tui_draw.c, the only place
 * that includes curses together with tui_term.c) and live refresh
 * (tui_live.c).
 */
#ifndef HV_TUI_APP_H
#define HV_TUI_APP_H

#include "tui_model.h"

enum tui_focus { FOCUS_MAP = 0, FOCUS_PROBLEMS, FOCUS_OWNERS };

struct tui_app {
    struct session s;
    const struct cli_args *args;
    struct tui_heap_view *views;     /* one per s.heaps entry */
    size_t view_count, heap_sel;
    int focus;                       /* enum tui_focus */
    int panel;                       /* FOCUS_PROBLEMS or FOCUS_OWNERS: the list shown */
    int block_mode;                  /* one cell per block instead of scaled */
    unsigned zoom;                   /* 0: fit; each step halves the units per cell */
    int color;
    int show_help;
    char message[256];
    int message_error;
    /* inspector byte view: lines scrolled (J/K) for hex_item of heap hex_heap */
    long hex_scroll;
    const struct tui_item *hex_item;
    size_t hex_heap;
    /* set by the last draw, used to move by rows and pages */
    struct tui_layout layout;
    size_t map_rows;
    unsigned fit_units;
    /* live */
    int live, paused;
    int reading;                     /* a refresh is under way */
    long interval_ms;
    double next_refresh;             /* monotonic seconds */
    unsigned refresh_count;
    char live_error[256];            /* first error since the last good snapshot */
    unsigned failed_refreshes;
    uint64_t torn_at;                /* --no-halt: memory that changed while read, 0 none */
    char refreshed_at[16];
};

/* Builds views for every heap of app->s; prev views (may be NULL, count
 * prev_count) carry cursor and changes over by heap address.  0 or -1. */
int tui_views_rebuild(struct tui_app *app, struct tui_heap_view *prev, size_t prev_count);

void tui_views_free(struct tui_heap_view *views, size_t n);

/* Live: re-reads and re-decodes every heap (the target is stopped while it
 * is read, then runs again).  Returns 0, or -1 with the reason in err and
 * the previous snapshot kept. */
int tui_live_refresh(struct tui_app *app, char *err, size_t errlen);

/* Terminal (tui_term.c).  tui_term_start returns 0, or -1 with the reason
 * in err when there is no usable terminal. */
int tui_term_start(int want_color, int *has_color, char *err, size_t errlen);
void tui_term_stop(void);
/* The background for "the terminal's own": -1 where the terminal has
 * default colours, else black. */
short tui_term_default_bg(void);
/* The signal that asked us to stop (SIGINT, SIGTERM, SIGHUP), else 0. */
int tui_term_stop_signal(void);

/* Screen (tui_draw.c). */
void tui_draw(struct tui_app *app);
/* Reads a line on the message row; returns 0 with the text, -1 when
 * cancelled. */
int tui_prompt(struct tui_app *app, const char *label, char *buf, size_t len);
/* The next key, waiting at most ms milliseconds; -1 when none. */
int tui_read_key(int ms);

#endif /* HV_TUI_APP_H */
