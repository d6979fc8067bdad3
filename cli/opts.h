/*
 * opts.h - one option table per command drives both parsing and --help
 * (git's parse-options idea).
 */
#ifndef HV_OPTS_H
#define HV_OPTS_H

#include "cli.h"

enum opt_type { OPT_FLAG, OPT_NUM, OPT_NUM_LIST, OPT_STRING, OPT_COLOR, OPT_SET_VALUE };

struct opt {
    const char *name;        /* long name without the dashes */
    enum opt_type type;
    size_t offset;           /* of the target in struct cli_args */
    const char *arg;         /* placeholder for --help, NULL for flags */
    const char *help;
    int value;               /* OPT_SET_VALUE: stored into an int */
};

struct command {
    const char *name;
    const char *usage;       /* after "heapview NAME " */
    const char *summary;
    const struct opt *opts;  /* terminated by a zero entry */
    int (*run)(const struct cli_args *a);
    size_t min_files, max_files;
};

/* Parses argv (after the command name) into a; prints the error and
 * returns EXIT_USAGE on bad usage, else 0. */
int opts_parse(const struct command *cmd, int argc, char **argv, struct cli_args *a);
void opts_help(FILE *f, const struct command *cmd);
/* Parses "123", "0x7b", "4K", "2M", "80%" into n. */
int parse_num(const char *s, struct opt_num *n);

#endif /* HV_OPTS_H */
