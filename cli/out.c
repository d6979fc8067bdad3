/*
 * out.c - JSON writer and colour decision.
 */
#include "out.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void jw_init(struct jw *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->count[0] = 0;
    w->inline_from = 0;
}

static int is_inline(const struct jw *w)
{
    return w->inline_from && w->depth >= w->inline_from;
}

static void put_string(FILE *f, const char *s);

static void member(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        if (w->count[w->depth]++)
            fputc(',', w->f);
        if (is_inline(w)) {
            if (w->count[w->depth] > 1)
                fputc(' ', w->f);
        } else {
            fputc('\n', w->f);
            for (int i = 0; i < w->depth; i++)
                fputs("  ", w->f);
        }
    }
    if (key) {
        put_string(w->f, key);
        fputs(": ", w->f);
    }
}

static void open_level(struct jw *w, const char *key, char c, int inl)
{
    member(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < JW_MAX_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
    if (inl && !w->inline_from)
        w->inline_from = w->depth;
}

static void close_level(struct jw *w, char c)
{
    int had = w->count[w->depth];
    int inl = is_inline(w);
    if (w->inline_from == w->depth)
        w->inline_from = 0;
    w->depth--;
    if (had && !inl) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    fputc(c, w->f);
}

void jw_begin_object(struct jw *w, const char *key) { open_level(w, key, '{', 0); }
void jw_begin_object_inline(struct jw *w, const char *key) { open_level(w, key, '{', 1); }
void jw_end_object(struct jw *w) { close_level(w, '}'); }
void jw_begin_array(struct jw *w, const char *key) { open_level(w, key, '[', 0); }
void jw_begin_array_inline(struct jw *w, const char *key) { open_level(w, key, '[', 1); }
void jw_end_array(struct jw *w) { close_level(w, ']'); }

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
    member(w, key);
    fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
    member(w, key);
    fprintf(w->f, "%lld", (long long)v);
}

void jw_null(struct jw *w, const char *key)
{
    member(w, key);
    fputs("null", w->f);
}

void jw_bool(struct jw *w, const char *key, int v)
{
    member(w, key);
    fputs(v ? "true" : "false", w->f);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
    member(w, key);
    if (!s)
        fputs("null", w->f);
    else
        put_string(w->f, s);
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20 || *p >= 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void jw_finish(struct jw *w)
{
    fputc('\n', w->f);
}

void jw_document_begin(struct jw *w, FILE *f, const char *list)
{
    jw_init(w, f);
    jw_begin_object(w, NULL);
    jw_u64(w, "schema", 1);
    jw_str(w, "tool", "heapview " HEAPVIEW_VERSION);
    jw_begin_array(w, list);
}

void jw_document_end(struct jw *w)
{
    jw_end_array(w);
    jw_end_object(w);
    jw_finish(w);
}

int color_enabled(FILE *f, enum color_mode mode)
{
    if (mode == COLOR_NEVER)
        return 0;
    if (mode == COLOR_ALWAYS)
        return 1;
    const char *no = getenv("NO_COLOR");
    if (no && *no)
        return 0;
    const char *term = getenv("TERM");
    if (term && term[0] && strcmp(term, "dumb") != 0)
        return isatty(fileno(f));
    return 0;
}
