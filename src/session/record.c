/* record.c — what a session keeps of each configuration: a measured one's times (mean,
 * median, spread), a failed one's reason, whether any is measured yet, Kernel Tuner's
 * failure names, and the counts. */
#include "session_impl.h"
#include "../measure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* `failure`: a literal (Kernel Tuner's name). A message that cannot be kept is dropped. */
void ct_session_fail_record(record *r, const char *failure, const char *message)
{
    r->time_ms = NAN;
    r->failure = failure;
    free(r->message);
    r->message = ct_strdup(message ? message : "");
}

/* The times of a measured configuration: mean, standard deviation, and the median with its
 * 95% interval. */
int ct_session_keep_times(cutune_session *s, record *r, const double *times, int n)
{
    if (!(r->times_ms = malloc((size_t)(n > 0 ? n : 1) * sizeof *r->times_ms)))
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    double sum = 0, sq = 0;
    r->n = n > CUTUNE_MAX_TIMED_LAUNCHES ? CUTUNE_MAX_TIMED_LAUNCHES : n;
    for (int k = 0; k < r->n; k++)
        sum += r->times_ms[k] = times[k];
    r->time_ms = r->n ? sum / r->n : NAN;
    for (int k = 0; k < r->n; k++)
        sq += (r->times_ms[k] - r->time_ms) * (r->times_ms[k] - r->time_ms);
    r->std_ms = r->n > 1 ? sqrt(sq / (r->n - 1)) : 0;
    ct_median_interval(r->times_ms, r->n, &r->median_ms, &r->lo_ms, &r->hi_ms);
    if (!(r->time_ms >= s->best_ms))
        s->best_ms = r->time_ms;
    return CUTUNE_OK;
}

int ct_session_not_started(const cutune_session *s, const char *call, const char *what)
{
    for (size_t i = 0; i < s->dom.n; i++)
        if (s->rec[i].done)
            return ct_fail(CUTUNE_EINVAL, "%s: this session has measured already; %s before "
                           "its first run", call, what);
    return CUTUNE_OK;
}

/* Kernel Tuner's failure names, as the literals records keep. */
const char *ct_session_failure_literal(const char *name)
{
    static const char *const names[] = {"CompilationFailedConfig", "RuntimeFailedConfig",
                                        "VerificationFailedConfig", "TimeoutConfig",
                                        "InvalidConfig"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strcmp(name, names[k]) == 0)
            return names[k];
    return names[1];
}

void ct_session_add_stats(cutune_session_stats *to, const cutune_session_stats *d, int sign)
{
    to->compiled += (uint64_t)sign * d->compiled;
    to->from_cache += (uint64_t)sign * d->from_cache;
    to->compile_failed += (uint64_t)sign * d->compile_failed;
    to->pruned_after_compile += (uint64_t)sign * d->pruned_after_compile;
    to->measured += (uint64_t)sign * d->measured;
    to->runtime_failed += (uint64_t)sign * d->runtime_failed;
    to->verification_failed += (uint64_t)sign * d->verification_failed;
    to->timeouts += (uint64_t)sign * d->timeouts;
    to->compile_s += sign * d->compile_s;
    to->run_s += sign * d->run_s;
    to->pruned_saved_s += sign * d->pruned_saved_s;
    to->timed_launches += (uint64_t)sign * d->timed_launches;
    to->raced += (uint64_t)sign * d->raced;
    to->raced_saved += (uint64_t)sign * d->raced_saved;
    to->throttled += (uint64_t)sign * d->throttled;
    to->throttle_retried += (uint64_t)sign * d->throttle_retried;
    to->compile_waits += (uint64_t)sign * d->compile_waits;
    to->compile_wait_s += sign * d->compile_wait_s;
    to->compile_helpers_lost += (uint64_t)sign * d->compile_helpers_lost;
}
