/*
 * cmd_diff.c - what changed between two dumps of the same firmware, by
 * owner: a leak shows as an owner whose live allocations only grow.
 */
#include <stdlib.h>

#include "cli.h"

static const struct hv_heap *match_heap(const struct session *s, const struct hv_heap *h)
{
    for (size_t i = 0; i < s->heap_count; i++) {
        if (s->heaps[i].address == h->address)
            return &s->heaps[i];
    }
    return NULL;
}

static int64_t signed_delta(uint64_t a, uint64_t b)
{
    return (int64_t)(b - a);
}

int cmd_diff(const struct cli_args *a)
{
    const char *files[MAX_FILES], *elf;
    size_t n = split_inputs(a, files, &elf);
    if (n != 2) {
        fprintf(stderr, "usage: heapview diff [options] BEFORE AFTER [firmware.elf]\n");
        return EXIT_USAGE;
    }
    struct session sa, sb;
    int rc = session_open(&sa, a, &files[0], 1, elf);
    if (rc != 0) {
        session_close(&sa);
        return rc;
    }
    rc = session_open(&sb, a, &files[1], 1, elf);
    if (rc != 0) {
        session_close(&sa);
        session_close(&sb);
        return rc;
    }
    struct jw w;
    if (a->json) {
        jw_document_begin(&w, stdout, "heaps");
    }
    for (size_t i = 0; i < sb.heap_count; i++) {
        const struct hv_heap *hb = &sb.heaps[i], *ha = match_heap(&sa, hb);
        if (!ha) {
            if (!a->json)
                printf("heap %s at 0x%llx: only in '%s'\n", hb->name, (unsigned long long)hb->address, files[1]);
            continue;
        }
        struct hv_owner_delta *d;
        size_t nd;
        if (hv_diff_heaps(ha, hb, &d, &nd) < 0) {
            fprintf(stderr, "heapview: out of memory\n");
            rc = EXIT_USAGE;
            break;
        }
        int64_t dc = signed_delta(ha->metrics.used_entries, hb->metrics.used_entries);
        int64_t db = signed_delta(ha->metrics.used_bytes, hb->metrics.used_bytes);
        if (a->json) {
            jw_begin_object(&w, NULL);
            jw_str(&w, "name", hb->name);
            jw_u64(&w, "address", hb->address);
            jw_i64(&w, "used_entries_delta", dc);
            jw_i64(&w, "used_bytes_delta", db);
            jw_begin_array(&w, "owners");
        } else {
            if (i)
                putchar('\n');
            printf("heap %s at 0x%llx: %+lld allocations, %+lld bytes (%llu -> %llu bytes used)\n", hb->name,
                   (unsigned long long)hb->address, (long long)dc, (long long)db,
                   (unsigned long long)ha->metrics.used_bytes, (unsigned long long)hb->metrics.used_bytes);
            if (nd)
                printf("  %9s %7s %7s %9s  %s\n", "bytes", "count", "new", "new bytes", "owner");
        }
        for (size_t k = 0; k < nd; k++) {
            char label[64];
            const char *name = owner_value_label(&sb, d[k].owner != 0, d[k].owner);
            if (a->json) {
                jw_begin_object_inline(&w, NULL);
                json_owner_fields(&w, d[k].owner, name);
                jw_u64(&w, "count_before", d[k].count_a);
                jw_u64(&w, "count_after", d[k].count_b);
                jw_u64(&w, "bytes_before", d[k].bytes_a);
                jw_u64(&w, "bytes_after", d[k].bytes_b);
                jw_u64(&w, "new_count", d[k].new_count);
                jw_u64(&w, "new_bytes", d[k].new_bytes);
                jw_end_object(&w);
            } else {
                printf("  %+9lld %+7lld %7llu %9llu  %s\n", (long long)signed_delta(d[k].bytes_a, d[k].bytes_b),
                       (long long)signed_delta(d[k].count_a, d[k].count_b), (unsigned long long)d[k].new_count,
                       (unsigned long long)d[k].new_bytes, owner_text(name, d[k].owner, label, sizeof label));
            }
        }
        if (!a->json && nd == 0)
            printf("  no change in live allocations\n");
        if (a->json) {
            jw_end_array(&w);
            jw_end_object(&w);
        }
        free(d);
    }
    if (a->json) {
        jw_document_end(&w);
    }
    if (rc == 0)
        rc = session_problem_count(&sa) + session_problem_count(&sb) ? EXIT_PROBLEMS : EXIT_HEALTHY;
    session_close(&sa);
    session_close(&sb);
    return rc;
}
