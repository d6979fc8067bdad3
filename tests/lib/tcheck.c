#include "tcheck.h"

#include <string.h>

int tcheck_failed_now;

/* With an argument, runs only the cases whose name contains it. */
int tcheck_main(const char *suite, const struct tcheck_case *cases, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (const struct tcheck_case *c = cases; c->name; c++) {
        if (argc > 1 && !strstr(c->name, argv[1]))
            continue;
        tcheck_failed_now = 0;
        c->run();
        if (tcheck_failed_now) {
            failed++;
            printf("FAIL %s: %s\n", suite, c->name);
        } else {
            passed++;
            printf("ok   %s: %s\n", suite, c->name);
        }
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
