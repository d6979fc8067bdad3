/*
 * cmd_report.c - the default command: per heap a summary, the problems and
 * the fragmentation map.
 */
#include "cli.h"

int cmd_report(const struct cli_args *a)
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
            if (i)
                fputc('\n', stdout);
            render_text_summary(stdout, &s.heaps[i], color);
            render_text_problems(stdout, &s.heaps[i], color);
            render_text_map(stdout, &s.heaps[i], 64, 4, color);
        }
    }
    rc = session_problem_count(&s) ? EXIT_PROBLEMS : EXIT_HEALTHY;
    session_close(&s);
    return rc;
}
