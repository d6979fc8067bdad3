/*
 * render_junit.c - check verdicts as JUnit XML: one testsuite, one testcase
 * per heap and gate.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"

static void xml_attr(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, f);
        }
    }
}

int render_junit(const char *path, const struct session *s, const struct cli_args *a)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "heapview: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    size_t tests = 0, failures = 0;
    for (size_t i = 0; i < s->heap_count; i++) {
        struct gate_result gates[4];
        size_t n = check_gates(a, &s->heaps[i], gates, 4);
        tests += n;
        for (size_t k = 0; k < n; k++)
            failures += !gates[k].pass;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
    fprintf(f, "  <testsuite name=\"heapview check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", tests,
            failures);
    for (size_t i = 0; i < s->heap_count; i++) {
        struct gate_result gates[4];
        size_t n = check_gates(a, &s->heaps[i], gates, 4);
        for (size_t k = 0; k < n; k++) {
            fputs("    <testcase classname=\"heapview.", f);
            xml_attr(f, s->heaps[i].name);
            fprintf(f, "\" name=\"%s\"", gates[k].name);
            if (gates[k].pass) {
                fputs("/>\n", f);
                continue;
            }
            fputs(">\n      <failure message=\"", f);
            xml_attr(f, gates[k].detail);
            fputs("\"/>\n    </testcase>\n", f);
        }
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "heapview: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
