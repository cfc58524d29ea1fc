/* verify.c — what a session checks each configuration's outputs against: the
 * default configuration's outputs, nothing, or answers (given in memory, read from files, or
 * the spec's ReferenceArguments), each output with its pass test; the decision, the worker's
 * share of it, and the sentence that tells the user. */
#include "session_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct_session_verify_init(cutune_session *s, const char *spec)
{
    if (spec && !(s->spec_path = ct_strdup(spec)))
        return CUTUNE_ENOMEM;
    if (!s->kernel)
        return CUTUNE_OK;
    size_t n = cutune_kernel_num_args(s->kernel), m = n ? n : 1;
    s->check = calloc(m, sizeof *s->check);
    s->tol_set = calloc(m, sizeof *s->tol_set);
    s->user_ref = calloc(m, sizeof *s->user_ref);
    s->ref_source = calloc(m, sizeof *s->ref_source);
    s->spec_ref = calloc(m, sizeof *s->spec_ref);
    if (!s->check || !s->tol_set || !s->user_ref || !s->ref_source || !s->spec_ref)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        s->check[i] = ct_check_of_arg(cutune_kernel_arg_at(s->kernel, i));
    return CUTUNE_OK;
}

void ct_session_verify_free(cutune_session *s)
{
    for (size_t i = 0; s->user_ref && i < cutune_kernel_num_args(s->kernel); i++) {
        free(s->user_ref[i]);
        free(s->ref_source[i]);
    }
    free(s->user_ref);
    free(s->ref_source);
    free(s->check);
    free(s->tol_set);
    free(s->spec_ref);
    free(s->spec_path);
}

const cutune_kernel *cutune_session_kernel(const cutune_session *s)
{
    return s ? s->kernel : NULL;
}

/* Whether anything was measured: what is compared is settled before that. */
static int started(const cutune_session *s, const char *call)
{
    return ct_session_not_started(s, call, "what it compares is set");
}

/* The output argument `name`: its index, or a failure naming what it is not. */
static int find_output(const cutune_session *s, const char *name, size_t *index)
{
    size_t n = cutune_kernel_num_args(s->kernel);
    for (size_t i = 0; i < n; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
        if (strcmp(a->name, name) != 0)
            continue;
        if (!a->output || a->scalar)
            return ct_fail(CUTUNE_EINVAL, "argument '%s' is not an output (only arguments "
                           "with \"Output\": 1 are compared)", name);
        *index = i;
        return CUTUNE_OK;
    }
    return ct_fail(CUTUNE_ENOTFOUND, "the kernel has no argument '%s'", name);
}

/* The answer of output i (data is taken over); `source`: where it came from, or NULL;
 * `spec`: from the spec's ReferenceArguments. */
static int keep_answer(cutune_session *s, size_t i, void *data, const char *source, int spec)
{
    char *copy = source ? ct_strdup(source) : NULL;
    if (source && !copy) {
        free(data);
        return CUTUNE_ENOMEM;
    }
    free(s->user_ref[i]);
    free(s->ref_source[i]);
    s->user_ref[i] = data;
    s->ref_source[i] = copy;
    s->spec_ref[i] = (uint8_t)spec;
    s->verify_mode = 0; /* decided again before the run */
    return CUTUNE_OK;
}

/* Whether output i has an answer given (in memory, or a file's: one a session without a
 * worker only names), not the spec's. */
static int answered(const cutune_session *s, size_t i)
{
    return (s->user_ref[i] || s->ref_source[i]) && !s->spec_ref[i];
}

/* What every setter of answers checks first; `named`: a file may be named without a worker
 * to hand it to (the sessions that measure read it). */
static int answers_apply(const cutune_session *s, const char *call, int named)
{
    if (!s->kernel)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective or a recorded space "
                       "has no outputs to check");
    if (!s->has_device && !named) /* (device -1: the sessions that measure keep their own) */
        return ct_fail(CUTUNE_ENOTSUP, "this session measures nothing itself");
    return started(s, call);
}

int cutune_session_set_reference(cutune_session *s, const char *argument, const void *data,
                                 size_t bytes)
{
    if (!s || !argument || !data)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_reference: NULL argument");
    size_t i;
    int st = answers_apply(s, "cutune_session_set_reference", 0);
    if (!st)
        st = find_output(s, argument, &i);
    if (st)
        return st;
    const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
    size_t want = (size_t)a->count * cutune_elem_size(a->type);
    if (bytes != want)
        return ct_fail(CUTUNE_EINVAL, "the reference for '%s' has %zu bytes; it needs %zu",
                       argument, bytes, want);
    void *copy = malloc(bytes);
    if (!copy)
        return ct_fail(CUTUNE_ENOMEM, "out of memory for the reference of '%s'", argument);
    memcpy(copy, data, bytes);
    return keep_answer(s, i, copy, NULL, 0);
}

int cutune_session_load_answer(cutune_session *s, const char *argument, const char *path)
{
    if (!s || !argument || !path)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_load_answer: NULL argument");
    size_t i, bytes;
    void *data = NULL;
    int st = answers_apply(s, "cutune_session_load_answer", 1);
    if (!st)
        st = find_output(s, argument, &i);
    if (!st) /* (without a device here, checked and named only) */
        st = cutune_kernel_read_answer(s->kernel, argument, path, s->has_device ? &data : NULL,
                                       &bytes);
    return st ? st : keep_answer(s, i, data, path, 0);
}

int cutune_session_set_tolerance(cutune_session *s, const char *argument, double atol,
                                 double rtol)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_tolerance: NULL session");
    if (!(isnan(atol) || (atol >= 0 && isfinite(atol))) ||
        !(isnan(rtol) || (rtol >= 0 && isfinite(rtol))))
        return ct_fail(CUTUNE_EINVAL, "a tolerance is a number >= 0 (atol %g, rtol %g)", atol,
                       rtol);
    if (!s->kernel)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective or a recorded space "
                       "has no outputs to check");
    size_t n = cutune_kernel_num_args(s->kernel), i = 0;
    int st = started(s, "cutune_session_set_tolerance");
    if (!st && argument)
        st = find_output(s, argument, &i);
    if (st)
        return st;
    for (size_t k = argument ? i : 0; k < (argument ? i + 1 : n); k++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, k);
        if (!a->output || a->scalar)
            continue;
        s->check[k].allclose = 1;
        s->check[k].atol = isnan(atol) ? s->check[k].atol : atol;
        s->check[k].rtol = isnan(rtol) ? s->check[k].rtol : rtol;
        s->tol_set[k] = 1;
    }
    s->verify_mode = 0;
    return CUTUNE_OK;
}

/* ------------------------------------------------------------ ReferenceArguments ---- */

/* A Constant answer: FillValue in every element. */
static void *constant_answer(const cutune_kernel_arg *a, double v)
{
    size_t es = cutune_elem_size(a->type);
    unsigned char *p = malloc((size_t)a->count * es), one[8];
    switch (a->type) {
    case CUTUNE_FLOAT32: *(float *)one = (float)v; break;
    case CUTUNE_FLOAT64: *(double *)one = v; break;
    case CUTUNE_INT32: *(int32_t *)one = (int32_t)v; break;
    case CUTUNE_UINT32: *(uint32_t *)one = (uint32_t)v; break;
    case CUTUNE_INT64: *(int64_t *)one = (int64_t)v; break;
    case CUTUNE_UINT64: *(uint64_t *)one = (uint64_t)v; break;
    case CUTUNE_INT8: *(int8_t *)one = (int8_t)v; break;
    case CUTUNE_UINT8: *(uint8_t *)one = (uint8_t)v; break;
    }
    for (uint64_t j = 0; p && j < a->count; j++)
        memcpy(p + j * es, one, es);
    return p;
}

/* Reference j of the spec into the answer of its target (unless one was given) and its
 * threshold into eff; `load` 0: the data is checked, not kept. *used: it is one cutune
 * reads (else the note says why not). */
static int spec_reference(cutune_session *s, json_t *r, size_t j, int load, ct_check *eff,
                          uint8_t *seen, int *used)
{
    char where[96];
    snprintf(where, sizeof where, "KernelSpecification.ReferenceArguments[%zu]", j);
    const char *spec = s->spec_path;
    json_t *target = json_object_get(r, "TargetName"), *fill = json_object_get(r, "FillType");
    if (!json_is_object(r) || !json_is_string(target))
        return ct_fail(CUTUNE_EINVAL, "%s: %s has no TargetName (the output it answers for)",
                       spec, where);
    size_t i;
    int st = find_output(s, json_string_value(target), &i);
    if (st)
        return ct_wrap(st, "%s: %s: TargetName", spec, where);
    if (seen[i])
        return ct_fail(CUTUNE_EINVAL, "%s: %s: a second answer for '%s'", spec, where,
                       json_string_value(target));
    seen[i] = 1;
    const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
    const char *kind = json_is_string(fill) ? json_string_value(fill) : "(none)";
    int raw = strcmp(kind, "BinaryRaw") == 0, constant = strcmp(kind, "Constant") == 0;
    if (!raw && !constant) {
        size_t n = strlen(s->verify_note);
        snprintf(s->verify_note + n, sizeof s->verify_note - n, "%s%s (FillType %s) is not "
                 "used: cutune reads BinaryRaw and Constant", n ? "; " : "", where, kind);
        return CUTUNE_OK;
    }
    json_t *method = json_object_get(r, "ValidationMethod");
    json_t *thr = json_object_get(r, "ValidationThreshold");
    const char *m = json_is_string(method) ? json_string_value(method) : "AbsoluteDifference";
    int relative = strcmp(m, "SideBySideRelativeComparison") == 0;
    if (method && !(json_is_string(method) && (relative ||
                                               strcmp(m, "AbsoluteDifference") == 0 ||
                                               strcmp(m, "SideBySideComparison") == 0)))
        return ct_fail(CUTUNE_EINVAL, "%s: %s: ValidationMethod is AbsoluteDifference, "
                       "SideBySideComparison or SideBySideRelativeComparison", spec, where);
    if (thr && !(json_is_number(thr) && json_number_value(thr) >= 0 &&
                 isfinite(json_number_value(thr))))
        return ct_fail(CUTUNE_EINVAL, "%s: %s: ValidationThreshold must be a number >= 0",
                       spec, where);
    *used = 1;
    eff[i].compare = 1;
    if (thr && !s->tol_set[i]) {
        eff[i].allclose = 1;
        eff[i].atol = relative ? 0 : json_number_value(thr);
        eff[i].rtol = relative ? json_number_value(thr) : 0;
    }
    if (answered(s, i)) /* an answer given comes first */
        return CUTUNE_OK;
    char source[4200];
    void *data = NULL;
    size_t bytes;
    if (raw) {
        json_t *ds = json_object_get(r, "DataSource");
        if (!json_is_string(ds))
            return ct_fail(CUTUNE_EINVAL, "%s: %s: FillType BinaryRaw needs a DataSource (a "
                           "file beside the spec)", spec, where);
        const char *file = json_string_value(ds), *slash = strrchr(spec, '/');
        int dir = file[0] == '/' || !slash ? 0 : (int)(slash - spec) + 1;
        snprintf(source, sizeof source, "%.*s%s", dir, spec, file);
        if (s->spec_ref[i] && strcmp(s->ref_source[i], source) == 0)
            return CUTUNE_OK; /* read before */
        st = cutune_kernel_read_answer(s->kernel, a->name, source, load ? &data : NULL, &bytes);
        if (st)
            return ct_wrap(st, "%s: %s", spec, where);
    } else {
        json_t *v = json_object_get(r, "FillValue");
        if (v && !json_is_number(v))
            return ct_fail(CUTUNE_EINVAL, "%s: %s: FillValue must be a number", spec, where);
        snprintf(source, sizeof source, "FillValue %g", v ? json_number_value(v) : 0.0);
        if (s->spec_ref[i] && strcmp(s->ref_source[i], source) == 0)
            return CUTUNE_OK; /* made before */
        if (load && !(data = constant_answer(a, v ? json_number_value(v) : 0)))
            return ct_fail(CUTUNE_ENOMEM, "out of memory for the answer for %s", a->name);
    }
    return load ? keep_answer(s, i, data, source, 1) : CUTUNE_OK;
}

/* The spec's ReferenceArguments into answers and tests; *count: those cutune reads. */
static int spec_references(cutune_session *s, int load, ct_check *eff, size_t *count)
{
    *count = 0;
    s->verify_note[0] = '\0';
    if (!s->spec_path)
        return CUTUNE_OK;
    json_t *root = NULL;
    int st = ct_load_json(s->spec_path, &root);
    json_t *refs = json_object_get(json_object_get(root, "KernelSpecification"),
                                   "ReferenceArguments");
    if (!st && refs && !json_is_null(refs) && !json_is_array(refs))
        st = ct_fail(CUTUNE_EINVAL, "%s: KernelSpecification.ReferenceArguments must be a list",
                     s->spec_path);
    size_t n = json_array_size(refs);
    uint8_t *seen = calloc(cutune_kernel_num_args(s->kernel) + 1, 1);
    if (!st && !seen)
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t j = 0; !st && j < n; j++) {
        int used = 0;
        st = spec_reference(s, json_array_get(refs, j), j, load, eff, seen, &used);
        *count += (size_t)used;
    }
    free(seen);
    json_decref(root);
    return st;
}

/* ------------------------------------------------------------------- the decision ---- */

int cutune_session_set_verify(cutune_session *s, cutune_verify how)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_verify: NULL session");
    if ((unsigned)how > CUTUNE_VERIFY_ANSWERS)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_verify: %d is no cutune_verify",
                       (int)how);
    int st = s->kernel ? started(s, "cutune_session_set_verify") : CUTUNE_OK;
    if (st)
        return st;
    s->verify = how;
    s->verify_mode = 0;
    return CUTUNE_OK;
}

static int has_default(const cutune_session *s)
{
    uint32_t cfg[CUTUNE_MAX_PARAMS];
    return s->dom.np <= CUTUNE_MAX_PARAMS && cutune_space_get_default(s->space, cfg) == 1 &&
           ct_domain_find(&s->dom, cfg) != CT_NONE;
}

/* The mode and each argument's check (eff), the answers read where the mode needs them. */
static int decide(cutune_session *s, ct_check *eff)
{
    size_t n = cutune_kernel_num_args(s->kernel), outputs = 0, given = 0, from_spec = 0;
    for (size_t i = 0; i < n; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
        eff[i] = s->check[i];
        eff[i].compare = 0;
        outputs += a->output && !a->scalar;
        given += (size_t)answered(s, i);
    }
    s->verify_note[0] = '\0';
    int mode = s->verify == CUTUNE_VERIFY_AUTO ? CUTUNE_VERIFY_ANSWERS : s->verify;
    if (mode == CUTUNE_VERIFY_ANSWERS && !(s->verify == CUTUNE_VERIFY_AUTO && given == outputs &&
                                           outputs)) {
        int st = spec_references(s, s->has_device, eff, &from_spec);
        if (st)
            return st;
    }
    if (s->verify == CUTUNE_VERIFY_AUTO && !from_spec && given < outputs)
        mode = CUTUNE_VERIFY_DEFAULT; /* (answers for some outputs only: not used) */
    if (s->verify == CUTUNE_VERIFY_AUTO && !outputs)
        mode = CUTUNE_VERIFY_DEFAULT;
    if (mode == CUTUNE_VERIFY_ANSWERS && !given && !from_spec)
        return ct_fail(CUTUNE_EINVAL, "verification against answers, but no answer was given "
                       "and the spec has no ReferenceArguments cutune reads");
    for (size_t i = 0; i < n; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
        if (mode == CUTUNE_VERIFY_DEFAULT)
            eff[i].compare = a->output && !a->scalar && has_default(s);
        else if (mode == CUTUNE_VERIFY_ANSWERS) /* (a spec's answer of an earlier decision
                                                    counts where the spec still gives it) */
            eff[i].compare |= answered(s, i);
    }
    s->verify_mode = mode;
    return CUTUNE_OK;
}

int ct_session_verify_prepare(cutune_session *s)
{
    if (!s->kernel || (s->verify_mode && (s->verify_sent || !s->has_device)))
        return CUTUNE_OK;
    size_t n = cutune_kernel_num_args(s->kernel), total = 0, off = 0;
    ct_check *eff = calloc(n ? n : 1, sizeof *eff);
    int st = eff ? decide(s, eff) : ct_fail(CUTUNE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (eff && eff[i].compare && s->user_ref[i])
            total += (size_t)cutune_kernel_arg_at(s->kernel, i)->count *
                     cutune_elem_size(cutune_kernel_arg_at(s->kernel, i)->type);
    char *blob = NULL; /* the answers of every output compared, in order */
    if (!st && s->has_device && s->verify_mode == CUTUNE_VERIFY_ANSWERS) {
        blob = malloc(total ? total : 1);
        for (size_t i = 0; blob && i < n; i++)
            if (eff[i].compare && s->user_ref[i]) {
                const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
                size_t b = (size_t)a->count * cutune_elem_size(a->type);
                memcpy(blob + off, s->user_ref[i], b);
                off += b;
            }
        if (!blob)
            st = ct_fail(CUTUNE_ENOMEM, "out of memory for the answers");
    }
    if (!st && s->has_device && s->ops->send_checks)
        st = s->ops->send_checks(s, s->ctx, eff, n, blob, total);
    free(blob);
    if (st)
        s->verify_mode = 0;
    s->verify_sent = !st;
    free(eff);
    return st;
}

int ct_session_default_must_work(const cutune_session *s)
{
    return s->kernel && s->verify_mode != CUTUNE_VERIFY_NONE;
}

/* ---------------------------------------------------------------- in words ---- */

typedef struct text {
    char *buf;
    size_t size, n;
} text;

static void put(text *t, const char *fmt, ...) CT_PRINTF(2, 3);
static void put(text *t, const char *fmt, ...)
{
    if (t->n >= t->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->n, t->size - t->n, fmt, ap);
    va_end(ap);
    t->n = k < 0 ? t->size : t->n + (size_t)k;
}

static void describe(const cutune_session *s, const ct_check *eff, text *t)
{
    size_t n = cutune_kernel_num_args(s->kernel), compared = 0, same = 1, first = n;
    char test[96], other[96];
    for (size_t i = 0; i < n; i++)
        if (eff[i].compare) {
            if (first == n)
                first = i;
            else if (strcmp(ct_check_text(&eff[i], test, sizeof test),
                            ct_check_text(&eff[first], other, sizeof other)) != 0)
                same = 0;
            compared++;
        }
    if (!compared) {
        int outputs = 0;
        for (size_t i = 0; i < n; i++)
            outputs |= cutune_kernel_arg_at(s->kernel, i)->output;
        put(t, "comparing no outputs: %s",
            s->verify_mode == CUTUNE_VERIFY_NONE ? "verification is off"
            : !outputs ? "no argument has \"Output\": 1"
                       : "the space has no default configuration to take a reference from "
                         "(answers can be given instead)");
    } else {
        put(t, "verifying ");
        for (size_t i = 0, k = 0; i < n; i++) {
            if (!eff[i].compare)
                continue;
            const char *name = cutune_kernel_arg_at(s->kernel, i)->name;
            put(t, "%s%s", k == 0 ? "" : k + 1 == compared && s->verify_mode ==
                                                 CUTUNE_VERIFY_DEFAULT ? " and " : ", ", name);
            if (s->verify_mode == CUTUNE_VERIFY_ANSWERS)
                put(t, " against %s%s", s->spec_ref[i] ? "the spec's " : "",
                    s->ref_source[i] ? s->ref_source[i]
                    : s->user_ref[i] ? "the answer given"
                                     : "the spec's ReferenceArguments");
            if (!same || (s->verify_mode == CUTUNE_VERIFY_ANSWERS && compared > 1))
                put(t, " (%s)", ct_check_text(&eff[i], test, sizeof test));
            k++;
        }
        if (s->verify_mode == CUTUNE_VERIFY_DEFAULT)
            put(t, " against the default configuration's output");
        if (same && !(s->verify_mode == CUTUNE_VERIFY_ANSWERS && compared > 1))
            put(t, " (%s)", ct_check_text(&eff[first], test, sizeof test));
    }
    /* what is written but not compared: outputs without an answer, buffers without Output */
    for (int pass = 0; pass < 2 && s->verify_mode != CUTUNE_VERIFY_NONE; pass++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
            int left = !eff[i].compare && !a->scalar &&
                       (pass ? a->written && !a->output
                             : a->output && s->verify_mode == CUTUNE_VERIFY_ANSWERS);
            if (left)
                put(t, "%s%s", k++ ? ", " : pass ? "; written, without \"Output\", not "
                                                   "compared: "
                                                 : "; no answer, not compared: ", a->name);
        }
    }
    if (s->verify_note[0])
        put(t, "; %s", s->verify_note);
}

int cutune_session_verification(cutune_session *s, cutune_verify *mode, char *buf, size_t size)
{
    if (!s || (!buf && size))
        return ct_fail(CUTUNE_EINVAL, "cutune_session_verification: NULL argument");
    text t = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    if (!s->kernel) {
        if (mode)
            *mode = CUTUNE_VERIFY_NONE;
        put(&t, "comparing no outputs: %s", s->no_outputs_why ? s->no_outputs_why : "none");
        return CUTUNE_OK;
    }
    int st = ct_session_verify_prepare(s);
    size_t n = cutune_kernel_num_args(s->kernel);
    ct_check *eff = st ? NULL : calloc(n ? n : 1, sizeof *eff);
    if (!st && !eff)
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    /* (decided already: this gives the same checks again, from what is kept) */
    if (!st) {
        int sent = s->verify_sent;
        st = decide(s, eff);
        s->verify_sent = sent;
    }
    if (!st) {
        describe(s, eff, &t);
        if (mode)
            *mode = (cutune_verify)s->verify_mode;
    }
    free(eff);
    return st;
}
