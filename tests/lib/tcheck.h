/*
 * tcheck.h - the smallest test runner that does the job: each test is a
 * function; a failed expectation prints where and why and marks the test
 * failed; main prints `N passed, N failed`.
 */
#ifndef TCHECK_H
#define TCHECK_H

#include <stdio.h>

extern int tcheck_failed_now;

#define EXPECT(cond, ...)                                                         \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            tcheck_failed_now = 1;                                                \
        }                                                                         \
    } while (0)

/* Stops the current test: later checks would only repeat the failure. */
#define REQUIRE(cond, ...)                                                        \
    do {                                                                          \
        EXPECT(cond, __VA_ARGS__);                                                \
        if (!(cond))                                                              \
            return;                                                               \
    } while (0)

struct tcheck_case {
    const char *name;
    void (*run)(void);
};

int tcheck_main(const char *suite, const struct tcheck_case *cases, int argc, char **argv);

#endif
