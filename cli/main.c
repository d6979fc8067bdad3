/*
 * main.c - heapview: look inside a heapview/umm_malloc heap from RAM dumps.
 *   heapview [COMMAND] [options] DUMP... [firmware.elf]
 * Exit status: 0 healthy, 1 problems found or a gate failed, 2 usage or
 * unreadable input.
 */
#include <stddef.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "tui/tui.h"

#define OFF(field) offsetof(struct cli_args, field)

#define COMMON_OPTS                                                                                  \
    { "json", OPT_FLAG, OFF(json), NULL, "print JSON (cli/JSON.md) instead of text", 0 },          \
    { "base", OPT_NUM, OFF(base), "ADDR", "address of raw images (default: the ELF's lowest writable section)", 0 }, \
    { "heap", OPT_NUM_LIST, OFF(heap), "ADDR", "decode the heap at ADDR (control block), repeatable", 0 }, \
    { "upstream", OPT_FLAG, OFF(upstream), NULL, "also decode upstream umm_malloc heaps (umm_heap_current)", 0 }, \
    { "heap-size", OPT_NUM, OFF(heap_size), "BYTES", "size of an upstream heap given with --heap", 0 }, \
    { "block-size", OPT_NUM, OFF(block_size), "BYTES", "upstream block size (default heap_size/numblocks, else 8)", 0 }, \
    { "poison", OPT_FLAG, OFF(poison), NULL, "the upstream heap was built with UMM_POISON_CHECK", 0 }, \
    { "no-scan", OPT_FLAG, OFF(no_scan), NULL, "do not scan the dump for control blocks", 0 },       \
    { "gdb-remote", OPT_STRING, OFF(gdb_remote), "HOST:PORT", "read a live target through a GDB stub (or unix:PATH)", 0 }, \
    { "openocd", OPT_STRING, OFF(openocd), "HOST[:PORT]", "read a live target through OpenOCD's Tcl RPC", 0 }, \
    { "halt", OPT_SET_VALUE, OFF(no_halt), NULL, "live: halt, read, resume: a consistent snapshot (the default)", 0 }, \
    { "no-halt", OPT_FLAG, OFF(no_halt), NULL, "live: leave the target running (re-reads to detect torn reads)", 0 }, \
    { "timeout", OPT_NUM, OFF(timeout), "MS", "live: timeout per network step (default 5000)", 0 }, \
    { "color", OPT_COLOR, OFF(color), "WHEN", "auto, always or never (auto: on a TTY without NO_COLOR)", 0 }, \
    { "no-color", OPT_SET_VALUE, OFF(color), NULL, "same as --color never", COLOR_NEVER }

static const struct opt report_opts[] = { COMMON_OPTS, { 0 } };
static const struct opt blocks_opts[] = {
    COMMON_OPTS,
    { "used", OPT_FLAG, OFF(only_used), NULL, "list used blocks only", 0 },
    { "free", OPT_FLAG, OFF(only_free), NULL, "list free blocks only", 0 },
    { 0 },
};
static const struct opt map_opts[] = {
    COMMON_OPTS,
    { "svg", OPT_STRING, OFF(svg), "FILE", "write the map as SVG to FILE", 0 },
    { "width", OPT_NUM, OFF(width), "N", "cells per row (default 64)", 0 },
    { "rows", OPT_NUM, OFF(rows), "N", "rows (default 16)", 0 },
    { "per-block", OPT_FLAG, OFF(per_block), NULL, "one cell per block (and per undecodable span)", 0 },
    { 0 },
};
static const struct opt top_opts[] = {
    COMMON_OPTS,
    { "limit", OPT_NUM, OFF(limit), "N", "show the N largest owners (default 20)", 0 },
    { 0 },
};
static const struct opt diff_opts[] = { COMMON_OPTS, { 0 } };
static const struct opt check_opts[] = {
    COMMON_OPTS,
    { "max-fragmentation", OPT_NUM, OFF(max_fragmentation), "PCT", "fail above this fragmentation (percent)", 0 },
    { "min-largest-free", OPT_NUM, OFF(min_largest_free), "BYTES", "fail when the largest free block is smaller", 0 },
    { "max-used", OPT_NUM, OFF(max_used), "N|PCT%", "fail when more bytes (or percent) are used", 0 },
    { "junit", OPT_STRING, OFF(junit), "FILE", "write the verdicts as JUnit XML", 0 },
    { 0 },
};

static const struct opt watch_opts[] = {
    COMMON_OPTS,
    { "interval", OPT_NUM, OFF(interval), "MS", "time between refreshes (default 2000)", 0 },
    { "count", OPT_NUM, OFF(count), "N", "stop after N reports (default: until interrupted)", 0 },
    { 0 },
};

static const struct command commands[] = {
    { "report", "[options] DUMP... [firmware.elf]",
      "Summary per heap, problems and a fragmentation map (the default command).", report_opts, cmd_report,
      0, MAX_FILES },
    { "blocks", "[options] DUMP... [firmware.elf]", "Every block in address order.", blocks_opts, cmd_blocks,
      0, MAX_FILES },
    { "map", "[options] DUMP... [firmware.elf]", "The fragmentation map (text, JSON or --svg).", map_opts,
      cmd_map, 0, MAX_FILES },
    { "top", "[options] DUMP... [firmware.elf]", "Live allocations by owner, largest first.", top_opts,
      cmd_top, 0, MAX_FILES },
    { "diff", "[options] BEFORE AFTER [firmware.elf]", "Live allocations that changed between two dumps, by owner.",
      diff_opts, cmd_diff, 2, 3 },
    { "check", "[options] DUMP... [firmware.elf]",
      "CI gate: fails (exit 1) on any problem or a limit exceeded.", check_opts, cmd_check, 0, MAX_FILES },
    { "watch", "[options] (--gdb-remote|--openocd TARGET | DUMP...) [firmware.elf]",
      "The report again and again, on an interval (live targets; dumps are re-read).", watch_opts, cmd_watch,
      0, MAX_FILES },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: heapview [COMMAND] [options] DUMP... [firmware.elf]\n\n"
               "DUMP is a raw image (FILE@ADDR or --base), an Intel HEX file or an ELF core.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-8s %s\n", "tui", "Interactive map, block inspector, problem and owner lists (ncurses).");
    fprintf(f, "\n'heapview COMMAND --help' lists a command's options.\n"
               "exit status: 0 healthy, 1 problems found or a gate failed, 2 usage or unreadable input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_HEALTHY;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("heapview %s\n", HEAPVIEW_VERSION);
        return EXIT_HEALTHY;
    }
    if (strcmp(argv[1], "tui") == 0)
        return cmd_tui(argc - 2, argv + 2);
    const struct command *cmd = &commands[0];
    int first = 1;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            cmd = &commands[i];
            first = 2;
            break;
        }
    }
    static struct cli_args args;
    int rc = opts_parse(cmd, argc - first, argv + first, &args);
    if (rc != 0)
        return rc;
    if (args.help) {
        opts_help(stdout, cmd);
        return EXIT_HEALTHY;
    }
    rc = cmd->run(&args);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "heapview: cannot write the output\n");
        return EXIT_USAGE;
    }
    return rc;
}
