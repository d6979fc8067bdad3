/*
 * tui_term.c - the terminal for `heapview tui`: curses set-up and, above
 * all, restoring the terminal on every way out.  A normal quit and an
 * error return go through tui_term_stop (endwin); SIGINT, SIGTERM and
 * SIGHUP only set a flag the key loop polls (getch times out every
 * 100 ms), so they leave through the same path; a crash signal (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGABRT) cannot trust curses any more, so its
 * handler writes the terminal's own exit strings (sgr0, cnorm, rmkx,
 * rmcup, captured at start) and the saved termios with async-signal-safe
 * calls, then re-raises the signal with its default action.
 */
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include "tui_app.h"

static volatile sig_atomic_t stop_signal;
static int active;
static struct termios saved_termios;
static int have_termios;
static char restore_seq[256];
static size_t restore_len;
static SCREEN *screen;
static short default_bg = -1;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void on_crash(int sig)
{
    if (active) {
        if (restore_len && write(STDOUT_FILENO, restore_seq, restore_len) < 0) {
            /* nothing more can be done from a crash handler */
        }
        if (have_termios)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void add_cap(const char *name)
{
    char *s = tigetstr(name);
    if (!s || s == (char *)-1)
        return;
    size_t n = strlen(s);
    if (restore_len + n < sizeof restore_seq) {
        memcpy(restore_seq + restore_len, s, n);
        restore_len += n;
    }
}

static void at_exit_restore(void)
{
    tui_term_stop();
}

int tui_term_start(int want_color, int *has_color, char *err, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "the tui needs a terminal on stdin and stdout");
        return -1;
    }
    have_termios = tcgetattr(STDIN_FILENO, &saved_termios) == 0;
    const char *term = getenv("TERM");
    if (!term || !*term) {
        snprintf(err, errlen, "TERM is not set");
        return -1;
    }
    screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        snprintf(err, errlen, "cannot use terminal type '%s'", term);
        return -1;
    }
    set_term(screen);
    active = 1;
    atexit(at_exit_restore);
    restore_len = 0;
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    add_cap("rmcup");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);

    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    *has_color = 0;
    if (want_color && has_colors() && start_color() == OK) {
        *has_color = 1;
        default_bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
    }
    return 0;
}

void tui_term_stop(void)
{
    if (!active)
        return;
    active = 0;
    curs_set(1);
    endwin();
    delscreen(screen);
    screen = NULL;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGABRT, SIG_DFL);
}

short tui_term_default_bg(void)
{
    return default_bg;
}

int tui_term_stop_signal(void)
{
    return (int)stop_signal;
}

int tui_read_key(int ms)
{
    timeout(ms);
    int ch = getch();
    return ch == ERR ? -1 : ch;
}
