/*
 * tui_draw.c - the screen of `heapview tui`:
 *
 *   row 0        header: heap selector, scale, key hints
 *   rows 1..     the map, then its legend
 *   lower area   inspector (left) and the problem or owner list (right)
 *   row H-2      summary metrics
 *   row H-1      messages, prompts, live state
 *
 * Every map state and mark has its own character, so the screen reads the
 * same without colour (NO_COLOR, --color never, monochrome terminals);
 * colour, when there is some, only adds to it.
 */
#include <curses.h>
#include <stdarg.h>
#include <string.h>

#include "tui_app.h"

#define MIN_COLS 72
#define MIN_ROWS 20

enum pair {
    P_USED = 1, P_MUSED, P_MFREE, P_FREE, P_META, P_POISON, P_CORRUPT, P_UNREAD,
    P_CURSOR, P_NEIGH, P_OWNER, P_CHANGED, P_CANARY, P_BAD, P_BAR, P_DIM, P_ERROR,
};

static int colors_ready;

static void init_pairs(void)
{
    if (colors_ready)
        return;
    colors_ready = 1;
    short bg = tui_term_default_bg();
    init_pair(P_USED, COLOR_BLACK, COLOR_GREEN);
    init_pair(P_MUSED, COLOR_GREEN, bg);
    init_pair(P_MFREE, COLOR_BLUE, bg);
    init_pair(P_FREE, COLOR_WHITE, COLOR_BLUE);
    init_pair(P_META, COLOR_BLACK, COLOR_WHITE);
    init_pair(P_POISON, COLOR_BLACK, COLOR_YELLOW);
    init_pair(P_CORRUPT, COLOR_WHITE, COLOR_RED);
    init_pair(P_UNREAD, COLOR_RED, bg);
    init_pair(P_CURSOR, COLOR_BLACK, COLOR_CYAN);
    init_pair(P_NEIGH, COLOR_CYAN, bg);
    init_pair(P_OWNER, COLOR_BLACK, COLOR_MAGENTA);
    init_pair(P_CHANGED, COLOR_YELLOW, bg);
    init_pair(P_CANARY, COLOR_YELLOW, bg);
    init_pair(P_BAD, COLOR_WHITE, COLOR_RED);
    init_pair(P_BAR, COLOR_BLACK, COLOR_CYAN);
    init_pair(P_DIM, COLOR_BLUE, bg);
    init_pair(P_ERROR, COLOR_RED, bg);
}

static chtype cell_attr(const struct tui_app *app, int cls, int mark)
{
    if (!app->color) {
        /* characters carry the meaning; attributes only for the cursor */
        return mark == TM_CURSOR ? A_REVERSE : mark == TM_OWNER ? A_BOLD : A_NORMAL;
    }
    switch (mark) {
    case TM_CURSOR:
        return COLOR_PAIR(P_CURSOR) | A_BOLD;
    case TM_PREV:
    case TM_NEXT:
        return COLOR_PAIR(P_NEIGH) | A_BOLD;
    case TM_OWNER:
        return COLOR_PAIR(P_OWNER) | A_BOLD;
    case TM_CHANGED:
        return COLOR_PAIR(P_CHANGED) | A_BOLD;
    default:
        break;
    }
    static const short pairs[TC_COUNT] = { 0, P_META, P_USED, P_MUSED, P_MFREE, P_FREE, P_POISON, P_CORRUPT, P_UNREAD };
    return cls > 0 && cls < TC_COUNT ? COLOR_PAIR(pairs[cls]) : A_NORMAL;
}

static chtype bar_attr(const struct tui_app *app)
{
    return app->color ? COLOR_PAIR(P_BAR) : A_REVERSE;
}

/* Writes at most `width` columns of text at (y, x), then pads with blanks. */
static void put_line(int y, int x, int width, chtype attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void put_line(int y, int x, int width, chtype attr, const char *fmt, ...)
{
    if (width <= 0)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    attrset(attr);
    int n = 0;
    for (const char *p = buf; *p && n < width; p++, n++)
        mvaddch(y, x + n, (chtype)(unsigned char)(*p >= 32 && *p < 127 ? *p : '?') | attr);
    for (; n < width; n++)
        mvaddch(y, x + n, ' ' | attr);
    attrset(A_NORMAL);
}

static const struct tui_heap_view *cur_view(const struct tui_app *app)
{
    return &app->views[app->heap_sel];
}

static void draw_header(struct tui_app *app, int cols)
{
    const struct tui_heap_view *v = cur_view(app);
    const struct hv_heap *h = v->heap;
    char scale[64];
    if (app->layout.units_per_cell == 0)
        snprintf(scale, sizeof scale, "1 cell = 1 block");
    else
        snprintf(scale, sizeof scale, "1 cell = %u unit%s (%u B)", app->layout.units_per_cell,
                 app->layout.units_per_cell == 1 ? "" : "s", app->layout.units_per_cell * h->unit_bytes);
    put_line(0, 0, cols, bar_attr(app), " heapview  heap %zu/%zu %s @0x%llx  %s%s   ?:help q:quit",
             app->heap_sel + 1, app->view_count, h->name, (unsigned long long)h->address, scale,
             app->view_count > 1 ? "  [Tab]" : "");
}

static void draw_map(struct tui_app *app, int top, int rows, int cols)
{
    struct tui_heap_view *v = &app->views[app->heap_sel];
    app->fit_units = tui_fit_units(v, (size_t)cols, (size_t)rows);
    unsigned upc = app->fit_units >> (app->zoom < 31 ? app->zoom : 31);
    if (upc == 0)
        upc = 1;
    tui_layout_make(&app->layout, v, app->block_mode ? 0 : upc, (size_t)cols);
    app->map_rows = (size_t)rows;
    const struct tui_layout *l = &app->layout;
    size_t total_rows = (l->cell_count + l->cols - 1) / l->cols;
    size_t cur_row = tui_cell_of_item(v, l, v->cursor) / l->cols;
    if (cur_row < v->top_row)
        v->top_row = cur_row;
    if (cur_row >= v->top_row + (size_t)rows)
        v->top_row = cur_row - (size_t)rows + 1;
    if (total_rows <= (size_t)rows || v->top_row + (size_t)rows > total_rows)
        v->top_row = total_rows > (size_t)rows ? total_rows - (size_t)rows : 0;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            size_t cell = (v->top_row + (size_t)r) * l->cols + (size_t)c;
            int cls, mark;
            tui_cell(v, l, cell, &cls, &mark);
            char ch = mark != TM_NONE ? tui_mark_char(mark) : tui_class_char(cls);
            mvaddch(top + r, c, (chtype)(unsigned char)ch | cell_attr(app, cls, mark));
        }
    }
}

static void draw_legend(struct tui_app *app, int y, int rows, int cols)
{
    static const int classes[] = { TC_USED, TC_MOSTLY_USED, TC_MOSTLY_FREE, TC_FREE, TC_META,
                                   TC_POISON, TC_CORRUPT, TC_UNREADABLE };
    static const struct { int mark; const char *name; } marks[] = {
        { TM_CURSOR, "cursor" }, { TM_PREV, "prev" }, { TM_NEXT, "next" },
        { TM_OWNER, "owner" }, { TM_CHANGED, "changed" },
    };
    int x = 0, r = 0;
    for (int i = 0; i < rows; i++)
        put_line(y + i, 0, cols, A_NORMAL, "%s", "");
    for (size_t i = 0; i < sizeof classes / sizeof classes[0] + sizeof marks / sizeof marks[0]; i++) {
        int cls = TC_EMPTY, mark = TM_NONE;
        const char *name;
        if (i < sizeof classes / sizeof classes[0]) {
            cls = classes[i];
            name = tui_class_name(cls);
        } else {
            mark = marks[i - sizeof classes / sizeof classes[0]].mark;
            name = marks[i - sizeof classes / sizeof classes[0]].name;
        }
        int w = (int)strlen(name) + 4;
        if (x + w > cols) {
            if (++r >= rows)
                return;
            x = 0;
        }
        char ch = mark ? tui_mark_char(mark) : tui_class_char(cls);
        mvaddch(y + r, x, (chtype)(unsigned char)ch | cell_attr(app, cls, mark));
        mvaddstr(y + r, x + 2, name);
        x += w;
    }
}

/* Bytes [from, from+len) as hex, highlighting the block's header, its
 * canaries (per FORMAT.md section 5, as hv_block_detail reports them) and
 * canary bytes that do not hold the canary. */
static void draw_hex(struct tui_app *app, const struct tui_item *it, int y, int x, int rows, int width)
{
    const struct tui_heap_view *v = cur_view(app);
    const struct hv_heap *h = v->heap;
    /* address column: 8 digits, more for addresses above 4 GiB (host dumps) */
    int addr_digits = 8;
    uint64_t top_address = h->blocks_address + (uint64_t)h->unit_count * h->unit_bytes + 256;
    while (addr_digits < 16 && (top_address >> (4 * addr_digits)) != 0)
        addr_digits++;
    int col = addr_digits + 1;
    int per_line = width >= col + 16 * 3 ? 16 : 8;
    uint64_t start = tui_item_address(v, it);
    uint64_t end = start + tui_item_bytes(v, it);
    struct hv_block_info info;
    int has_info = 0;
    if (it->block >= 0) {
        hv_block_detail(h, &h->blocks[it->block], &info);
        has_info = 1;
    }
    uint64_t pre_lo = 0, pre_hi = 0, post_lo = 0, post_hi = 0;
    if (has_info && h->blocks[it->block].state == HV_BLOCK_USED && h->prefix_bytes && info.has_requested) {
        pre_lo = info.data_address + 8 + h->ptr_bytes;
        pre_hi = info.user_address;
        post_lo = info.user_address + info.requested;
        post_hi = end;
    }
    uint64_t from = (start & ~(uint64_t)(per_line - 1));
    if (from >= (uint64_t)per_line && start - from < 4)
        from -= (uint64_t)per_line;   /* a little of what comes before */
    if (it->problem >= 0) {
        /* damage past the first lines: centre on it */
        uint64_t bad = h->problems[it->problem].address & ~(uint64_t)(per_line - 1);
        uint64_t half = (uint64_t)per_line * (uint64_t)(rows / 2);
        if (bad >= from + (uint64_t)per_line * (uint64_t)rows && bad < end && bad - half > from)
            from = bad - half;
    }
    /* J/K scroll, within the item (the last line may run past it) */
    if (app->hex_item != it || app->hex_heap != app->heap_sel)
        app->hex_scroll = 0;
    app->hex_item = it;
    app->hex_heap = app->heap_sel;
    uint64_t first_line = start & ~(uint64_t)(per_line - 1);
    uint64_t last_line = (end - 1) & ~(uint64_t)(per_line - 1);
    if (from < first_line)
        first_line = from;
    long min_scroll = -(long)((from - first_line) / (uint64_t)per_line);
    long max_scroll = last_line > from ? (long)((last_line - from) / (uint64_t)per_line) : 0;
    if (app->hex_scroll < min_scroll)
        app->hex_scroll = min_scroll;
    if (app->hex_scroll > max_scroll)
        app->hex_scroll = max_scroll;
    if (app->hex_scroll < 0)
        from -= (uint64_t)(-app->hex_scroll) * (uint64_t)per_line;
    else
        from += (uint64_t)app->hex_scroll * (uint64_t)per_line;
    for (int r = 0; r < rows; r++) {
        uint64_t line = from + (uint64_t)r * (uint64_t)per_line;
        move(y + r, x);
        attrset(A_NORMAL);
        for (int k = 0; k < width; k++)
            addch(' ');
        mvprintw(y + r, x, "%0*llx", addr_digits, (unsigned long long)line);
        for (int b = 0; b < per_line; b++) {
            uint64_t addr = line + (uint64_t)b;
            uint8_t byte;
            int ok = hv_snapshot_read(&app->s.snap, addr, &byte, 1) == 0;
            chtype attr = A_NORMAL;
            int inside = addr >= start && addr < end;
            int canary = (addr >= pre_lo && addr < pre_hi) || (addr >= post_lo && addr < post_hi);
            if (!inside)
                attr = app->color ? COLOR_PAIR(P_DIM) : A_DIM;
            else if (addr < start + h->hdr_bytes && it->kind != TI_CONTROL)
                attr = app->color ? COLOR_PAIR(P_META) : A_BOLD;
            else if (canary && ok && byte != 0xA5)
                attr = app->color ? COLOR_PAIR(P_BAD) | A_BOLD : A_REVERSE;
            else if (canary)
                attr = app->color ? COLOR_PAIR(P_CANARY) | A_BOLD : A_UNDERLINE;
            attrset(attr);
            if (ok)
                mvprintw(y + r, x + col + b * 3, "%02x", byte);
            else
                mvaddstr(y + r, x + col + b * 3, "??");
            attrset(A_NORMAL);
        }
    }
}

static void draw_inspector(struct tui_app *app, int top, int rows, int width)
{
    const struct tui_heap_view *v = cur_view(app);
    const struct hv_heap *h = v->heap;
    put_line(top, 0, width, bar_attr(app), " inspector%s", app->focus == FOCUS_MAP ? " *" : "");
    for (int r = 1; r < rows; r++)
        put_line(top + r, 0, width, A_NORMAL, "%s", "");
    if (!v->item_count) {
        put_line(top + 1, 0, width, A_NORMAL, "no blocks");
        return;
    }
    const struct tui_item *it = &v->items[v->cursor];
    uint64_t addr = tui_item_address(v, it);
    uint64_t bytes = tui_item_bytes(v, it);
    int y = top + 1;
    if (it->block >= 0) {
        const struct hv_block *b = &h->blocks[it->block];
        struct hv_block_info info;
        hv_block_detail(h, b, &info);
        put_line(y++, 0, width, A_BOLD, "block %u @0x%llx  %s", b->index, (unsigned long long)info.address,
                 tui_class_name(it->cls));
        char req[32] = "-", seq[32] = "-";
        if (info.has_requested)
            snprintf(req, sizeof req, "%u", info.requested);
        if (info.has_seq)
            snprintf(seq, sizeof seq, "%u", info.seq);
        put_line(y++, 0, width, A_NORMAL, "size %llu B (%u units)  requested %s  seq %s",
                 (unsigned long long)info.size, b->units, req, seq);
        const char *owner = info.has_owner && info.owner ? hv_namer_name(&app->s.namer, info.owner) : NULL;
        if (b->state == HV_BLOCK_FREE)
            put_line(y++, 0, width, A_NORMAL, "owner -  (free)");
        else if (owner)
            put_line(y++, 0, width, A_NORMAL, "owner %s", owner);
        else if (info.has_owner && info.owner)
            put_line(y++, 0, width, A_NORMAL, "owner 0x%llx", (unsigned long long)info.owner);
        else
            put_line(y++, 0, width, A_NORMAL, "owner (unknown)  user 0x%llx", (unsigned long long)info.user_address);
    } else if (it->kind == TI_CONTROL) {
        char flags[128];
        hv_flag_names(h->flags, " ", flags, sizeof flags);
        put_line(y++, 0, width, A_BOLD, "control block @0x%llx  %llu B  %s", (unsigned long long)addr,
                 (unsigned long long)bytes, tui_class_name(it->cls));
        put_line(y++, 0, width, A_NORMAL, "%u units of %u B, %u-bit indices, flags %s", h->unit_count,
                 h->unit_bytes, h->index_bytes * 8, flags[0] ? flags : "none");
        if (h->has_record)
            put_line(y++, 0, width, A_NORMAL, "allocs %u frees %u reallocs %u oom %u bad frees %u",
                     h->record.alloc_count, h->record.free_count, h->record.realloc_count,
                     h->record.oom_count, h->record.bad_free_count);
        else
            put_line(y++, 0, width, A_NORMAL, "no instrumentation record");
    } else if (it->kind == TI_HEAD || it->kind == TI_END) {
        put_line(y++, 0, width, A_BOLD, "%s @0x%llx  allocator metadata",
                 it->kind == TI_HEAD ? "head sentinel" : "end marker", (unsigned long long)addr);
        put_line(y++, 0, width, A_NORMAL, "unit %u of %u", it->first, h->unit_count);
        put_line(y++, 0, width, A_NORMAL, "%s", "");
    } else {
        put_line(y++, 0, width, A_BOLD, "%s span @0x%llx", tui_class_name(it->cls), (unsigned long long)addr);
        put_line(y++, 0, width, A_NORMAL, "%llu B (%u units) the walk could not decode",
                 (unsigned long long)bytes, it->units);
        put_line(y++, 0, width, A_NORMAL, "%s", "");
    }
    if (it->problem >= 0) {
        const struct hv_problem *p = &h->problems[it->problem];
        put_line(y++, 0, width, app->color ? COLOR_PAIR(P_ERROR) | A_BOLD : A_BOLD, "%s at 0x%llx: %s",
                 hv_problem_kind_name(p->kind), (unsigned long long)p->address, p->message);
    } else {
        put_line(y++, 0, width, A_NORMAL, "no problem");
    }
    if (top + rows - y > 0)
        draw_hex(app, it, y, 0, top + rows - y, width);
}

static void draw_list(struct tui_app *app, int top, int rows, int x, int width)
{
    struct tui_heap_view *v = &app->views[app->heap_sel];
    const struct hv_heap *h = v->heap;
    int focused = app->focus == app->panel;
    size_t count = app->panel == FOCUS_OWNERS ? v->owner_count : h->problem_count;
    size_t sel = app->panel == FOCUS_OWNERS ? v->owner_sel : v->problem_sel;
    if (app->panel == FOCUS_OWNERS)
        put_line(top, x, width, bar_attr(app), " owners by live bytes (%zu)%s  o  Enter:highlight c:clear",
                 count, focused ? " *" : "");
    else
        put_line(top, x, width, bar_attr(app), " problems (%zu)%s  !  Enter:go to block", count,
                 focused ? " *" : "");
    int lines = rows - 1;
    size_t first = sel >= (size_t)lines && lines > 0 ? sel - (size_t)lines + 1 : 0;
    for (int r = 0; r < lines; r++) {
        size_t i = first + (size_t)r;
        chtype attr = i == sel ? (focused ? A_REVERSE : A_BOLD) : A_NORMAL;
        if (i >= count) {
            put_line(top + 1 + r, x, width, A_NORMAL, "%s", i == 0 ? (app->panel == FOCUS_OWNERS ?
                     "no live allocations" : "no problems") : "");
            continue;
        }
        if (app->panel == FOCUS_OWNERS) {
            const struct hv_owner_stat *o = &v->owners[i];
            char hex[24];
            const char *name = o->owner ? hv_namer_name(&app->s.namer, o->owner) : NULL;
            if (!name && o->owner) {
                snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)o->owner);
                name = hex;
            }
            put_line(top + 1 + r, x, width, attr, "%c%8llu B %4llu  %s",
                     v->owner_highlight && i == v->owner_sel ? '*' : ' ', (unsigned long long)o->bytes,
                     (unsigned long long)o->count, name ? name : "(unknown owner)");
        } else {
            const struct hv_problem *p = &h->problems[i];
            put_line(top + 1 + r, x, width, attr, "%s 0x%llx: %s", hv_problem_kind_name(p->kind),
                     (unsigned long long)p->address, p->message);
        }
    }
}

static void draw_status(struct tui_app *app, int y, int cols)
{
    const struct hv_heap *h = cur_view(app)->heap;
    const struct hv_metrics *m = &h->metrics;
    put_line(y, 0, cols, bar_attr(app),
             " used %llu B in %llu  free %llu B in %llu  largest free %llu B  frag %u%%  problems %zu%s",
             (unsigned long long)m->used_bytes, (unsigned long long)m->used_entries,
             (unsigned long long)m->free_bytes, (unsigned long long)m->free_entries,
             (unsigned long long)m->largest_free, m->fragmentation, h->problem_count,
             h->problems_truncated ? "+" : "");
    chtype attr = A_NORMAL;
    if (app->message[0]) {
        attr = app->message_error ? (app->color ? COLOR_PAIR(P_ERROR) | A_BOLD : A_BOLD) : A_NORMAL;
        put_line(y + 1, 0, cols, attr, "%s", app->message);
    } else if (app->live && app->reading) {
        put_line(y + 1, 0, cols, A_BOLD, "live %s: reading snapshot %u...", app->s.dump_names,
                 app->refresh_count + 1);
    } else if (app->live && app->live_error[0]) {
        put_line(y + 1, 0, cols, app->color ? COLOR_PAIR(P_ERROR) | A_BOLD : A_BOLD,
                 "live %s: read error: %s (%u failed, r: retry; showing snapshot %u)", app->s.dump_names,
                 app->live_error, app->failed_refreshes, app->refresh_count);
    } else if (app->live && app->torn_at) {
        put_line(y + 1, 0, cols, app->color ? COLOR_PAIR(P_ERROR) | A_BOLD : A_BOLD,
                 "live %s: snapshot %u is torn: the target changed 0x%llx while it was read (--no-halt)",
                 app->s.dump_names, app->refresh_count, (unsigned long long)app->torn_at);
    } else if (app->live) {
        put_line(y + 1, 0, cols, A_NORMAL, "live %s: %s  snapshot %u at %s, %zu block%s changed, every %ld ms",
                 app->s.dump_names, app->paused ? "PAUSED (p: resume)" : "refreshing (p: pause, r: now)",
                 app->refresh_count, app->refreshed_at, cur_view(app)->changed_count,
                 cur_view(app)->changed_count == 1 ? "" : "s", app->interval_ms);
    } else {
        put_line(y + 1, 0, cols, A_NORMAL, "dump %s", app->s.dump_names);
    }
}

static const char *const help_lines[] = {
    "keys",
    "arrows hjkl     move the cursor (or the list selection)",
    "PgUp PgDn       a page up / down",
    "Home End        first / last block",
    "g               go to an address",
    "+ -             zoom in / out      b  one cell per block",
    "0               zoom to fit",
    "Tab ] / [       next / previous heap",
    "! e             problem list (Enter: jump to the block)",
    "o               owners by live bytes (select: highlight)",
    "c               clear the owner highlight",
    "J K             scroll the inspector's bytes",
    "m Esc           back to the map",
    "r p             live: refresh now / pause",
    "?               this help      q  quit",
    "",
    "any key closes this help",
};

static void draw_help(struct tui_app *app, int rows, int cols)
{
    int n = (int)(sizeof help_lines / sizeof help_lines[0]);
    int w = 62 < cols - 2 ? 62 : cols - 2;
    int y0 = (rows - n - 2) / 2 > 0 ? (rows - n - 2) / 2 : 0;
    int x0 = (cols - w) / 2;
    put_line(y0, x0, w, bar_attr(app), " help ");
    for (int i = 0; i < n && y0 + 1 + i < rows; i++)
        put_line(y0 + 1 + i, x0, w, i == 0 ? A_BOLD : A_NORMAL, " %s", help_lines[i]);
    put_line(y0 + 1 + n, x0, w, bar_attr(app), "%s", "");
}

void tui_draw(struct tui_app *app)
{
    if (app->color)
        init_pairs();
    int rows = LINES, cols = COLS;
    erase();
    if (rows < MIN_ROWS || cols < MIN_COLS) {
        mvprintw(0, 0, "terminal too small");
        mvprintw(1, 0, "%dx%d, need %dx%d", cols, rows, MIN_COLS, MIN_ROWS);
        mvprintw(2, 0, "q: quit");
        refresh();
        return;
    }
    int lower = rows >= 36 ? 14 : rows >= 26 ? 11 : 9;
    int legend_rows = cols >= 150 ? 1 : cols >= 96 ? 2 : 3;
    int map_top = 1, map_rows = rows - 3 - lower - legend_rows;
    draw_map(app, map_top, map_rows, cols);
    draw_header(app, cols);
    draw_legend(app, map_top + map_rows, legend_rows, cols);
    int lower_top = map_top + map_rows + legend_rows;
    int iw = cols >= 124 ? 60 : cols / 2;
    draw_inspector(app, lower_top, lower, iw);
    for (int r = 0; r < lower; r++)
        mvaddch(lower_top + r, iw, ' ');
    draw_list(app, lower_top, lower, iw + 1, cols - iw - 1);
    draw_status(app, rows - 2, cols);
    if (app->show_help)
        draw_help(app, rows, cols);
    refresh();
}

int tui_prompt(struct tui_app *app, const char *label, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    curs_set(1);
    for (;;) {
        int rows = LINES, cols = COLS;
        put_line(rows - 1, 0, cols, A_NORMAL, "%s%s", label, buf);
        move(rows - 1, (int)(strlen(label) + n) < cols ? (int)(strlen(label) + n) : cols - 1);
        refresh();
        int ch = tui_read_key(100);
        if (tui_term_stop_signal()) {
            curs_set(0);
            return -1;
        }
        if (ch < 0)
            continue;
        if (ch == KEY_RESIZE) {
            tui_draw(app);
            continue;
        }
        if (ch == 27 || ch == 7 /* ^G */) {
            curs_set(0);
            return -1;
        }
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            curs_set(0);
            return 0;
        }
        if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
            buf[--n] = '\0';
            continue;
        }
        if (ch >= 32 && ch < 127 && n + 1 < len) {
            buf[n++] = (char)ch;
            buf[n] = '\0';
        }
    }
}
