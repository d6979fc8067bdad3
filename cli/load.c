/*
 * load.c - from file names to decoded heaps: open each dump with the source
 * its bytes call for (ELF core, Intel HEX, else raw), read the firmware ELF
 * into memory, snapshot, discover, decode.  Errors are one line naming the
 * file and the reason.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "source/hv_sources.h"
#include "source/source_live.h"

static int is_elf_executable(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char id[20];
    size_t n = fread(id, 1, sizeof id, f);
    fclose(f);
    if (n < sizeof id || memcmp(id, "\177ELF", 4) != 0)
        return 0;
    unsigned type = id[5] == 2 ? (unsigned)(id[16] << 8 | id[17]) : (unsigned)(id[17] << 8 | id[16]);
    return type == 2 /* ET_EXEC */ || type == 3 /* ET_DYN */;
}

size_t split_inputs(const struct cli_args *a, const char **dumps, const char **elf_path)
{
    size_t n = a->file_count;
    *elf_path = NULL;
    if (n >= 2 && is_elf_executable(a->files[n - 1])) {
        *elf_path = a->files[n - 1];
        n--;
    } else if (n == 1 && is_elf_executable(a->files[0])) {
        *elf_path = a->files[0];   /* an ELF alone: reported as "no dump" later */
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        dumps[i] = a->files[i];
    return n;
}

static int fail(const char *path, const char *reason)
{
    fprintf(stderr, "heapview: cannot read '%s': %s\n", path, reason);
    return EXIT_USAGE;
}

/* "dump.bin@0x20000000": a raw image with its own base. */
static int split_at(const char *spec, char *path, size_t len, struct opt_num *base)
{
    struct stat st;
    snprintf(path, len, "%s", spec);
    if (stat(spec, &st) == 0)
        return 0;
    char *at = strrchr(path, '@');
    if (!at)
        return 0;
    struct opt_num n = { 0 };
    if (parse_num(at + 1, &n) < 0)
        return 0;
    *at = '\0';
    *base = n;
    return 0;
}

static struct hv_source *open_dump(const char *spec, const struct cli_args *a, const struct session *s)
{
    char path[4096], err[256];
    struct opt_num base = a->base;
    split_at(spec, path, sizeof path, &base);
    void *data;
    size_t len;
    if (hv_file_map(path, &data, &len, err, sizeof err) < 0) {
        fail(path, err);
        return NULL;
    }
    int core = hv_elf_sniff_core(data, len);
    int hex = core < 0 && hv_ihex_sniff(data, len);
    hv_file_unmap(data, len);
    struct hv_source *src;
    if (core == 1) {
        src = hv_elfcore_open(path, err, sizeof err);
    } else if (core == 0) {
        snprintf(err, sizeof err, "an ELF executable, not a memory dump (give the dumps first, the ELF last)");
        src = NULL;
    } else if (hex) {
        src = hv_ihex_open(path, err, sizeof err);
    } else {
        if (!base.set && s->has_elf && s->elf.has_writable) {
            base.value = s->elf.lowest_writable;
            base.set = 1;
        }
        if (!base.set) {
            snprintf(err, sizeof err, "a raw image needs a base address: give --base ADDR, "
                                      "FILE@ADDR or the firmware ELF");
            src = NULL;
        } else {
            src = hv_raw_open(path, base.value, err, sizeof err);
        }
    }
    if (!src)
        fail(path, err);
    return src;
}

static int load_elf(struct session *s, const char *path)
{
    char err[256];
    if (hv_file_map(path, &s->elf_image, &s->elf_len, err, sizeof err) < 0)
        return fail(path, err);
    if (hv_elf_parse(&s->elf, s->elf_image, s->elf_len, err, sizeof err) < 0)
        return fail(path, err);
    s->has_elf = 1;
    s->elf_path = path;
    return 0;
}

size_t session_problem_count(const struct session *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->heap_count; i++)
        n += s->heaps[i].problem_count;
    return n;
}

/* Discovery and decoding over s->src; the snapshot starts empty. */
static int decode_all(struct session *s, const struct cli_args *a, const char *elf_path)
{
    hv_snapshot_init(&s->snap, s->src);
    hv_namer_init(&s->namer, s->has_elf ? &s->elf : NULL, &s->snap);
    s->dopts.owner_name = hv_namer_name;
    s->dopts.owner_ctx = &s->namer;
    s->dopts.upstream_block_size = (unsigned)a->block_size.value;
    /* Nothing in an upstream heap says its block size: DWARF may. */
    if (!a->block_size.set && s->has_elf && (a->upstream || hv_elf_lookup(&s->elf, "umm_heap_current"))) {
        uint64_t bs = hv_elf_type_size(&s->elf, "umm_block_t");
        if (!bs)
            bs = hv_elf_type_size(&s->elf, "umm_block");
        if (bs >= 8 && bs <= 4096 && bs % 4 == 0)
            s->dopts.upstream_block_size = (unsigned)bs;
    }
    s->dopts.upstream_poison = a->poison;

    for (size_t i = 0; i < a->heap_count; i++) {
        char name[40];
        snprintf(name, sizeof name, "heap@0x%llx", (unsigned long long)a->heap[i].value);
        if (hv_discovery_add(&s->disc, name, a->upstream ? HV_FORMAT_UPSTREAM : HV_FORMAT_HEAPVIEW,
                             a->heap[i].value) < 0)
            return fail(s->dump_names, "out of memory");
        if (a->upstream) {
            struct hv_heap_ref *r = &s->disc.refs[s->disc.count - 1];
            unsigned bs = a->block_size.set ? (unsigned)a->block_size.value : 8;
            if (!a->heap_size.set) {
                fprintf(stderr, "heapview: --upstream --heap needs --heap-size BYTES\n");
                return EXIT_USAGE;
            }
            r->size = a->heap_size.value;
            r->numblocks = (uint32_t)(a->heap_size.value / bs > UINT32_MAX ? UINT32_MAX : a->heap_size.value / bs);
            r->big_endian = s->has_elf ? s->elf.big_endian : 0;
        }
    }
    if (a->heap_count == 0 &&
        hv_discover(&s->disc, &s->snap, s->has_elf ? &s->elf : NULL, !a->no_scan, a->upstream) < 0)
        return fail(s->dump_names, "out of memory");
    if (s->disc.count == 0) {
        char reason[300];
        if (s->disc.note_count)
            snprintf(reason, sizeof reason, "no heap found: %s", s->disc.notes[0]);
        else if (!s->has_elf)
            snprintf(reason, sizeof reason, "no heap found: no control block in the image "
                                            "(give the firmware ELF or --heap ADDR)");
        else
            snprintf(reason, sizeof reason, "no heap found: '%s' has no umm_heap_list or initialised "
                                            "umm_heap, and no control block is in the image", elf_path);
        return fail(s->dump_names, reason);
    }
    char err[256];
    if (session_decode_refs(s, &s->snap, &s->disc, &s->heaps, err, sizeof err) < 0)
        return fail(s->dump_names, err);
    s->heap_count = s->disc.count;
    return 0;
}

void session_free_heaps(struct hv_heap *heaps, size_t count)
{
    for (size_t i = 0; i < count; i++)
        hv_heap_free(&heaps[i]);
    free(heaps);
}

int session_decode_refs(const struct session *s, struct hv_snapshot *snap, const struct hv_discovery *disc,
                        struct hv_heap **heaps_out, char *err, size_t errlen)
{
    struct hv_heap *heaps = calloc(disc->count ? disc->count : 1, sizeof *heaps);
    if (!heaps) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < disc->count; i++) {
        const struct hv_heap_ref *r = &disc->refs[i];
        int rc;
        if (r->format == HV_FORMAT_UPSTREAM)
            rc = hv_decode_upstream(&heaps[i], snap, r->address, r->size, r->numblocks, r->big_endian, r->name,
                                    &s->dopts, err, errlen);
        else
            rc = hv_decode_heapview(&heaps[i], snap, r->address, r->name, &s->dopts, err, errlen);
        if (rc < 0) {
            session_free_heaps(heaps, i + 1);
            return -1;
        }
    }
    *heaps_out = heaps;
    return 0;
}

static void undecode(struct session *s)
{
    session_free_heaps(s->heaps, s->heap_count);
    s->heaps = NULL;
    s->heap_count = 0;
    hv_discovery_free(&s->disc);
    hv_namer_free(&s->namer);
    hv_snapshot_free(&s->snap);
}

int session_heaps_torn(struct hv_source *src, const struct hv_heap *heaps, size_t count, uint64_t *where)
{
    for (size_t i = 0; i < count; i++) {
        const struct hv_heap *h = &heaps[i];
        size_t len = (size_t)(h->mem.length < 4096 ? h->mem.length : 4096);
        if (len && h->mem.data && hv_source_reread_compare(src, h->address, len, h->mem.data, where) != 0)
            return 1;
    }
    return 0;
}

/* A read of a live target that takes more than a second says how far it
 * got, on stderr when that is a terminal, and wipes the line when done. */
struct read_progress {
    const char *target;
    struct timespec start;
    uint64_t last_done, last_total;
    int shown;
};
static struct read_progress read_progress;

static void progress_show(void *ctx, uint64_t done, uint64_t total)
{
    struct read_progress *p = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* A new read: the previous one ended with done == total. */
    if (done <= p->last_done || total != p->last_total)
        p->start = now;
    p->last_done = done;
    p->last_total = total;
    if (done >= total) {
        if (p->shown)
            fputs("\r\033[K", stderr);
        p->shown = 0;
        return;
    }
    double elapsed = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
    if (elapsed < 1.0)
        return;
    fprintf(stderr, "\rheapview: reading '%s': %llu of %llu KiB", p->target, (unsigned long long)(done / 1024),
            (unsigned long long)(total / 1024));
    p->shown = 1;
}

void session_live_options(const struct cli_args *a, struct hv_live_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->timeout_ms = a->timeout.set ? (int)(a->timeout.value > 600000 ? 600000 : a->timeout.value) : 5000;
    opt->halt_policy = a->no_halt ? HV_HALT_POLICY_NO_HALT : HV_HALT_POLICY_HALT;
    if (isatty(STDERR_FILENO)) {
        read_progress.target = a->gdb_remote ? a->gdb_remote : a->openocd;
        opt->progress = progress_show;
        opt->progress_ctx = &read_progress;
    }
}

static int open_live(struct session *s, const struct cli_args *a)
{
    char err[256];
    struct hv_live_options opt;
    session_live_options(a, &opt);
    const char *target = a->gdb_remote ? a->gdb_remote : a->openocd;
    snprintf(s->dump_names, sizeof s->dump_names, "%s", target);
    s->src = a->gdb_remote ? hv_source_gdb_open(target, &opt, err, sizeof err)
                           : hv_source_openocd_open(target, &opt, err, sizeof err);
    if (!s->src)
        return fail(target, err);
    if (s->src->ops->set_halted && s->src->ops->set_halted(s->src, 1) < 0)
        return fail(target, s->src->error);
    s->live = 1;
    return 0;
}

int session_open(struct session *s, const struct cli_args *a, const char *const *dumps, size_t ndumps,
                 const char *elf_path)
{
    memset(s, 0, sizeof *s);
    int live = a->gdb_remote || a->openocd;
    if (live && (ndumps > 0 || (a->gdb_remote && a->openocd))) {
        fprintf(stderr, "heapview: give memory dumps or one live target, not both\n");
        return EXIT_USAGE;
    }
    if (!live && ndumps == 0) {
        fprintf(stderr, "heapview: no memory dump given%s\n",
                elf_path ? " (only the firmware ELF)" : "");
        return EXIT_USAGE;
    }
    if (elf_path && load_elf(s, elf_path) != 0)
        return EXIT_USAGE;
    if (live) {
        int rc = open_live(s, a);
        if (rc != 0)
            return rc;
    } else {
        struct hv_source *parts[MAX_FILES];
        size_t used = 0;
        for (size_t i = 0; i < ndumps; i++) {
            parts[i] = open_dump(dumps[i], a, s);
            if (!parts[i]) {
                for (size_t j = 0; j < i; j++)
                    hv_source_close(parts[j]);
                return EXIT_USAGE;
            }
            int n = snprintf(s->dump_names + used, sizeof s->dump_names - used, "%s%s", i ? "', '" : "",
                             dumps[i]);
            if (n > 0 && (size_t)n < sizeof s->dump_names - used)
                used += (size_t)n;
        }
        s->src = ndumps == 1 ? parts[0] : hv_multi_source_new("dumps", parts, ndumps);
        if (!s->src)
            return fail(dumps[0], "out of memory");
    }
    int rc = decode_all(s, a, elf_path);
    if (rc == 0 && live && a->no_halt) {
        uint64_t where = 0;
        for (int attempt = 1; attempt < 3 && session_heaps_torn(s->src, s->heaps, s->heap_count, &where); attempt++) {
            undecode(s);
            rc = decode_all(s, a, elf_path);
            if (rc != 0)
                break;
        }
        if (rc == 0 && session_heaps_torn(s->src, s->heaps, s->heap_count, &where))
            fprintf(stderr, "heapview: warning: '%s' changed memory at 0x%llx while it was read; "
                            "the report may mix two moments\n", s->dump_names, (unsigned long long)where);
    }
    if (live) {
        /* Let it run while we render; from now on only the bytes read
         * while it was stopped are used. */
        s->snap.frozen = 1;
        if (s->src->ops->set_halted)
            s->src->ops->set_halted(s->src, 0);
    }
    return rc;
}

void session_close(struct session *s)
{
    undecode(s);
    if (s->src)
        hv_source_close(s->src);
    if (s->has_elf)
        hv_elf_free(&s->elf);
    if (s->elf_image)
        hv_file_unmap(s->elf_image, s->elf_len);
    memset(s, 0, sizeof *s);
}

int session_open_args(struct session *s, const struct cli_args *a)
{
    const char *dumps[MAX_FILES], *elf;
    size_t n = split_inputs(a, dumps, &elf);
    int rc = session_open(s, a, dumps, n, elf);
    if (rc != 0)
        session_close(s);
    return rc;
}
