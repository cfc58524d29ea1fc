/* map.c — the profiles in memory, for cutune_select: liburcu's lock-free hash table, read
 * under RCU. A profile is one immutable allocation, indexed twice: by its whole key (the
 * exact rule) and, with duplicates, by its kernel part (the fallback rules walk those). A
 * writer replaces a profile by publishing a new one and hands the old to call_rcu, so
 * readers never block and never see one half-written. */
#include "store_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-bp.h>
#include <urcu/rculfhash.h>
#include <xxhash.h>

typedef struct ct_prof {
    struct cds_lfht_node by_key, by_kernel;
    struct rcu_head rcu;
    uint64_t key_hash, kernel_hash;
    size_t key_len, kernel_len, params_len, config_len;
    cutune_profile view; /* strings point into data */
    char *key;           /* the canonical key, in data */
    char data[];
} ct_prof;

struct ct_map {
    struct cds_lfht *by_key, *by_kernel;
    pthread_mutex_t write;
};

size_t ct_profile_key(char *buf, const char *kernel, const char *source_hash,
                      const char *user_key, const char *device, const int dev[5],
                      const int64_t problem[3], size_t *kernel_len)
{
    const char *part[3] = {kernel ? kernel : "", source_hash ? source_hash : "",
                           user_key ? user_key : ""};
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        size_t len = strlen(part[k]);
        if (len > CT_NAME_MAX)
            return 0;
        memcpy(buf + n, part[k], len + 1); /* the NUL separates */
        n += len + 1;
    }
    *kernel_len = n;
    size_t len = strlen(device ? device : "");
    if (len > CT_NAME_MAX)
        return 0;
    memcpy(buf + n, device ? device : "", len + 1);
    n += len + 1;
    memcpy(buf + n, dev, 5 * sizeof *dev);
    n += 5 * sizeof *dev;
    for (int d = 0; d < 3; d++) {
        int64_t v = problem[d] <= 0 ? 1 : problem[d];
        memcpy(buf + n, &v, sizeof v);
        n += sizeof v;
    }
    return n;
}

int ct_map_new(ct_map **out)
{
    ct_map *m = calloc(1, sizeof *m);
    if (!m)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int flags = CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING;
    m->by_key = cds_lfht_new_flavor(1024, 1024, 0, flags, &urcu_bp_flavor, NULL);
    m->by_kernel = cds_lfht_new_flavor(256, 256, 0, flags, &urcu_bp_flavor, NULL);
    if (!m->by_key || !m->by_kernel) {
        if (m->by_key)
            cds_lfht_destroy(m->by_key, NULL);
        if (m->by_kernel)
            cds_lfht_destroy(m->by_kernel, NULL);
        free(m);
        return ct_fail(CUTUNE_ENOMEM, "out of memory for the profile map");
    }
    pthread_mutex_init(&m->write, NULL);
    *out = m;
    return CUTUNE_OK;
}

static void free_prof(struct rcu_head *head)
{
    free(caa_container_of(head, ct_prof, rcu));
}

void ct_map_free(ct_map *m)
{
    if (!m)
        return;
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;
    urcu_bp_read_lock();
    cds_lfht_for_each(m->by_key, &it, node) {
        ct_prof *p = caa_container_of(node, ct_prof, by_key);
        cds_lfht_del(m->by_key, &p->by_key);
        cds_lfht_del(m->by_kernel, &p->by_kernel);
        urcu_bp_call_rcu(&p->rcu, free_prof);
    }
    urcu_bp_read_unlock();
    urcu_bp_barrier(); /* every profile freed before the tables go */
    cds_lfht_destroy(m->by_key, NULL);
    cds_lfht_destroy(m->by_kernel, NULL);
    pthread_mutex_destroy(&m->write);
    free(m);
}

/* cds_lfht match functions: the key, or its kernel part, byte for byte. */
typedef struct probe {
    const char *bytes;
    size_t len;
} probe;

static int match_key(struct cds_lfht_node *node, const void *arg)
{
    const ct_prof *p = caa_container_of(node, ct_prof, by_key);
    const probe *k = arg;
    return p->key_len == k->len && memcmp(p->key, k->bytes, k->len) == 0;
}

static int match_kernel(struct cds_lfht_node *node, const void *arg)
{
    const ct_prof *p = caa_container_of(node, ct_prof, by_kernel);
    const probe *k = arg;
    return p->kernel_len == k->len && memcmp(p->key, k->bytes, k->len) == 0;
}

/* Appends a string to the profile's data. */
static const char *put_str(char **at, const char *s, size_t *len)
{
    size_t n = strlen(s ? s : "");
    char *dst = *at;
    memcpy(dst, s ? s : "", n + 1);
    *at += n + 1;
    if (len)
        *len = n;
    return dst;
}

int ct_map_publish(ct_map *m, const cutune_profile *v)
{
    char key[CT_KEY_MAX];
    int dev[5] = {v->cc_major, v->cc_minor, v->sm_count, v->driver_version, v->runtime_version};
    size_t kernel_len, key_len = ct_profile_key(key, v->kernel, v->source_hash, v->user_key,
                                                v->device, dev, v->problem, &kernel_len);
    if (!key_len)
        return ct_fail(CUTUNE_EINVAL, "a name of the profile is over %d bytes", CT_NAME_MAX);
    const char *strs[] = {v->device, v->kernel, v->source_hash, v->user_key,
                          v->params, v->config, v->strategy};
    size_t bytes = sizeof(ct_prof) + key_len;
    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
        bytes += strlen(strs[k] ? strs[k] : "") + 1;
    ct_prof *p = malloc(bytes);
    if (!p)
        return ct_fail(CUTUNE_ENOMEM, "out of memory for a profile");
    memset(p, 0, sizeof *p);
    p->view = *v;
    char *at = p->data;
    p->key = at;
    memcpy(at, key, key_len);
    at += key_len;
    p->key_len = key_len;
    p->kernel_len = kernel_len;
    p->view.device = put_str(&at, v->device, NULL);
    p->view.kernel = put_str(&at, v->kernel, NULL);
    p->view.source_hash = put_str(&at, v->source_hash, NULL);
    p->view.user_key = put_str(&at, v->user_key, NULL);
    p->view.params = put_str(&at, v->params, &p->params_len);
    p->view.config = put_str(&at, v->config, &p->config_len);
    p->view.strategy = put_str(&at, v->strategy, NULL);
    for (int d = 0; d < 3; d++)
        p->view.problem[d] = v->problem[d] <= 0 ? 1 : v->problem[d];
    p->key_hash = XXH3_64bits(key, key_len);
    p->kernel_hash = XXH3_64bits(key, kernel_len);
    cds_lfht_node_init(&p->by_key);
    cds_lfht_node_init(&p->by_kernel);

    pthread_mutex_lock(&m->write);
    urcu_bp_read_lock();
    /* the kernel index first: a reader walking it may see both, never neither */
    cds_lfht_add(m->by_kernel, p->kernel_hash, &p->by_kernel);
    struct cds_lfht_node *old = cds_lfht_add_replace(m->by_key, p->key_hash, match_key,
                                                     &(probe){key, key_len}, &p->by_key);
    if (old) {
        ct_prof *o = caa_container_of(old, ct_prof, by_key);
        cds_lfht_del(m->by_kernel, &o->by_kernel);
        urcu_bp_call_rcu(&o->rcu, free_prof);
    }
    urcu_bp_read_unlock();
    pthread_mutex_unlock(&m->write);
    return CUTUNE_OK;
}

void ct_map_remove(ct_map *m, int64_t id)
{
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;
    pthread_mutex_lock(&m->write);
    urcu_bp_read_lock();
    cds_lfht_for_each(m->by_key, &it, node) {
        ct_prof *p = caa_container_of(node, ct_prof, by_key);
        if (p->view.id == id && cds_lfht_del(m->by_key, &p->by_key) == 0) {
            cds_lfht_del(m->by_kernel, &p->by_kernel);
            urcu_bp_call_rcu(&p->rcu, free_prof);
        }
    }
    urcu_bp_read_unlock();
    pthread_mutex_unlock(&m->write);
}

size_t ct_map_size(ct_map *m)
{
    long before, after;
    unsigned long count;
    urcu_bp_read_lock();
    cds_lfht_count_nodes(m->by_key, &before, &count, &after);
    urcu_bp_read_unlock();
    return count;
}

/* How far apart two problem sizes are: the sum over dimensions of |log ratio|. */
static double size_distance(const int64_t a[3], const int64_t b[3])
{
    double d = 0;
    for (int k = 0; k < 3; k++)
        d += fabs(log((double)a[k] / (double)b[k]));
    return d;
}

/* How unlike the asking device a profile's is, lexicographically: another GPU model, another
 * compute capability, another major version, the difference in SMs. 0: the same GPU. */
static double device_distance(const cutune_device_info *d, const cutune_profile *p)
{
    if (strcmp(d->name, p->device) == 0 && d->cc_major == p->cc_major &&
        d->cc_minor == p->cc_minor && d->sm_count == p->sm_count)
        return 0;
    double far = strcmp(d->name, p->device) != 0 ? 1e9 : 0;
    far += d->cc_major != p->cc_major ? 1e7 : 0;
    far += d->cc_major != p->cc_major || d->cc_minor != p->cc_minor ? 1e5 : 0;
    return far + 1 + abs(d->sm_count - p->sm_count);
}

static void copy_out(const ct_prof *p, cutune_select_rule rule, cutune_selection *out)
{
    out->rule = rule;
    out->profile = p->view.id;
    out->time_ms = p->view.time_ms;
    memcpy(out->problem, p->view.problem, sizeof out->problem);
    size_t n = p->params_len < sizeof out->params ? p->params_len : sizeof out->params - 1;
    memcpy(out->params, p->view.params, n);
    out->params[n] = '\0';
    n = p->config_len < sizeof out->config ? p->config_len : sizeof out->config - 1;
    memcpy(out->config, p->view.config, n);
    out->config[n] = '\0';
}

int ct_map_select(ct_map *m, const cutune_device_info *device, const cutune_kernel_id *kernel,
                  const int64_t problem[3], cutune_selection *out)
{
    char key[CT_KEY_MAX];
    int dev[5] = {device->cc_major, device->cc_minor, device->sm_count, device->driver_version,
                  device->runtime_version};
    size_t kernel_len, key_len = ct_profile_key(key, kernel->name, kernel->source_hash,
                                                kernel->user_key, device->name, dev, problem,
                                                &kernel_len);
    if (!key_len)
        return ct_fail(CUTUNE_EINVAL, "cutune_select: a name is over %d bytes", CT_NAME_MAX);
    struct cds_lfht_iter it;
    urcu_bp_read_lock();
    cds_lfht_lookup(m->by_key, XXH3_64bits(key, key_len), match_key, &(probe){key, key_len},
                    &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    if (node) {
        copy_out(caa_container_of(node, ct_prof, by_key), CUTUNE_SELECT_EXACT, out);
        urcu_bp_read_unlock();
        return CUTUNE_OK;
    }
    /* every profile of this kernel: the same GPU at the nearest size, else the most similar
     * GPU (at its nearest size) */
    int64_t want[3];
    for (int d = 0; d < 3; d++)
        want[d] = problem[d] <= 0 ? 1 : problem[d];
    const ct_prof *best = NULL;
    double best_dev = INFINITY, best_size = INFINITY;
    cds_lfht_lookup(m->by_kernel, XXH3_64bits(key, kernel_len), match_kernel,
                    &(probe){key, kernel_len}, &it);
    for (node = cds_lfht_iter_get_node(&it); node;
         cds_lfht_next_duplicate(m->by_kernel, match_kernel, &(probe){key, kernel_len}, &it),
        node = cds_lfht_iter_get_node(&it)) {
        const ct_prof *p = caa_container_of(node, ct_prof, by_kernel);
        double dd = device_distance(device, &p->view), ds = size_distance(want, p->view.problem);
        if (dd < best_dev || (dd == best_dev && ds < best_size)) {
            best = p;
            best_dev = dd;
            best_size = ds;
        }
    }
    if (best)
        copy_out(best, best_dev == 0 ? CUTUNE_SELECT_NEAREST_SIZE : CUTUNE_SELECT_SIMILAR_DEVICE,
                 out);
    urcu_bp_read_unlock();
    if (!best) {
        memset(out, 0, sizeof *out);
        out->rule = CUTUNE_SELECT_DEFAULT;
        out->time_ms = NAN;
        memcpy(out->problem, want, sizeof want);
    }
    return CUTUNE_OK;
}
