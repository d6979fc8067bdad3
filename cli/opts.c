/*
 * opts.c - table-driven option parsing and --help.
 */
#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_num(const char *s, struct opt_num *n)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -1;
    uint64_t mult = 1;
    int percent = 0;
    if (*end == 'K' || *end == 'k')
        mult = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024 * 1024, end++;
    else if (*end == '%')
        percent = 1, end++;
    if (*end != '\0' || (mult > 1 && v > UINT64_MAX / mult))
        return -1;
    n->value = v * mult;
    n->set = 1;
    n->percent = percent;
    return 0;
}

static const struct opt *find_opt(const struct command *cmd, const char *name, size_t len)
{
    for (const struct opt *o = cmd->opts; o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

int opts_parse(const struct command *cmd, int argc, char **argv, struct cli_args *a)
{
    char *base = (char *)a;
    int only_files = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_files || arg[0] != '-' || arg[1] == '\0') {
            if (a->file_count >= MAX_FILES) {
                fprintf(stderr, "heapview: too many files (at most %d)\n", MAX_FILES);
                return EXIT_USAGE;
            }
            a->files[a->file_count++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_files = 1;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            a->help = 1;
            continue;
        }
        if (arg[1] != '-') {
            fprintf(stderr, "heapview: unknown option '%s' (see 'heapview %s --help')\n", arg, cmd->name);
            return EXIT_USAGE;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = find_opt(cmd, name, len);
        if (!o) {
            fprintf(stderr, "heapview: unknown option '--%.*s' (see 'heapview %s --help')\n", (int)len, name,
                    cmd->name);
            return EXIT_USAGE;
        }
        const char *value = NULL;
        if (o->type != OPT_FLAG && o->type != OPT_SET_VALUE) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                fprintf(stderr, "heapview: option '--%s' needs a value\n", o->name);
                return EXIT_USAGE;
            }
        } else if (eq) {
            fprintf(stderr, "heapview: option '--%s' takes no value\n", o->name);
            return EXIT_USAGE;
        }
        void *target = base + o->offset;
        switch (o->type) {
        case OPT_FLAG:
            *(int *)target = 1;
            break;
        case OPT_SET_VALUE:
            *(int *)target = o->value;
            break;
        case OPT_STRING:
            *(const char **)target = value;
            break;
        case OPT_COLOR:
            if (strcmp(value, "auto") == 0)
                *(int *)target = COLOR_AUTO;
            else if (strcmp(value, "always") == 0)
                *(int *)target = COLOR_ALWAYS;
            else if (strcmp(value, "never") == 0)
                *(int *)target = COLOR_NEVER;
            else {
                fprintf(stderr, "heapview: --color wants auto, always or never, not '%s'\n", value);
                return EXIT_USAGE;
            }
            break;
        case OPT_NUM:
            if (parse_num(value, (struct opt_num *)target) < 0) {
                fprintf(stderr, "heapview: option '--%s' wants a number, not '%s'\n", o->name, value);
                return EXIT_USAGE;
            }
            break;
        case OPT_NUM_LIST: {
            struct opt_num *list = target;
            size_t *count = &a->heap_count;   /* the one list option */
            if (*count >= MAX_HEAP_ADDRS) {
                fprintf(stderr, "heapview: at most %d --%s options\n", MAX_HEAP_ADDRS, o->name);
                return EXIT_USAGE;
            }
            if (parse_num(value, &list[*count]) < 0) {
                fprintf(stderr, "heapview: option '--%s' wants an address, not '%s'\n", o->name, value);
                return EXIT_USAGE;
            }
            (*count)++;
            break;
        }
        }
    }
    if (a->help)
        return 0;
    if (a->file_count < cmd->min_files || a->file_count > cmd->max_files) {
        fprintf(stderr, "usage: heapview %s %s\n", cmd->name, cmd->usage);
        return EXIT_USAGE;
    }
    return 0;
}

void opts_help(FILE *f, const struct command *cmd)
{
    fprintf(f, "usage: heapview %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (const struct opt *o = cmd->opts; o->name; o++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}
