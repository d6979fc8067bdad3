/*
 * cmd_check.c - the CI gate: integrity plus optional limits on
 * fragmentation, the largest free block and usage.  Exit 1 when any gate
 * fails; --junit writes the same verdicts as JUnit XML.
 */
#include "cli.h"

size_t check_gates(const struct cli_args *a, const struct hv_heap *h, struct gate_result *out, size_t max)
{
    size_t n = 0;
    const struct hv_metrics *m = &h->metrics;
    if (n < max) {
        out[n].name = "integrity";
        out[n].pass = h->problem_count == 0;
        if (h->problem_count)
            snprintf(out[n].detail, sizeof out[n].detail, "%zu problem%s, first: %s: %s", h->problem_count,
                     h->problem_count == 1 ? "" : "s", hv_problem_kind_name(h->problems[0].kind),
                     h->problems[0].message);
        else
            snprintf(out[n].detail, sizeof out[n].detail, "no problems");
        n++;
    }
    if (a->max_fragmentation.set && n < max) {
        out[n].name = "fragmentation";
        out[n].pass = m->fragmentation <= a->max_fragmentation.value;
        snprintf(out[n].detail, sizeof out[n].detail, "fragmentation %u%% %s %llu%%", m->fragmentation,
                 out[n].pass ? "<=" : ">", (unsigned long long)a->max_fragmentation.value);
        n++;
    }
    if (a->min_largest_free.set && n < max) {
        out[n].name = "largest_free";
        out[n].pass = m->largest_free >= a->min_largest_free.value;
        snprintf(out[n].detail, sizeof out[n].detail, "largest free block %llu bytes %s %llu",
                 (unsigned long long)m->largest_free, out[n].pass ? ">=" : "<",
                 (unsigned long long)a->min_largest_free.value);
        n++;
    }
    if (a->max_used.set && n < max) {
        out[n].name = "used";
        uint64_t total = m->used_bytes + m->free_bytes;
        if (a->max_used.percent) {
            uint64_t pct = total ? m->used_bytes * 100 / total : 0;
            out[n].pass = pct <= a->max_used.value;
            snprintf(out[n].detail, sizeof out[n].detail, "used %llu of %llu bytes (%llu%%) %s %llu%%",
                     (unsigned long long)m->used_bytes, (unsigned long long)total, (unsigned long long)pct,
                     out[n].pass ? "<=" : ">", (unsigned long long)a->max_used.value);
        } else {
            out[n].pass = m->used_bytes <= a->max_used.value;
            snprintf(out[n].detail, sizeof out[n].detail, "used %llu bytes %s %llu",
                     (unsigned long long)m->used_bytes, out[n].pass ? "<=" : ">",
                     (unsigned long long)a->max_used.value);
        }
        n++;
    }
    return n;
}

int cmd_check(const struct cli_args *a)
{
    struct session s;
    int rc = session_open_args(&s, a);
    if (rc != 0)
        return rc;
    int failed = 0;
    int color = color_enabled(stdout, (enum color_mode)a->color);
    struct jw w;
    if (a->json) {
        jw_document_begin(&w, stdout, "heaps");
    }
    for (size_t i = 0; i < s.heap_count; i++) {
        struct gate_result gates[4];
        size_t n = check_gates(a, &s.heaps[i], gates, 4);
        if (a->json) {
            jw_begin_object(&w, NULL);
            jw_str(&w, "name", s.heaps[i].name);
            jw_u64(&w, "address", s.heaps[i].address);
            jw_begin_array(&w, "gates");
        } else {
            printf("heap %s at 0x%llx\n", s.heaps[i].name, (unsigned long long)s.heaps[i].address);
        }
        for (size_t k = 0; k < n; k++) {
            failed |= !gates[k].pass;
            if (a->json) {
                jw_begin_object_inline(&w, NULL);
                jw_str(&w, "gate", gates[k].name);
                jw_bool(&w, "pass", gates[k].pass);
                jw_str(&w, "detail", gates[k].detail);
                jw_end_object(&w);
            } else {
                printf("  %s%-4s%s %-14s %s\n", color ? (gates[k].pass ? C_GREEN : C_RED) : "",
                       gates[k].pass ? "ok" : "FAIL", color ? C_RESET : "", gates[k].name, gates[k].detail);
            }
        }
        if (a->json) {
            jw_end_array(&w);
            jw_end_object(&w);
        }
    }
    if (a->json) {
        jw_end_array(&w);
        jw_bool(&w, "pass", !failed);
        jw_end_object(&w);
        jw_finish(&w);
    } else {
        printf("check: %s\n", failed ? "failed" : "passed");
    }
    if (a->junit && render_junit(a->junit, &s, a) < 0)
        rc = EXIT_USAGE;
    else
        rc = failed ? EXIT_PROBLEMS : EXIT_HEALTHY;
    session_close(&s);
    return rc;
}
