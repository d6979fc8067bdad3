/*
 * umm_config.h - build-time options, all set with -D.  Upstream umm_malloc's
 * option names keep their meaning.
 *
 *   UMM_BEST_FIT / UMM_FIRST_FIT   fit policy (default best fit, see below)
 *   UMM_FIT_SCAN_LIMIT             free blocks best fit examines in the
 *                                  request's own size class (default 8)
 *   UMM_TOP_BYTES                  malloc/calloc requests this large are
 *                                  cut from the top of a free block
 *                                  (default 2048)
 *   UMM_SLIDE_BYTES                realloc slides a shrinking block down
 *                                  into a free predecessor when that makes
 *                                  a hole this large (default 1152)
 *   UMM_INIT_IF_UNINITIALIZED      1 (default): the first call on a heap
 *                                  whose handle names a region initialises it
 *   UMM_HANG_IF_UNINITIALIZED      a call on an uninitialised heap spins
 *                                  forever (catchable with a debugger)
 *   UMM_MALLOC_CFG_HEAP_ADDR/SIZE  region umm_init() gives the default heap
 *   UMM_DEFAULT_HEAP_BYTES         the library reserves this much static
 *                                  storage for the default heap
 *   UMM_BIND_STDLIB                define malloc/free/... (umm_stdlib.c)
 *   UMM_INSTRUMENT                 every diagnostic below at once
 *   UMM_INLINE_METRICS, UMM_INFO   counters and metrics (umm_diag.h)
 *   UMM_INTEGRITY_CHECK            read-only heap checks
 *   UMM_POISON_CHECK               canaries, requested sizes, fill patterns
 *   UMM_OWNERS                     caller and sequence number per allocation
 *   UMM_CHECK_EVERY_OP             full integrity check after every operation
 *   UMM_FILL_CHECK_WINDOW          bytes of free fill verified at each end of
 *                                  a block when it is handed out (default 64;
 *                                  0 verifies all of it)
 */
#ifndef UMM_CONFIG_H
#define UMM_CONFIG_H

#if defined(UMM_BEST_FIT) && defined(UMM_FIRST_FIT)
#error "UMM_BEST_FIT and UMM_FIRST_FIT are exclusive"
#endif
#if !defined(UMM_FIRST_FIT) && !defined(UMM_BEST_FIT)
#define UMM_BEST_FIT
#endif

/*
 * Best fit looks at no more than this many blocks of the request's own size
 * class before taking the head of the next non-empty class: the bound that
 * keeps malloc O(1) whatever the state of the heap.
 */
#ifndef UMM_FIT_SCAN_LIMIT
#define UMM_FIT_SCAN_LIMIT 8
#endif

/*
 * Placement against fragmentation (umm_malloc.c): a malloc or calloc of at
 * least UMM_TOP_BYTES takes the top of the free block it is cut from, a
 * smaller one its bottom; a realloc that shrinks a block above a free
 * predecessor moves it down when that joins at least UMM_SLIDE_BYTES of
 * free space into one hole.  Both are tuned on bench/traces; any value
 * keeps every operation bounded.
 */
#ifndef UMM_TOP_BYTES
#define UMM_TOP_BYTES 2048u
#endif
#ifndef UMM_SLIDE_BYTES
#define UMM_SLIDE_BYTES 1152u
#endif

#ifndef UMM_FILL_CHECK_WINDOW
#define UMM_FILL_CHECK_WINDOW 64
#endif

#ifndef UMM_INIT_IF_UNINITIALIZED
#define UMM_INIT_IF_UNINITIALIZED 1
#endif

#ifdef UMM_INSTRUMENT
#ifndef UMM_INLINE_METRICS
#define UMM_INLINE_METRICS
#endif
#ifndef UMM_INFO
#define UMM_INFO
#endif
#ifndef UMM_INTEGRITY_CHECK
#define UMM_INTEGRITY_CHECK
#endif
#ifndef UMM_POISON_CHECK
#define UMM_POISON_CHECK
#endif
#ifndef UMM_OWNERS
#define UMM_OWNERS
#endif
#endif

/* Metrics are what the report and the checks read. */
#if defined(UMM_INFO) && !defined(UMM_INLINE_METRICS)
#define UMM_INLINE_METRICS
#endif
#if defined(UMM_CHECK_EVERY_OP) && !defined(UMM_INTEGRITY_CHECK)
#define UMM_INTEGRITY_CHECK
#endif

/* Anything that keeps a record in band. */
#if defined(UMM_INLINE_METRICS) || defined(UMM_INTEGRITY_CHECK) || \
    defined(UMM_POISON_CHECK) || defined(UMM_OWNERS)
#define UMM_HAS_RECORD 1
#else
#define UMM_HAS_RECORD 0
#endif
/* Anything that puts a prefix in front of each allocation. */
#if defined(UMM_POISON_CHECK) || defined(UMM_OWNERS)
#define UMM_HAS_PREFIX 1
#else
#define UMM_HAS_PREFIX 0
#endif

#endif /* UMM_CONFIG_H */
