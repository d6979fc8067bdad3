/*
 * cmd_report.c - the default command: per heap a summary, the problems and
 * the fragmentation map.
 */
#include "cli.h"

int render_report(FILE *f, const struct session *s, const struct cli_args *a)
{
    if (a->json) {
        render_json_document(f, s, 1);
    } else {
        int color = color_enabled(f, (enum color_mode)a->color);
        for (size_t i = 0; i < s->heap_count; i++) {
            if (i)
                fputc('\n', f);
            render_text_summary(f, &s->heaps[i], color);
            render_text_problems(f, &s->heaps[i], color);
            render_text_map(f, &s->heaps[i], 64, 4, color);
        }
    }
    return session_problem_count(s) ? EXIT_PROBLEMS : EXIT_HEALTHY;
}

int cmd_report(const struct cli_args *a)
{
    struct session s;
    int rc = session_open_args(&s, a);
    if (rc != 0)
        return rc;
    rc = render_report(stdout, &s, a);
    session_close(&s);
    return rc;
}
