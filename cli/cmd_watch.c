/*
 * cmd_watch.c - `heapview watch`: the report, refreshed on an interval.
 * Each round opens the target (or re-reads the dumps), reports and closes
 * again, so a round sees the target as it is then and nothing carries
 * over.  On a terminal each round replaces the previous screen.  The exit
 * status is the last round's; a round that cannot read ends the watch with
 * its one-line error and exit 2, like `report`.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

/* Sleeps `ms`, waking early when a signal asks to stop. */
static void nap(long ms)
{
    struct timespec left = { ms / 1000, (ms % 1000) * 1000000L };
    while (!watch_stop && nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

int cmd_watch(const struct cli_args *a)
{
    long interval = a->interval.set ? (long)(a->interval.value > 3600000 ? 3600000 : a->interval.value) : 2000;
    uint64_t rounds = a->count.set ? a->count.value : 0;
    int tty = isatty(STDOUT_FILENO) && !a->json;
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = EXIT_HEALTHY;
    for (uint64_t round = 0; !watch_stop && (rounds == 0 || round < rounds); round++) {
        if (round)
            nap(interval);
        if (watch_stop)
            break;
        struct session s;
        rc = session_open_args(&s, a);
        if (rc != 0)
            return rc;
        if (tty)
            fputs("\033[H\033[2J", stdout);
        rc = render_report(stdout, &s, a);
        session_close(&s);
        fflush(stdout);
    }
    return rc;
}
