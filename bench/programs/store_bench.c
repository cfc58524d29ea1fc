/* store_bench.c — `make bench-store`: how fast applications can ask the profile store for a
 * configuration. A database of 100,000 profiles (100 kernels x 2 GPUs x 500 problem sizes)
 * is opened (timed), then reader threads look up existing profiles while one writer keeps
 * updating random ones, in the same run: through a cutune_selector (the key prepared but
 * for the problem size, as an application holds it; each thread remembers its answers until
 * the map changes), through cutune_select (the key made and the lock-free map walked on
 * every call), the same prepared keys in a hash map behind a pthread rwlock, and one SQLite
 * query per lookup. Two workloads: "hot", every reader asking
 * for the same 16 profiles (an application's kernels and sizes), and "cold", each reader
 * asking for 4096 profiles drawn at random from all 100,000 (the table does not fit in the
 * caches: most lookups miss them). Latencies are timed one lookup at a time with the TSC
 * (the timer's own cost, measured, is included); throughput comes from untimed loops.
 * Prints one JSON line.
 * usage: store_bench [DB_DIR] (default /tmp) */
#define _GNU_SOURCE
#ifndef CUTUNE_SANITIZED
#define _LGPL_SOURCE /* as map.c */
#endif
#include "cutune.h"
#include "store/store_impl.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu-bp.h>

extern int urcu_bp_has_sys_membarrier; /* liburcu's: 1 when readers need no barriers */
#include <x86intrin.h>
#include <xxhash.h>

#define KERNELS 100
#define GPUS 2
#define SIZES 500
#define PROFILES (KERNELS * GPUS * SIZES)
#define COLD_KEYS 4096 /* per reader, at random */
#define HOT_KEYS 16     /* shared by the readers */
#define TIMED_PER_THREAD 200000
#define RUN_SECONDS 0.4
#define MAX_THREADS 16

/* The TSC, fenced so that the lookup between two reads is what is timed. */
static double ns_per_tick;

static inline uint64_t ticks(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

static void calibrate(void)
{
    double t0 = cutune_now();
    uint64_t c0 = ticks();
    while (cutune_now() - t0 < 0.2)
        ;
    ns_per_tick = (cutune_now() - t0) * 1e9 / (double)(ticks() - c0);
}

/* ------------------------------------------------------------------- workload ---- */

static cutune_device_info gpus[GPUS];
static char kernel_names[KERNELS][32];

static void key_of(size_t i, int *kernel, int *gpu, int64_t problem[3])
{
    *kernel = (int)(i / (GPUS * SIZES));
    *gpu = (int)(i / SIZES % GPUS);
    problem[0] = 256 + 64 * (int64_t)(i % SIZES);
    problem[1] = 1024;
    problem[2] = 1;
}

/* The database, written directly in one transaction (cutune_store_put would take one each). */
static int make_db(const char *path)
{
    unlink(path);
    cutune_store *s;
    if (cutune_store_open(&s, path, 0)) /* the schema */
        return -1;
    cutune_store_free(s);
    sqlite3 *h;
    sqlite3_stmt *q;
    if (sqlite3_open(path, &h) != SQLITE_OK)
        return -1;
    sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(h, "INSERT INTO profiles (device, cc_major, cc_minor, sm_count, driver, "
                       "runtime, kernel, source_hash, user_key, p0, p1, p2, params, config, "
                       "time_ms, median_ms, std_ms, strategy, budget, evaluations, session, "
                       "updated, rev) VALUES (?, ?, ?, ?, ?, ?, ?, '', 'float', ?, ?, ?, "
                       "'block_size_x,block_size_y,tile_size_x,tile_size_y,use_shmem', "
                       "?, ?, ?, 0.001, 'bo', 100, 100, NULL, 0, ?)",
                       -1, &q, NULL);
    for (size_t i = 0; i < PROFILES; i++) {
        int k, g;
        int64_t p[3];
        key_of(i, &k, &g, p);
        char config[64];
        snprintf(config, sizeof config, "%d,%d,1,%d,1", 32 << (i % 3), 1 << (i % 4),
                 1 + (int)(i % 5));
        sqlite3_bind_text(q, 1, gpus[g].name, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 2, gpus[g].cc_major);
        sqlite3_bind_int(q, 3, gpus[g].cc_minor);
        sqlite3_bind_int(q, 4, gpus[g].sm_count);
        sqlite3_bind_int(q, 5, gpus[g].driver_version);
        sqlite3_bind_int(q, 6, gpus[g].runtime_version);
        sqlite3_bind_text(q, 7, kernel_names[k], -1, SQLITE_STATIC);
        for (int d = 0; d < 3; d++)
            sqlite3_bind_int64(q, 8 + d, p[d]);
        sqlite3_bind_text(q, 11, config, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(q, 12, 0.1 + (double)(i % 97) / 100);
        sqlite3_bind_double(q, 13, 0.1 + (double)(i % 97) / 100);
        sqlite3_bind_int64(q, 14, (int64_t)i + 1);
        if (sqlite3_step(q) != SQLITE_DONE)
            return -1;
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    int rc = sqlite3_exec(h, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ------------------------------------------------------- the rwlock hash map ---- */

typedef struct rw_entry {
    char key[CT_KEY_MAX];
    size_t key_len;
    char config[64], params[96];
    double time_ms;
    struct rw_entry *next;
} rw_entry;

#define RW_BUCKETS (1u << 18)
static rw_entry **rw_table;
static pthread_rwlock_t rw_lock = PTHREAD_RWLOCK_INITIALIZER;

/* Keys prepared as a selector prepares them: per kernel and GPU, all but the size. */
static struct {
    char key[CT_KEY_MAX];
    size_t len;
    uint64_t prefix_hash;
} rw_prefix[KERNELS * GPUS];

static size_t canonical(size_t i, char *key)
{
    int k, g;
    int64_t p[3];
    key_of(i, &k, &g, p);
    int dev[5] = {gpus[g].cc_major, gpus[g].cc_minor, gpus[g].sm_count,
                  gpus[g].driver_version, gpus[g].runtime_version};
    size_t kernel_len;
    return ct_profile_key(key, kernel_names[k], "", "float", gpus[g].name, dev, p,
                          &kernel_len);
}

static void rw_fill(void)
{
    rw_table = calloc(RW_BUCKETS, sizeof *rw_table);
    for (size_t i = 0; i < PROFILES; i++) {
        rw_entry *e = calloc(1, sizeof *e);
        e->key_len = canonical(i, e->key);
        snprintf(e->config, sizeof e->config, "%d,%d,1,%d,1", 32 << (i % 3), 1 << (i % 4),
                 1 + (int)(i % 5));
        snprintf(e->params, sizeof e->params,
                 "block_size_x,block_size_y,tile_size_x,tile_size_y,use_shmem");
        e->time_ms = 0.1 + (double)(i % 97) / 100;
        size_t b = ct_key_hash(e->key, e->key_len, ct_key_prefix_hash(e->key, e->key_len)) &
                   (RW_BUCKETS - 1);
        int k, g;
        int64_t p[3];
        key_of(i, &k, &g, p);
        memcpy(rw_prefix[k * GPUS + g].key, e->key, e->key_len);
        rw_prefix[k * GPUS + g].len = e->key_len;
        rw_prefix[k * GPUS + g].prefix_hash = ct_key_prefix_hash(e->key, e->key_len);
        e->next = rw_table[b];
        rw_table[b] = e;
    }
}

/* The same work as a selector's exact hit: the key, its hash, the entry, a copy out. */
static int rw_select(int kernel, int gpu, const int64_t problem[3], cutune_selection *out)
{
    char key[CT_KEY_MAX];
    const size_t len = rw_prefix[kernel * GPUS + gpu].len, head = len - sizeof(int64_t[3]);
    memcpy(key, rw_prefix[kernel * GPUS + gpu].key, head);
    memcpy(key + head, problem, sizeof(int64_t[3]));
    size_t b = ct_key_hash(key, len, rw_prefix[kernel * GPUS + gpu].prefix_hash) &
               (RW_BUCKETS - 1);
    int found = 0;
    pthread_rwlock_rdlock(&rw_lock);
    for (rw_entry *e = rw_table[b]; e; e = e->next)
        if (e->key_len == len && memcmp(e->key, key, len) == 0) {
            out->rule = CUTUNE_SELECT_EXACT;
            out->time_ms = e->time_ms;
            memcpy(out->config, e->config, strlen(e->config) + 1);
            memcpy(out->params, e->params, strlen(e->params) + 1);
            found = 1;
            break;
        }
    pthread_rwlock_unlock(&rw_lock);
    return found;
}

/* --------------------------------------------------------------- the readers ---- */

enum { LOCKFREE, LOCKFREE_SELECT, RWLOCK, SQLITE, LOCKFREE_COLD, KINDS };
static const char *const kind_names[KINDS] = {"lockfree", "lockfree_select", "rwlock",
                                              "sqlite", "lockfree_cold"};
static size_t hot_keys[HOT_KEYS];

typedef struct reader {
    int kind;
    cutune_store *store;
    const char *db_path;
    unsigned seed;
    uint32_t *lat;   /* TIMED_PER_THREAD latencies, ns */
    uint64_t count;  /* lookups in the untimed run */
    int misses;
    pthread_barrier_t *start;
    atomic_int *stop;
} reader;

static const char sqlite_lookup[] =
    "SELECT config, params, time_ms FROM profiles WHERE device = ? AND cc_major = ? AND "
    "cc_minor = ? AND sm_count = ? AND driver = ? AND runtime = ? AND kernel = ? AND "
    "source_hash = '' AND user_key = 'float' AND p0 = ? AND p1 = ? AND p2 = ?";

static int sqlite_select(sqlite3_stmt *q, const cutune_device_info *d, const char *kernel,
                         const int64_t p[3], cutune_selection *out)
{
    sqlite3_bind_text(q, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, d->cc_major);
    sqlite3_bind_int(q, 3, d->cc_minor);
    sqlite3_bind_int(q, 4, d->sm_count);
    sqlite3_bind_int(q, 5, d->driver_version);
    sqlite3_bind_int(q, 6, d->runtime_version);
    sqlite3_bind_text(q, 7, kernel, -1, SQLITE_STATIC);
    for (int k = 0; k < 3; k++)
        sqlite3_bind_int64(q, 8 + k, p[k]);
    int found = sqlite3_step(q) == SQLITE_ROW;
    if (found) {
        snprintf(out->config, sizeof out->config, "%s", sqlite3_column_text(q, 0));
        snprintf(out->params, sizeof out->params, "%s", sqlite3_column_text(q, 1));
        out->time_ms = sqlite3_column_double(q, 2);
    }
    sqlite3_reset(q);
    return found;
}

static void *read_loop(void *arg)
{
    reader *r = arg;
    size_t cold[COLD_KEYS], *keys = r->kind == LOCKFREE_COLD ? cold : hot_keys;
    size_t nkeys = r->kind == LOCKFREE_COLD ? COLD_KEYS : HOT_KEYS;
    for (size_t k = 0; k < COLD_KEYS; k++)
        cold[k] = (size_t)rand_r(&r->seed) % PROFILES;
    static __thread cutune_selector *selectors[KERNELS * GPUS]; /* as the application keeps */
    for (int k = 0; k < KERNELS * GPUS; k++) {
        cutune_kernel_id kid = {kernel_names[k / GPUS], "", "float"};
        if (cutune_selector_new(&selectors[k], r->store, &gpus[k % GPUS], &kid))
            fprintf(stderr, "store_bench: %s\n", cutune_last_error());
    }
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    if (r->kind == SQLITE) {
        sqlite3_open_v2(r->db_path, &h, SQLITE_OPEN_READONLY, NULL);
        sqlite3_prepare_v2(h, sqlite_lookup, -1, &q, NULL);
    }
    cutune_selection sel;
    int misses = 0;
    pthread_barrier_wait(r->start);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t n = 0;
        for (;;) {
            size_t i = keys[n % nkeys];
            int kn, g;
            int64_t p[3];
            key_of(i, &kn, &g, p);
            cutune_kernel_id kid = {kernel_names[kn], "", "float"};
            uint64_t t0 = pass == 0 ? ticks() : 0;
            int hit;
            switch (r->kind) {
            case LOCKFREE:
            case LOCKFREE_COLD:
                cutune_selector_get(selectors[kn * GPUS + g], p, &sel);
                hit = sel.rule == CUTUNE_SELECT_EXACT;
                break;
            case LOCKFREE_SELECT:
                hit = cutune_select(r->store, &gpus[g], &kid, p, &sel) == CUTUNE_OK &&
                      sel.rule == CUTUNE_SELECT_EXACT;
                break;
            case RWLOCK:
                hit = rw_select(kn, g, p, &sel);
                break;
            default:
                hit = sqlite_select(q, &gpus[g], kernel_names[kn], p, &sel);
            }
            misses += !hit;
            if (pass == 0) {
                r->lat[n] = (uint32_t)((double)(ticks() - t0) * ns_per_tick);
                if (++n == TIMED_PER_THREAD)
                    break;
            } else {
                ++n;
                if ((n & 255) == 0 && atomic_load_explicit(r->stop, memory_order_relaxed))
                    break;
            }
        }
        if (pass == 1)
            r->count = n;
        else
            pthread_barrier_wait(r->start); /* everyone starts the untimed run together */
    }
    r->misses = misses;
    for (int k = 0; k < KERNELS * GPUS; k++)
        cutune_selector_free(selectors[k]);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return NULL;
}

/* The writer: one update after another, each a profile's time going up or down. */
typedef struct writer {
    int kind;
    cutune_store *store;
    atomic_int *stop;
    uint64_t updates;
} writer;

static void *write_loop(void *arg)
{
    writer *w = arg;
    unsigned seed = 7;
    while (!atomic_load(w->stop)) {
        size_t i = (size_t)rand_r(&seed) % PROFILES;
        double ms = 0.05 + (double)(rand_r(&seed) % 1000) / 1000;
        if (w->kind == RWLOCK) {
            char key[CT_KEY_MAX];
            size_t len = canonical(i, key);
            size_t b = ct_key_hash(key, len, ct_key_prefix_hash(key, len)) & (RW_BUCKETS - 1);
            pthread_rwlock_wrlock(&rw_lock);
            for (rw_entry *e = rw_table[b]; e; e = e->next)
                if (e->key_len == len && memcmp(e->key, key, len) == 0) {
                    e->time_ms = ms;
                    snprintf(e->config, sizeof e->config, "%d,2,1,1,1", 32 << (i % 3));
                }
            pthread_rwlock_unlock(&rw_lock);
            usleep(50); /* about the pace of the store's writes */
        } else {
            int k, g;
            int64_t p[3];
            key_of(i, &k, &g, p);
            cutune_profile pr = {
                .device = gpus[g].name, .cc_major = gpus[g].cc_major,
                .cc_minor = gpus[g].cc_minor, .sm_count = gpus[g].sm_count,
                .driver_version = gpus[g].driver_version,
                .runtime_version = gpus[g].runtime_version, .kernel = kernel_names[k],
                .source_hash = "", .user_key = "float", .problem = {p[0], p[1], p[2]},
                .params = "block_size_x,block_size_y,tile_size_x,tile_size_y,use_shmem",
                .config = "64,2,1,1,1", .time_ms = ms, .median_ms = ms, .std_ms = 0,
                .strategy = "bo", .budget = 100};
            if (cutune_store_put(w->store, &pr))
                fprintf(stderr, "store_bench: put: %s\n", cutune_last_error());
        }
        w->updates++;
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double p50, p99, per_s, writes_per_s;
    int misses;
} result;

static result run(int kind, int threads, cutune_store *store, const char *db_path)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    atomic_int stop_readers = 0, stop_writer = 0;
    reader rs[MAX_THREADS];
    pthread_t t[MAX_THREADS], wt;
    writer w = {.kind = kind == RWLOCK ? RWLOCK : LOCKFREE, .store = store,
                .stop = &stop_writer};
    pthread_create(&wt, NULL, write_loop, &w);
    for (int k = 0; k < threads; k++) {
        rs[k] = (reader){.kind = kind, .store = store, .db_path = db_path,
                         .seed = 1234u + (unsigned)k, .start = &start, .stop = &stop_readers,
                         .lat = malloc(TIMED_PER_THREAD * sizeof(uint32_t))};
        pthread_create(&t[k], NULL, read_loop, &rs[k]);
    }
    pthread_barrier_wait(&start); /* timed pass */
    pthread_barrier_wait(&start); /* untimed pass */
    uint64_t w0 = w.updates;
    double t0 = cutune_now();
    usleep((useconds_t)(RUN_SECONDS * 1e6));
    atomic_store(&stop_readers, 1);
    for (int k = 0; k < threads; k++)
        pthread_join(t[k], NULL);
    double seconds = cutune_now() - t0;
    uint64_t writes = w.updates - w0;
    atomic_store(&stop_writer, 1);
    pthread_join(wt, NULL);
    size_t total = (size_t)threads * TIMED_PER_THREAD;
    uint32_t *all = malloc(total * sizeof *all);
    result r = {0};
    uint64_t lookups = 0;
    for (int k = 0; k < threads; k++) {
        memcpy(all + (size_t)k * TIMED_PER_THREAD, rs[k].lat, TIMED_PER_THREAD * sizeof *all);
        lookups += rs[k].count;
        r.misses += rs[k].misses;
        free(rs[k].lat);
    }
    qsort(all, total, sizeof *all, cmp_u32);
    r.p50 = all[total / 2];
    r.p99 = all[total * 99 / 100];
    r.per_s = lookups / seconds;
    r.writes_per_s = writes / seconds;
    free(all);
    pthread_barrier_destroy(&start);
    return r;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char db[4096];
    snprintf(db, sizeof db, "%s/cutune-store-bench.db", dir);
    gpus[0] = (cutune_device_info){.cc_major = 9, .cc_minor = 0, .sm_count = 132,
                                   .driver_version = 13000, .runtime_version = 13000};
    snprintf(gpus[0].name, sizeof gpus[0].name, "NVIDIA H100 80GB HBM3");
    gpus[1] = (cutune_device_info){.cc_major = 8, .cc_minor = 0, .sm_count = 108,
                                   .driver_version = 13000, .runtime_version = 13000};
    snprintf(gpus[1].name, sizeof gpus[1].name, "NVIDIA A100-SXM4-80GB");
    for (int k = 0; k < KERNELS; k++)
        snprintf(kernel_names[k], sizeof kernel_names[k], "kernel_%03d", k);
    if (make_db(db)) {
        fprintf(stderr, "store_bench: cannot build %s\n", db);
        return 1;
    }
    /* opening: best of 3 (the first also warms the page cache) */
    double open_ms = INFINITY;
    cutune_store *store = NULL;
    for (int k = 0; k < 3; k++) {
        cutune_store_free(store);
        double t0 = cutune_now();
        if (cutune_store_open(&store, db, 0)) {
            fprintf(stderr, "store_bench: %s\n", cutune_last_error());
            return 1;
        }
        double ms = (cutune_now() - t0) * 1e3;
        open_ms = ms < open_ms ? ms : open_ms;
    }
    rw_fill();
    calibrate();
    unsigned seed = 99;
    for (int k = 0; k < HOT_KEYS; k++)
        hot_keys[k] = (size_t)rand_r(&seed) % PROFILES;
    /* the timer's own cost */
    uint32_t gaps[10000];
    for (int k = 0; k < 10000; k++) {
        uint64_t a = ticks();
        gaps[k] = (uint32_t)((double)(ticks() - a) * ns_per_tick);
    }
    qsort(gaps, 10000, sizeof *gaps, cmp_u32);
    /* what an RCU read section costs here: without the kernel's membarrier, liburcu's
     * readers pay two full memory barriers */
    uint64_t c0 = ticks();
    for (int k = 0; k < 1000000; k++) {
        urcu_bp_read_lock();
        urcu_bp_read_unlock();
    }
    double rcu_ns = (double)(ticks() - c0) * ns_per_tick / 1e6;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* the headline: as many readers as cores are left beside the writer */
    int headline = 1;
    static const int counts[] = {1, 2, 4, 8, 16};
    for (int c = 0; c < 5; c++)
        if (counts[c] <= cores - 1)
            headline = counts[c];
    printf("{\"profiles\": %d, \"cores\": %ld, \"open_100k_ms\": %.1f, \"timer_overhead_ns\": %u, "
           "\"rcu_read_section_ns\": %.1f, \"sys_membarrier\": %d, \"headline_threads\": %d",
           PROFILES, cores, open_ms, gaps[5000], rcu_ns, urcu_bp_has_sys_membarrier, headline);
    result at_headline[KINDS];
    char table[16384];
    size_t len = 0;
    for (int c = 0; c < 5; c++) {
        len += (size_t)snprintf(table + len, sizeof table - len, "%s{\"threads\": %d", c ? ", " : "",
                                counts[c]);
        for (int kind = 0; kind < KINDS; kind++) {
            result r = run(kind, counts[c], store, db);
            if (r.misses)
                fprintf(stderr, "store_bench: %s missed %d lookups\n", kind_names[kind],
                        r.misses);
            if (counts[c] == headline)
                at_headline[kind] = r;
            len += (size_t)snprintf(table + len, sizeof table - len,
                                    ", \"%s\": {\"p50_ns\": %.0f, \"p99_ns\": %.0f, "
                                    "\"lookups_per_s\": %.0f, \"writes_per_s\": %.0f}",
                                    kind_names[kind], r.p50, r.p99, r.per_s, r.writes_per_s);
        }
        len += (size_t)snprintf(table + len, sizeof table - len, "}");
    }
    for (int kind = 0; kind < KINDS; kind++)
        printf(", \"%s_p50_ns\": %.0f, \"%s_p99_ns\": %.0f, \"%s_lookups_per_s_per_core\": %.0f",
               kind_names[kind], at_headline[kind].p50, kind_names[kind], at_headline[kind].p99,
               kind_names[kind], at_headline[kind].per_s / headline);
    printf(", \"by_threads\": [%s]}\n", table);
    cutune_store_free(store);
    if (!getenv("KEEP_DB"))
        unlink(db);
    return 0;
}
