/*
 * cli.h - the heapview front end: parsed arguments, the loaded session
 * (sources -> snapshot -> discovery -> decoded heaps) and the commands.
 * Only this layer prints and chooses exit codes.
 */
#ifndef HV_CLI_H
#define HV_CLI_H

#include <stdio.h>

#include "core/hv_analysis.h"
#include "core/hv_discover.h"
#include "core/hv_elf.h"
#include "core/hv_heap.h"
#include "core/hv_namer.h"
#include "core/hv_snapshot.h"
#include "out.h"
#include "source/hv_source.h"

#define EXIT_HEALTHY  0
#define EXIT_PROBLEMS 1
#define EXIT_USAGE    2

#define MAX_FILES 64
#define MAX_HEAP_ADDRS 16

struct opt_num {
    uint64_t value;
    int set;
    int percent;             /* given as N% */
};

struct cli_args {
    int json;
    int color;               /* enum color_mode */
    int help;
    struct opt_num base;
    struct opt_num heap[MAX_HEAP_ADDRS];
    size_t heap_count;
    struct opt_num heap_size;
    int upstream;
    struct opt_num block_size;
    int poison;
    int no_scan;
    /* live targets (cli/source/source_live.h) */
    const char *gdb_remote;
    const char *openocd;
    int no_halt;
    struct opt_num timeout;
    /* blocks */
    int only_used, only_free;
    /* map */
    const char *svg;
    struct opt_num width, rows;
    int per_block;
    /* top */
    struct opt_num limit;
    /* check */
    struct opt_num max_fragmentation, min_largest_free, max_used;
    const char *junit;
    /* watch */
    struct opt_num interval, count;
    const char *files[MAX_FILES];
    size_t file_count;
};

struct session {
    struct hv_source *src;
    char dump_names[256];    /* the dumps, for messages */
    void *elf_image;
    size_t elf_len;
    const char *elf_path;
    struct hv_elf elf;
    int has_elf;
    struct hv_snapshot snap;
    struct hv_namer namer;
    struct hv_decode_opts dopts;
    struct hv_discovery disc;
    struct hv_heap *heaps;
    size_t heap_count;
    int live;                /* src is a live target */
};

/* Opens dumps[0..ndumps) (with the ELF at elf_path, may be NULL), finds and
 * decodes the heaps.  Prints one error line and returns EXIT_USAGE on
 * failure, else 0. */
int session_open(struct session *s, const struct cli_args *a, const char *const *dumps, size_t ndumps,
                 const char *elf_path);
void session_close(struct session *s);
/* session_open on a->files split by split_inputs; closes on failure. */
int session_open_args(struct session *s, const struct cli_args *a);
/* Splits a->files into dumps and the firmware ELF (the last file when it is
 * an ELF executable).  Returns the number of dumps. */
size_t split_inputs(const struct cli_args *a, const char **dumps, const char **elf_path);
/* Total problems over every heap. */
size_t session_problem_count(const struct session *s);

struct hv_live_options;
/* The live-source options the arguments ask for. */
void session_live_options(const struct cli_args *a, struct hv_live_options *opt);
/* Decodes every heap `disc` found in `snap` with s->dopts into a new array
 * (*heaps_out, disc->count entries); 0, or -1 with a reason in err and
 * nothing allocated. */
int session_decode_refs(const struct session *s, struct hv_snapshot *snap, const struct hv_discovery *disc,
                        struct hv_heap **heaps_out, char *err, size_t errlen);
void session_free_heaps(struct hv_heap *heaps, size_t count);
/* A running target may change while it is read: 1 when the first bytes of
 * any heap (its control area) differ from what was read, with the first
 * differing address in *where. */
int session_heaps_torn(struct hv_source *src, const struct hv_heap *heaps, size_t count, uint64_t *where);

/* Renderers. */
void render_json_document(FILE *f, const struct session *s, int with_blocks);
void render_text_summary(FILE *f, const struct hv_heap *h, int color);
void render_text_problems(FILE *f, const struct hv_heap *h, int color);
void render_text_map(FILE *f, const struct hv_heap *h, size_t width, size_t rows, int color);
/* Cells for the map: width*rows scaled cells, or one per block. *out is
 * allocated (free it); returns the count or -1. */
long map_cells_for(const struct hv_heap *h, int per_block, size_t width, size_t rows, struct hv_map_cell **out);
void render_text_map_cells(FILE *f, const struct hv_heap *h, const struct hv_map_cell *map, long cells,
                           size_t width, int per_block, int color);
int render_svg_map(const char *path, const struct session *s, size_t width, size_t rows, int per_block);
int render_junit(const char *path, const struct session *s, const struct cli_args *a);
/* The owner's name ("func+0x1c (file.c:42)", a tag), or NULL. */
const char *owner_label(const struct session *s, const struct hv_block_info *info);
const char *owner_value_label(const struct session *s, int has_owner, uint64_t owner);
/* "owner" (address or null) and "owner_name" of an owner in a JSON object. */
void json_owner_fields(struct jw *w, uint64_t owner, const char *name);
/* What text output shows for an owner: its name, else its address, else
 * "(unknown owner)"; `buf` holds the address form. */
const char *owner_text(const char *name, uint64_t owner, char *buf, size_t len);

/* Commands: each returns an exit code. */
int cmd_report(const struct cli_args *a);
int cmd_watch(const struct cli_args *a);
/* What `report` prints for an open session; returns its exit status. */
int render_report(FILE *f, const struct session *s, const struct cli_args *a);
int cmd_blocks(const struct cli_args *a);
int cmd_map(const struct cli_args *a);
int cmd_top(const struct cli_args *a);
int cmd_diff(const struct cli_args *a);
int cmd_check(const struct cli_args *a);

/* Gate evaluation shared by `check` and its JUnit report. */
struct gate_result {
    const char *name;
    int pass;
    char detail[320];
};
size_t check_gates(const struct cli_args *a, const struct hv_heap *h, struct gate_result *out, size_t max);

#endif /* HV_CLI_H */
