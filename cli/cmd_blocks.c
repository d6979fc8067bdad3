/*
 * cmd_blocks.c - every block between the sentinels, in address order.
 */
#include "cli.h"

int cmd_blocks(const struct cli_args *a)
{
    struct session s;
    int rc = session_open_args(&s, a);
    if (rc != 0)
        return rc;
    if (a->json) {
        render_json_document(stdout, &s, 1);
    } else {
        int color = color_enabled(stdout, (enum color_mode)a->color);
        for (size_t i = 0; i < s.heap_count; i++) {
            const struct hv_heap *h = &s.heaps[i];
            printf("%sheap %s at 0x%llx%s\n", color ? C_BOLD : "", h->name, (unsigned long long)h->address,
                   color ? C_RESET : "");
            printf("  %8s  %-18s %9s  %-5s %9s %7s  %s\n", "index", "address", "size", "state", "requested",
                   "seq", "owner");
            size_t gi = 0;
            for (size_t k = 0; k <= h->block_count; k++) {
                /* undecodable spans, in address order with the blocks */
                while (gi < h->gap_count && (k == h->block_count || h->gaps[gi].first < h->blocks[k].index)) {
                    const struct hv_gap *g = &h->gaps[gi++];
                    printf("  %s%8u  0x%-16llx %9llu  %s%s\n", color ? C_RED : "", g->first,
                           (unsigned long long)(h->blocks_address + (uint64_t)g->first * h->unit_bytes),
                           (unsigned long long)g->units * h->unit_bytes,
                           g->kind == HV_PROBLEM_UNREADABLE ? "unreadable" : "undecodable", color ? C_RESET : "");
                }
                if (k == h->block_count)
                    break;
                const struct hv_block *b = &h->blocks[k];
                if ((a->only_used && b->state != HV_BLOCK_USED) || (a->only_free && b->state != HV_BLOCK_FREE))
                    continue;
                struct hv_block_info info;
                hv_block_detail(h, b, &info);
                char req[16] = "-", seq[16] = "-", owner[128] = "-";
                if (info.has_requested)
                    snprintf(req, sizeof req, "%u", info.requested);
                if (info.has_seq)
                    snprintf(seq, sizeof seq, "%u", info.seq);
                if (info.has_owner && info.owner) {
                    const char *name = owner_label(&s, &info);
                    if (name)
                        snprintf(owner, sizeof owner, "%s", name);
                    else
                        snprintf(owner, sizeof owner, "0x%llx", (unsigned long long)info.owner);
                }
                const char *on = "", *off = "";
                if (color && b->has_problem)
                    on = C_RED, off = C_RESET;
                else if (color && b->state == HV_BLOCK_FREE)
                    on = C_GREEN, off = C_RESET;
                printf("  %s%8u  0x%-16llx %9llu  %-5s %9s %7s  %s%s%s\n", on, b->index,
                       (unsigned long long)info.address, (unsigned long long)info.size,
                       b->state == HV_BLOCK_FREE ? "free" : "used", req, seq, owner,
                       b->has_problem ? "  (problem)" : "", off);
            }
        }
    }
    rc = session_problem_count(&s) ? EXIT_PROBLEMS : EXIT_HEALTHY;
    session_close(&s);
    return rc;
}
