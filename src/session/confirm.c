/* confirm.c — the winner's confirmation. A search sees each configuration's times once, at
 * whatever moment it ran: a clock that drifted, or a neighbour on the machine, can make a
 * slower one look fastest. So at the end the few fastest are timed again, side by side in
 * rounds, and the winner is chosen on those times alone. */
#include "session_impl.h"
#include "../measure.h"

#include <math.h>
#include <stdlib.h>

/* Rounds of launches: 5 of 5 give each configuration 25 launches spread over the whole
 * confirmation, enough for a tight interval, at the cost of a few configurations' worth of
 * measuring. */
enum { CONFIRM_ROUNDS = 5, CONFIRM_LAUNCHES = 5, CONFIRM_DEFAULT = 5, CONFIRM_MOST = 16 };

/* The `want` fastest measured configurations by the search's times, fastest first. */
static size_t fastest(const cutune_session *s, size_t *out, size_t want)
{
    size_t n = 0;
    for (size_t i = 0; i < s->dom.n; i++) {
        const record *r = &s->rec[i];
        if (!r->done || isnan(r->time_ms))
            continue;
        size_t k = n < want ? n++ : want;
        if (k == want && !(r->time_ms < s->rec[out[want - 1]].time_ms))
            continue; /* no faster than the slowest kept */
        if (k == want)
            k--;
        for (; k > 0 && s->rec[out[k - 1]].time_ms > r->time_ms; k--)
            out[k] = out[k - 1];
        out[k] = i;
    }
    return n;
}

int ct_session_confirm(cutune_session *s, size_t *winner)
{
    *winner = CT_NONE;
    int want = s->opt.confirm == 0 ? CONFIRM_DEFAULT : s->opt.confirm;
    if (want < 2 || !s->ops->retime || !s->has_device || s->measured_elsewhere ||
        s->objective_metric || s->higher_is_better)
        return CUTUNE_OK;
    if (want > CONFIRM_MOST)
        want = CONFIRM_MOST;
    for (size_t i = 0; i < s->dom.n; i++) /* (an earlier run's confirmation is over) */
        s->rec[i].confirmed_n = 0;
    size_t top[CONFIRM_MOST];
    size_t n = fastest(s, top, (size_t)want);
    if (n < 2)
        return CUTUNE_OK;
    ct_retimed *got = calloc(n, sizeof *got);
    if (!got)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int st = s->ops->retime(s, s->ctx, top, n, CONFIRM_ROUNDS, CONFIRM_LAUNCHES, got);
    for (size_t k = 0; !st && k < n; k++) {
        record *r = &s->rec[top[k]];
        r->confirmed_n = got[k].n ? got[k].n : -1;
        if (!got[k].n) { /* it ran in the search and not now: not a winner to trust */
            free(r->message);
            r->message = ct_strdup(got[k].message);
            continue;
        }
        ct_median_interval(got[k].times_ms, got[k].n, &r->confirmed_ms, &r->confirmed_lo_ms,
                           &r->confirmed_hi_ms);
        if (*winner == CT_NONE || r->confirmed_ms < s->rec[*winner].confirmed_ms)
            *winner = top[k];
    }
    for (size_t k = 0; !st && k < n; k++)
        st = ct_session_checkpoint(s, top[k]);
    free(got);
    return st;
}
