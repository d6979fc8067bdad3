/*
 * cmd_top.c - live allocations grouped by owner, largest first.
 */
#include <stdlib.h>

#include "cli.h"

int cmd_top(const struct cli_args *a)
{
    struct session s;
    int rc = session_open_args(&s, a);
    if (rc != 0)
        return rc;
    size_t limit = a->limit.set ? (size_t)a->limit.value : 20;
    struct jw w;
    if (a->json) {
        jw_document_begin(&w, stdout, "heaps");
    }
    for (size_t i = 0; i < s.heap_count; i++) {
        const struct hv_heap *h = &s.heaps[i];
        struct hv_owner_stat *stats;
        size_t n;
        if (hv_owner_stats(h, &stats, &n) < 0) {
            fprintf(stderr, "heapview: out of memory\n");
            session_close(&s);
            return EXIT_USAGE;
        }
        if (a->json) {
            jw_begin_object(&w, NULL);
            jw_str(&w, "name", h->name);
            jw_u64(&w, "address", h->address);
            jw_u64(&w, "used_entries", h->metrics.used_entries);
            jw_u64(&w, "used_bytes", h->metrics.used_bytes);
            jw_begin_array(&w, "owners");
        } else {
            if (i)
                putchar('\n');
            printf("heap %s at 0x%llx: %llu live allocations, %llu bytes\n", h->name,
                   (unsigned long long)h->address, (unsigned long long)h->metrics.used_entries,
                   (unsigned long long)h->metrics.used_bytes);
            printf("  %10s %7s %10s  %s\n", "bytes", "count", "requested", "owner");
        }
        for (size_t k = 0; k < n && k < limit; k++) {
            const char *name = owner_value_label(&s, stats[k].owner != 0, stats[k].owner);
            if (a->json) {
                jw_begin_object_inline(&w, NULL);
                json_owner_fields(&w, stats[k].owner, name);
                jw_u64(&w, "count", stats[k].count);
                jw_u64(&w, "bytes", stats[k].bytes);
                if (h->metrics.has_requested)
                    jw_u64(&w, "requested", stats[k].requested);
                else
                    jw_null(&w, "requested");
                jw_end_object(&w);
            } else {
                char req[24] = "-", label[64];
                if (h->metrics.has_requested)
                    snprintf(req, sizeof req, "%llu", (unsigned long long)stats[k].requested);
                printf("  %10llu %7llu %10s  %s\n", (unsigned long long)stats[k].bytes,
                       (unsigned long long)stats[k].count, req,
                       owner_text(name, stats[k].owner, label, sizeof label));
            }
        }
        if (!a->json && n > limit)
            printf("  ... %zu more owners (--limit)\n", n - limit);
        if (a->json) {
            jw_end_array(&w);
            jw_end_object(&w);
        }
        free(stats);
    }
    if (a->json) {
        jw_document_end(&w);
    }
    rc = session_problem_count(&s) ? EXIT_PROBLEMS : EXIT_HEALTHY;
    session_close(&s);
    return rc;
}
