/*
 * replay.c - replays an allocation trace (bench/traces/README.md) against
 * the heapview allocator or against the C library's malloc, checks every
 * block's contents while it does, and measures what `make bench` reports.
 *
 *   replay [options] TRACE
 *     --backend umm|libc   allocator to drive (default umm)
 *     --heap BYTES         heap size for umm (default: the trace's `heap`)
 *     --cycles N           time every operation over N replays (rdtsc)
 *     --min-heap           binary-search the smallest heap with no failure
 *     --callgrind          only meaningful under valgrind: the allocator
 *                          calls go through bench_op_* (see below)
 *     --diag               (BENCH_DIAG builds) heap checks while replaying
 *
 * Output is one `key value` pair per line so scripts can read it.
 *
 * Every allocation is filled with a token derived from its trace ID; the
 * token is checked before realloc and free (and the preserved prefix after
 * a moving realloc), so a block that overlaps another or loses its contents
 * stops the replay with exit status 3.
 */
#define _GNU_SOURCE /* memalign */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#else
#define BENCH_HAVE_TSC 0
#endif

#ifndef BENCH_NO_UMM
#include "umm_malloc.h"
#endif
/*
 * BENCH_DIAG (with an allocator built -DUMM_INSTRUMENT): every
 * DIAG_EVERY operations and at the end the allocator checks its own heap,
 * and at the end its metrics must agree with the replayer's model (live
 * allocations, requested bytes).  For tests, not for measurements.
 */
#ifdef BENCH_DIAG
#include "umm_diag.h"
#define DIAG_EVERY 1000u
#endif

/* Largest heap the replayer can hand the allocator (static storage). */
#define HEAP_MAX_BYTES (4u * 1024u * 1024u)
/* Bounds on trace values, so a hostile trace cannot make us allocate wildly. */
#define TRACE_MAX_ID 50000000u
/* Heap sizes above the smallest one found that are tried once more. */
#define MIN_HEAP_PROBES 64u
#define TRACE_MAX_SIZE (1ul << 30)

enum op_kind { OP_MALLOC, OP_CALLOC, OP_MEMALIGN, OP_REALLOC, OP_FREE, OP_KINDS };

static const char *const op_names[OP_KINDS] = { "malloc", "calloc", "memalign", "realloc", "free" };
static const char op_letters[OP_KINDS] = { 'm', 'c', 'a', 'r', 'f' };

struct op {
    uint32_t id;
    uint32_t line;   /* line number in the trace file */
    uint8_t kind;    /* enum op_kind */
    size_t arg;      /* calloc count, memalign alignment, else 0 */
    size_t size;     /* bytes (per element for calloc) */
};

struct trace {
    const char *path;
    size_t heap_bytes;
    struct op *ops;
    size_t op_count;
    uint32_t max_id;
};

struct backend {
    const char *name;
    int (*init)(size_t heap_bytes);       /* 0 on success */
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t count, size_t size);
    void *(*memalign_fn)(size_t align, size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
    int owns_heap;                        /* init() starts from an empty heap */
};

/* ---- backends ---------------------------------------------------------- */

#ifndef BENCH_NO_UMM
static _Alignas(64) unsigned char heap_storage[HEAP_MAX_BYTES];
static umm_heap bench_heap;

static int umm_backend_init(size_t heap_bytes)
{
    if (heap_bytes > sizeof heap_storage)
        return -1;
    memset(&bench_heap, 0, sizeof bench_heap);
    umm_multi_init_heap(&bench_heap, heap_storage, heap_bytes);
    return 0;
}
static void *umm_backend_malloc(size_t size) { return umm_multi_malloc(&bench_heap, size); }
static void *umm_backend_calloc(size_t count, size_t size) { return umm_multi_calloc(&bench_heap, count, size); }
static void *umm_backend_memalign(size_t align, size_t size) { return umm_multi_memalign(&bench_heap, align, size); }
static void *umm_backend_realloc(void *ptr, size_t size) { return umm_multi_realloc(&bench_heap, ptr, size); }
static void umm_backend_free(void *ptr) { umm_multi_free(&bench_heap, ptr); }

static const struct backend umm_backend = {
    "umm", umm_backend_init, umm_backend_malloc, umm_backend_calloc,
    umm_backend_memalign, umm_backend_realloc, umm_backend_free, 1,
};
#endif

static int libc_backend_init(size_t heap_bytes)
{
    (void)heap_bytes; /* the C library's heap grows on demand */
    return 0;
}
static void *libc_backend_memalign(size_t align, size_t size) { return memalign(align, size); }

static const struct backend libc_backend = {
    "libc", libc_backend_init, malloc, calloc, libc_backend_memalign, realloc, free, 0,
};

static const struct backend *backend;

/*
 * The only functions callgrind counts (`--toggle-collect=bench_op_*`): one
 * per operation, never nested in each other, so the count is the
 * allocator's instructions plus the call and argument set-up a real caller
 * pays too.  noinline keeps them visible as functions.
 */
#define BENCH_OP __attribute__((noinline, noclone))
BENCH_OP static void *bench_op_malloc(size_t size) { return backend->malloc_fn(size); }
BENCH_OP static void *bench_op_calloc(size_t count, size_t size) { return backend->calloc_fn(count, size); }
BENCH_OP static void *bench_op_memalign(size_t align, size_t size) { return backend->memalign_fn(align, size); }
BENCH_OP static void *bench_op_realloc(void *ptr, size_t size) { return backend->realloc_fn(ptr, size); }
BENCH_OP static void bench_op_free(void *ptr) { backend->free_fn(ptr); }

/* ---- trace parsing ------------------------------------------------------- */

static void die_read(const char *path, const char *reason)
{
    fprintf(stderr, "replay: cannot read '%s': %s\n", path, reason);
    exit(2);
}

static void die_line(const struct trace *t, size_t line, const char *reason)
{
    fprintf(stderr, "replay: cannot read '%s': line %zu: %s\n", t->path, line, reason);
    exit(2);
}

/* Parses an unsigned decimal at *p, skipping blanks first. */
static int parse_number(const char **p, unsigned long long max, unsigned long long *out)
{
    const char *s = *p;
    unsigned long long v = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        unsigned digit = (unsigned)(*s - '0');
        if (v > (max - digit) / 10)
            return -1;
        v = v * 10 + digit;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static int rest_is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return *s == '\0' || *s == '#';
}

static void trace_load(struct trace *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die_read(path, strerror(errno));
    t->path = path;
    t->heap_bytes = 0;
    t->ops = NULL;
    t->op_count = 0;
    t->max_id = 0;
    size_t cap = 0;
    char buf[256];
    size_t line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n')
            die_line(t, line, "line too long");
        buf[strcspn(buf, "\r\n")] = '\0';
        const char *s = buf;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        unsigned long long v[3] = { 0, 0, 0 };
        if (strncmp(s, "heap", 4) == 0 && (s[4] == ' ' || s[4] == '\t')) {
            const char *p = s + 4;
            if (t->heap_bytes || t->op_count)
                die_line(t, line, "'heap' must come once, before the operations");
            if (parse_number(&p, HEAP_MAX_BYTES, &v[0]) || v[0] == 0 || !rest_is_blank(p))
                die_line(t, line, "bad heap size");
            t->heap_bytes = (size_t)v[0];
            continue;
        }
        const char *kinds = strchr("mcarf", *s);
        if (!kinds || *s == '\0' || (s[1] != ' ' && s[1] != '\t'))
            die_line(t, line, "unknown operation");
        struct op op;
        memset(&op, 0, sizeof op);
        switch (*s) {
        case 'm': op.kind = OP_MALLOC; break;
        case 'c': op.kind = OP_CALLOC; break;
        case 'a': op.kind = OP_MEMALIGN; break;
        case 'r': op.kind = OP_REALLOC; break;
        default:  op.kind = OP_FREE; break;
        }
        const char *p = s + 1;
        int nargs = op.kind == OP_FREE ? 1 : (op.kind == OP_CALLOC || op.kind == OP_MEMALIGN) ? 3 : 2;
        for (int i = 0; i < nargs; i++) {
            unsigned long long max = i == 0 ? TRACE_MAX_ID : TRACE_MAX_SIZE;
            if (parse_number(&p, max, &v[i]))
                die_line(t, line, i == 0 ? "bad or missing ID" : "bad or missing size");
        }
        if (!rest_is_blank(p))
            die_line(t, line, "trailing characters");
        if (v[0] == 0)
            die_line(t, line, "IDs start at 1");
        op.id = (uint32_t)v[0];
        op.line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
        if (op.kind == OP_CALLOC || op.kind == OP_MEMALIGN) {
            op.arg = (size_t)v[1];
            op.size = (size_t)v[2];
            if (op.kind == OP_MEMALIGN && (op.arg == 0 || (op.arg & (op.arg - 1)) != 0))
                die_line(t, line, "alignment is not a power of two");
            if (op.kind == OP_CALLOC && op.arg != 0 && op.size > TRACE_MAX_SIZE / op.arg)
                die_line(t, line, "calloc size too large");
        } else {
            op.size = (size_t)v[1];
        }
        if (t->op_count == cap) {
            cap = cap ? cap * 2 : 4096;
            struct op *grown = realloc(t->ops, cap * sizeof *grown);
            if (!grown)
                die_read(path, "out of memory");
            t->ops = grown;
        }
        t->ops[t->op_count++] = op;
        if (op.id > t->max_id)
            t->max_id = op.id;
    }
    if (ferror(f))
        die_read(path, strerror(errno));
    fclose(f);
    if (t->op_count == 0)
        die_read(path, "no operations");
}

/* ---- block contents ----------------------------------------------------- */

/* A per-ID 64-bit token (splitmix64), repeated over the whole block. */
static uint64_t token_for(uint32_t id)
{
    uint64_t z = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void token_fill(unsigned char *p, size_t bytes, uint32_t id)
{
    uint64_t tok = token_for(id);
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8)
        memcpy(p + i, &tok, 8);
    if (i < bytes)
        memcpy(p + i, &tok, bytes - i);
}

/* Offset of the first byte that differs from the token, or `bytes`. */
static size_t token_check(const unsigned char *p, size_t bytes, uint32_t id)
{
    uint64_t tok = token_for(id);
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8)
        if (memcmp(p + i, &tok, 8) != 0)
            break;
    for (size_t j = 0; i < bytes; i++, j++)
        if (p[i] != ((const unsigned char *)&tok)[j % 8])
            return i;
    return bytes;
}

/* ---- replay ---------------------------------------------------------------- */

struct slot {
    unsigned char *ptr;
    size_t size;
};

struct replay {
    const struct trace *trace;
    struct slot *slots;        /* indexed by ID */
    uint64_t *min_cycles;      /* per op, when timing */
    size_t *freed_bytes;       /* per op, when timing: size of the block a free released */
    int timing;
    uint64_t failures;
    uint64_t fail_by_kind[OP_KINDS];
};

static void integrity_fail(const struct replay *r, const struct op *op, uint32_t id,
                           const char *what, size_t offset)
{
    fprintf(stderr, "replay: integrity error in '%s' at line %" PRIu32 " (%s of ID %" PRIu32
            "): %s at byte %zu of ID %" PRIu32 "\n",
            r->trace->path, op->line, op_names[op->kind], op->id, what, offset, id);
    exit(3);
}

static void verify_slot(const struct replay *r, const struct op *op, uint32_t id, size_t bytes)
{
    const struct slot *s = &r->slots[id];
    size_t bad = token_check(s->ptr, bytes, id);
    if (bad != bytes)
        integrity_fail(r, op, id, "block contents changed", bad);
}

#if BENCH_HAVE_TSC
static inline uint64_t tsc_now(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}
#else
static inline uint64_t tsc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Runs one allocator call, timed when r->timing. */
static void *run_call(struct replay *r, size_t index, const struct op *op, void *old)
{
    uint64_t t0 = 0;
    void *p = NULL;
    if (r->timing)
        t0 = tsc_now();
    switch (op->kind) {
    case OP_MALLOC:   p = bench_op_malloc(op->size); break;
    case OP_CALLOC:   p = bench_op_calloc(op->arg, op->size); break;
    case OP_MEMALIGN: p = bench_op_memalign(op->arg, op->size); break;
    case OP_REALLOC:  p = bench_op_realloc(old, op->size); break;
    default:          bench_op_free(old); break;
    }
    if (r->timing) {
        uint64_t dt = tsc_now() - t0;
        if (dt < r->min_cycles[index])
            r->min_cycles[index] = dt;
    }
    return p;
}

#ifdef BENCH_DIAG
static int diag_enabled;

static void diag_fail(const struct replay *r, size_t index, const char *what)
{
    struct umm_fault fault;
    fprintf(stderr, "replay: allocator self-check failed in '%s' after line %" PRIu32 ": %s",
            r->trace->path, r->trace->ops[index].line, what);
    if (umm_multi_last_fault(&bench_heap, &fault))
        fprintf(stderr, " (fault kind %u, block %" PRIu32 ")", fault.kind, fault.block);
    fprintf(stderr, "\n");
    exit(3);
}

/* The allocator's own checks; at the end also its metrics against the model. */
static void diag_check(const struct replay *r, size_t index, int at_end)
{
    if (!umm_multi_integrity_check(&bench_heap))
        diag_fail(r, index, "integrity check");
    if (!umm_multi_poison_check(&bench_heap))
        diag_fail(r, index, "poison check");
    if (!at_end)
        return;
    struct umm_heap_info info;
    if (!umm_multi_info(&bench_heap, &info))
        diag_fail(r, index, "no heap info");
    size_t live = 0, requested = 0;
    for (uint32_t id = 0; id <= r->trace->max_id; id++) {
        if (r->slots[id].ptr) {
            live++;
            requested += r->slots[id].size;
        }
    }
    if (info.corruption_count != 0 || info.bad_free_count != 0) {
        fprintf(stderr, "replay: allocator found %" PRIu32 " corruptions and %" PRIu32
                " bad frees replaying '%s'\n", info.corruption_count, info.bad_free_count,
                r->trace->path);
        exit(3);
    }
    if (info.used_entries != live || info.requested_bytes != requested) {
        fprintf(stderr, "replay: allocator metrics disagree with the trace in '%s': %zu allocations"
                " of %zu bytes live, heap reports %zu of %zu bytes\n",
                r->trace->path, live, requested, info.used_entries, info.requested_bytes);
        exit(3);
    }
}
#endif

/* One pass over the trace; returns 0, or exits on an integrity error. */
static void replay_once(struct replay *r)
{
    const struct trace *t = r->trace;
    r->failures = 0;
    memset(r->fail_by_kind, 0, sizeof r->fail_by_kind);
    memset(r->slots, 0, ((size_t)t->max_id + 1) * sizeof *r->slots);
    for (size_t i = 0; i < t->op_count; i++) {
        const struct op *op = &t->ops[i];
        struct slot *s = &r->slots[op->id];
#ifdef BENCH_DIAG
        if (diag_enabled && i % DIAG_EVERY == 0)
            diag_check(r, i, 0);
#endif
        if (op->kind == OP_FREE) {
            if (s->ptr)
                verify_slot(r, op, op->id, s->size);
            if (r->freed_bytes)
                r->freed_bytes[i] = s->size;
            run_call(r, i, op, s->ptr);
            s->ptr = NULL;
            s->size = 0;
            continue;
        }
        if (op->kind != OP_REALLOC && s->ptr) {
            fprintf(stderr, "replay: cannot read '%s': line %" PRIu32 ": ID %" PRIu32
                    " allocated while still live\n", t->path, op->line, op->id);
            exit(2);
        }
        size_t bytes = op->kind == OP_CALLOC ? op->arg * op->size : op->size;
        size_t old_size = s->size;
        if (op->kind == OP_REALLOC && s->ptr)
            verify_slot(r, op, op->id, old_size);
        unsigned char *p = run_call(r, i, op, s->ptr);
        if (!p) {
            if (bytes != 0) {
                r->failures++;
                r->fail_by_kind[op->kind]++;
            } else if (op->kind == OP_REALLOC) {
                s->ptr = NULL; /* realloc(p, 0) freed the block */
                s->size = 0;
            }
            continue; /* a failed realloc keeps the old block */
        }
        if (op->kind == OP_MEMALIGN && ((uintptr_t)p & (op->arg - 1)) != 0)
            integrity_fail(r, op, op->id, "memalign result misaligned", (size_t)((uintptr_t)p & (op->arg - 1)));
        if (op->kind == OP_CALLOC) {
            for (size_t k = 0; k < bytes; k++)
                if (p[k] != 0)
                    integrity_fail(r, op, op->id, "calloc block not zeroed", k);
        }
        s->ptr = p;
        if (op->kind == OP_REALLOC && old_size) {
            size_t kept = old_size < bytes ? old_size : bytes;
            verify_slot(r, op, op->id, kept);
        }
        s->size = bytes;
        token_fill(p, bytes, op->id);
    }
#ifdef BENCH_DIAG
    if (diag_enabled)
        diag_check(r, t->op_count - 1, 1);
#endif
    /* Give a non-resettable heap (libc) its memory back for the next pass. */
    for (uint32_t id = 0; id <= t->max_id; id++) {
        if (r->slots[id].ptr) {
            if (!backend->owns_heap)
                backend->free_fn(r->slots[id].ptr);
            r->slots[id].ptr = NULL;
        }
    }
}

static int backend_start(size_t heap_bytes)
{
    if (backend->init(heap_bytes) != 0) {
        fprintf(stderr, "replay: cannot use a heap of %zu bytes: the replayer holds at most %u\n",
                heap_bytes, HEAP_MAX_BYTES);
        return -1;
    }
    return 0;
}

/* Failures at `heap_bytes`, or -1 if the heap cannot be set up. */
static long long failures_at(struct replay *r, size_t heap_bytes)
{
    if (backend_start(heap_bytes))
        return -1;
    replay_once(r);
    return (long long)r->failures;
}

/* Least cost of reading the clock twice, subtracted from every timing. */
static uint64_t timer_overhead(void)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 10000; i++) {
        uint64_t t0 = tsc_now();
        uint64_t dt = tsc_now() - t0;
        if (dt < best)
            best = dt;
    }
    return best;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: replay [--backend umm|libc] [--heap BYTES] [--cycles N] [--min-heap]\n"
            "              [--callgrind] [--diag] TRACE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *backend_name = "umm";
    const char *path = NULL;
    unsigned long long heap_opt = 0, cycles_runs = 0;
    int want_min_heap = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--backend") == 0 && i + 1 < argc) {
            backend_name = argv[++i];
        } else if (strcmp(a, "--heap") == 0 && i + 1 < argc) {
            const char *p = argv[++i];
            if (parse_number(&p, HEAP_MAX_BYTES, &heap_opt) || *p || heap_opt == 0) {
                fprintf(stderr, "replay: bad heap size '%s' (1..%u)\n", argv[i], HEAP_MAX_BYTES);
                return 2;
            }
        } else if (strcmp(a, "--cycles") == 0 && i + 1 < argc) {
            const char *p = argv[++i];
            if (parse_number(&p, 1000, &cycles_runs) || *p || cycles_runs == 0) {
                fprintf(stderr, "replay: bad replay count '%s' (1..1000)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--min-heap") == 0) {
            want_min_heap = 1;
        } else if (strcmp(a, "--diag") == 0) {
#ifdef BENCH_DIAG
            diag_enabled = 1;
#else
            fprintf(stderr, "replay: --diag needs a build with BENCH_DIAG and UMM_INSTRUMENT\n");
            return 2;
#endif
        } else if (strcmp(a, "--callgrind") == 0) {
            /* bench_op_* are always the call sites; the flag documents intent */
        } else if (a[0] == '-' || path) {
            usage();
        } else {
            path = a;
        }
    }
    if (!path)
        usage();
    if (strcmp(backend_name, "libc") == 0) {
        backend = &libc_backend;
#ifndef BENCH_NO_UMM
    } else if (strcmp(backend_name, "umm") == 0) {
        backend = &umm_backend;
#endif
    } else {
        fprintf(stderr, "replay: unknown backend '%s'\n", backend_name);
        return 2;
    }

#ifdef BENCH_DIAG
    if (diag_enabled && !backend->owns_heap) {
        fprintf(stderr, "replay: --diag checks the umm backend only\n");
        return 2;
    }
#endif
    struct trace t;
    trace_load(&t, path);
    size_t heap_bytes = heap_opt ? (size_t)heap_opt : t.heap_bytes;
    if (heap_bytes == 0 && backend->owns_heap) {
        fprintf(stderr, "replay: cannot read '%s': no 'heap' line and no --heap\n", path);
        return 2;
    }

    struct replay r;
    memset(&r, 0, sizeof r);
    r.trace = &t;
    r.slots = calloc((size_t)t.max_id + 1, sizeof *r.slots);
    if (!r.slots) {
        fprintf(stderr, "replay: out of memory\n");
        return 2;
    }

    printf("trace %s\nbackend %s\nheap_bytes %zu\nops %zu\n", path, backend->name, heap_bytes, t.op_count);
    long long fails = failures_at(&r, heap_bytes);
    if (fails < 0)
        return 2;
    printf("failures %lld\n", fails);
    for (int k = 0; k < OP_KINDS; k++)
        if (k != OP_FREE)
            printf("failures_%s %" PRIu64 "\n", op_names[k], r.fail_by_kind[k]);
    printf("integrity ok\n");

    if (cycles_runs) {
        r.min_cycles = malloc(t.op_count * sizeof *r.min_cycles);
        r.freed_bytes = calloc(t.op_count, sizeof *r.freed_bytes);
        if (!r.min_cycles || !r.freed_bytes) {
            fprintf(stderr, "replay: out of memory\n");
            return 2;
        }
        for (size_t i = 0; i < t.op_count; i++)
            r.min_cycles[i] = UINT64_MAX;
        uint64_t overhead = timer_overhead();
        r.timing = 1;
        for (unsigned long long run = 0; run < cycles_runs; run++) {
            if (backend_start(heap_bytes))
                return 2;
            replay_once(&r);
        }
        r.timing = 0;
        uint64_t worst = 0;
        size_t worst_index = 0;
        double sum = 0;
        for (size_t i = 0; i < t.op_count; i++) {
            uint64_t c = r.min_cycles[i] > overhead ? r.min_cycles[i] - overhead : 0;
            sum += (double)c;
            if (c > worst) {
                worst = c;
                worst_index = i;
            }
        }
        const struct op *w = &t.ops[worst_index];
        printf("cycles_unit %s\n", BENCH_HAVE_TSC ? "tsc" : "ns");
        printf("cycles_runs %llu\ncycles_timer_overhead %" PRIu64 "\n", cycles_runs, overhead);
        printf("cycles_mean %.1f\ncycles_worst %" PRIu64 "\n", sum / (double)t.op_count, worst);
        printf("cycles_worst_line %" PRIu32 "\ncycles_worst_op %c %s ID %" PRIu32 " size %zu",
               w->line, op_letters[w->kind], op_names[w->kind], w->id,
               w->kind == OP_CALLOC ? w->arg * w->size
               : w->kind == OP_FREE ? r.freed_bytes[worst_index] : w->size);
        if (w->kind == OP_MEMALIGN)
            printf(" align %zu", w->arg);
        printf("\n");
    }

    if (want_min_heap) {
        if (!backend->owns_heap) {
            printf("min_heap n/a\n");
        } else {
            /* Invariant: `lo` fails (or is 0), `hi` runs clean.  Multiples of 8. */
            size_t lo = 0, hi = heap_bytes & ~(size_t)7;
            if (hi == 0)
                hi = 8;
            long long f;
            while ((f = failures_at(&r, hi)) != 0) {
                if (f < 0 || hi >= HEAP_MAX_BYTES) {
                    hi = 0;
                    break;
                }
                lo = hi;
                hi = hi * 2 > HEAP_MAX_BYTES ? HEAP_MAX_BYTES : hi * 2;
            }
            if (hi == 0) {
                printf("min_heap none\n");
            } else {
                while (hi - lo > 8) {
                    size_t mid = (lo + (hi - lo) / 2) & ~(size_t)7;
                    if (mid <= lo)
                        mid = lo + 8;
                    if (failures_at(&r, mid) == 0)
                        hi = mid;
                    else
                        lo = mid;
                }
                printf("min_heap %zu\n", hi);
                /* Failures need not fall monotonically as the heap grows
                 * (the layout changes with it): say how often the sizes
                 * just above the result still fail. */
                unsigned probe_fail = 0;
                for (unsigned k = 1; k <= MIN_HEAP_PROBES; k++) {
                    size_t h = hi + 8u * k;
                    if (h <= HEAP_MAX_BYTES && failures_at(&r, h) != 0)
                        probe_fail++;
                }
                printf("min_heap_probe_failing %u/%u\n", probe_fail, MIN_HEAP_PROBES);
            }
        }
    }
    free(r.min_cycles);
    free(r.freed_bytes);
    free(r.slots);
    free(t.ops);
    return 0;
}
