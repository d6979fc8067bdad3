/*
 * out.h - output helpers shared by the renderers: a small streaming JSON
 * writer and terminal colour (only on a TTY, never with NO_COLOR).
 */
#ifndef HV_OUT_H
#define HV_OUT_H

#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct jw {
    FILE *f;
    int depth;
    int count[JW_MAX_DEPTH];    /* members written at each level */
    int inline_from;            /* levels >= this are written on one line; 0 = none */
};

void jw_init(struct jw *w, FILE *f);
void jw_begin_object(struct jw *w, const char *key);
void jw_begin_object_inline(struct jw *w, const char *key);
void jw_end_object(struct jw *w);
void jw_begin_array(struct jw *w, const char *key);
void jw_begin_array_inline(struct jw *w, const char *key);
void jw_end_array(struct jw *w);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_null(struct jw *w, const char *key);
void jw_bool(struct jw *w, const char *key, int v);
void jw_finish(struct jw *w);   /* closing newline */

/* A heapview JSON document on `f`: {"schema": 1, "tool": "heapview ...",
 * and the array `list` opened for its entries. */
void jw_document_begin(struct jw *w, FILE *f, const char *list);
/* Closes the array and the document. */
void jw_document_end(struct jw *w);

/* Colour: decided once from the stream, --color and NO_COLOR. */
enum color_mode { COLOR_AUTO = 0, COLOR_ALWAYS, COLOR_NEVER };
int color_enabled(FILE *f, enum color_mode mode);

#define C_RESET  "\033[0m"
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE   "\033[34m"
#define C_BOLD   "\033[1m"
#define C_DIM    "\033[2m"

#define HEAPVIEW_VERSION "0.1.0"

#endif /* HV_OUT_H */
