/* verify.c — the pass test of an output against its reference (cutune's Tolerance, Kernel
 * Tuner's atol and rtol) and the comparison the worker runs with it; and answer files, raw
 * or NumPy .npy, read and checked against the argument they answer for. */
#include "verify.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ the pass test ---- */

ct_check ct_check_of_arg(const cutune_kernel_arg *a)
{
    ct_check c = {.compare = a->output && !a->scalar, .allclose = a->allclose,
                  .tolerance = a->tolerance, .atol = a->atol, .rtol = a->rtol};
    return c;
}

static inline int close_enough(double x, double ref, const ct_check *c)
{
    if (x == ref)
        return 1;
    if (!isfinite(x) || !isfinite(ref)) /* NaN, or an infinity against another value */
        return 0;
    double d = fabs(x - ref), r = fabs(ref);
    return c->allclose ? d <= c->atol + c->rtol * r : d <= c->tolerance * (r > 1 ? r : 1);
}

int ct_close(double x, double ref, const ct_check *c) { return close_enough(x, ref, c); }

double ct_elem_value(cutune_elem_type t, const void *p)
{
    switch (t) {
    case CUTUNE_FLOAT32: return *(const float *)p;
    case CUTUNE_FLOAT64: return *(const double *)p;
    case CUTUNE_INT32: return *(const int32_t *)p;
    case CUTUNE_UINT32: return *(const uint32_t *)p;
    case CUTUNE_INT64: return (double)*(const int64_t *)p;
    case CUTUNE_UINT64: return (double)*(const uint64_t *)p;
    case CUTUNE_INT8: return *(const int8_t *)p;
    case CUTUNE_UINT8: return *(const uint8_t *)p;
    }
    return NAN;
}

/* One loop per element type: the worker compares millions of elements per configuration. */
#define COMPARE(T, NAME)                                                                 \
    static uint64_t NAME(const T *x, const T *r, uint64_t n, const ct_check *c,           \
                         double *max_err)                                                \
    {                                                                                    \
        double worst = 0;                                                                \
        for (uint64_t j = 0; j < n; j++) {                                               \
            double a = (double)x[j], b = (double)r[j];                                   \
            if (a == b)                                                                  \
                continue;                                                                \
            double m = fabs(b) > 1 ? fabs(b) : 1, e = fabs(a - b) / m;                   \
            e = isfinite(e) ? e : INFINITY;                                              \
            worst = e > worst ? e : worst;                                               \
            if (!close_enough(a, b, c)) {                                                \
                *max_err = worst;                                                        \
                return j;                                                                \
            }                                                                            \
        }                                                                                \
        *max_err = worst;                                                                \
        return n;                                                                        \
    }
COMPARE(float, compare_f32)
COMPARE(double, compare_f64)
COMPARE(int32_t, compare_i32)
COMPARE(uint32_t, compare_u32)
COMPARE(int64_t, compare_i64)
COMPARE(uint64_t, compare_u64)
COMPARE(int8_t, compare_i8)
COMPARE(uint8_t, compare_u8)
#undef COMPARE

uint64_t ct_compare(cutune_elem_type t, const void *x, const void *ref, uint64_t n,
                    const ct_check *c, double *max_err)
{
    switch (t) {
    case CUTUNE_FLOAT32: return compare_f32(x, ref, n, c, max_err);
    case CUTUNE_FLOAT64: return compare_f64(x, ref, n, c, max_err);
    case CUTUNE_INT32: return compare_i32(x, ref, n, c, max_err);
    case CUTUNE_UINT32: return compare_u32(x, ref, n, c, max_err);
    case CUTUNE_INT64: return compare_i64(x, ref, n, c, max_err);
    case CUTUNE_UINT64: return compare_u64(x, ref, n, c, max_err);
    case CUTUNE_INT8: return compare_i8(x, ref, n, c, max_err);
    case CUTUNE_UINT8: return compare_u8(x, ref, n, c, max_err);
    }
    *max_err = INFINITY;
    return 0;
}

const char *ct_check_text(const ct_check *c, char *buf, size_t size)
{
    if (!c->allclose)
        snprintf(buf, size, "|x - ref| <= %g * max(1, |ref|)", c->tolerance);
    else if (c->rtol == 0)
        snprintf(buf, size, "|x - ref| <= %g", c->atol);
    else if (c->atol == 0)
        snprintf(buf, size, "|x - ref| <= %g * |ref|", c->rtol);
    else
        snprintf(buf, size, "|x - ref| <= %g + %g * |ref|", c->atol, c->rtol);
    return buf;
}

static const struct {
    const char *name, *dtype;
} elem_names[] = {{"float", "<f4"},   {"double", "<f8"},   {"int", "<i4"},
                  {"unsigned int", "<u4"}, {"long", "<i8"}, {"uint64", "<u8"},
                  {"char", "|i1"},    {"unsigned char", "|u1"}};

const char *ct_elem_name(cutune_elem_type t)
{
    return (unsigned)t < sizeof elem_names / sizeof *elem_names ? elem_names[t].name : "?";
}

const char *ct_elem_dtype(cutune_elem_type t)
{
    return (unsigned)t < sizeof elem_names / sizeof *elem_names ? elem_names[t].dtype : "?";
}

/* ----------------------------------------------------------------- .npy headers ---- */

typedef struct scan {
    const char *p, *end;
    char *why;
    size_t size;
} scan;

static int scan_fail(scan *s, const char *fmt, const char *what)
{
    snprintf(s->why, s->size, fmt, what);
    return CUTUNE_EINVAL;
}

static void skip_space(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int expect(scan *s, char c)
{
    skip_space(s);
    if (s->p >= s->end || *s->p != c) {
        char what[2] = {c, 0};
        return scan_fail(s, "the header's dictionary lacks a '%s' where one belongs", what);
    }
    s->p++;
    return 0;
}

/* A Python string literal, quoted with ' or ", without escapes (numpy writes none). */
static int scan_string(scan *s, char *out, size_t size)
{
    skip_space(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return scan_fail(s, "the header's dictionary has %s where a quoted string belongs",
                         s->p < s->end && *s->p == '[' ? "a list (a structured dtype: "
                         "cutune reads arrays of plain numbers)" : "something else");
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (*s->p == '\\' || n + 1 >= size)
            return scan_fail(s, "%s", "the header has a string cutune does not read");
        out[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return scan_fail(s, "%s", "the header ends inside a string");
    s->p++;
    out[n] = '\0';
    return 0;
}

static int scan_word(scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) >= n && memcmp(s->p, word, n) == 0) {
        s->p += n;
        return 1;
    }
    return 0;
}

/* (), (n,), (a, b, ...) */
static int scan_shape(scan *s, ct_npy *out)
{
    if (expect(s, '('))
        return scan_fail(s, "%s", "the header's shape is not a tuple");
    out->ndim = 0;
    out->count = 1;
    for (;;) {
        skip_space(s);
        if (s->p < s->end && *s->p == ')') {
            s->p++;
            return 0;
        }
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return scan_fail(s, "%s", "the header's shape is not a tuple of whole numbers");
        uint64_t v = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return scan_fail(s, "%s", "the header's shape has a dimension too large");
            v = v * 10 + (uint64_t)(*s->p++ - '0');
        }
        if (s->p < s->end && *s->p == 'L') /* Python 2's long */
            s->p++;
        if (out->ndim == (int)(sizeof out->shape / sizeof *out->shape))
            return scan_fail(s, "%s", "the header's shape has more than 32 dimensions");
        out->shape[out->ndim++] = v;
        if (v && out->count > ((uint64_t)1 << 50) / v)
            return scan_fail(s, "%s", "the header's shape has more than 2^50 elements");
        out->count *= v;
        skip_space(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
        else if (s->p >= s->end || *s->p != ')')
            return scan_fail(s, "%s", "the header's shape is not a tuple of whole numbers");
    }
}

int ct_npy_parse(const unsigned char *buf, size_t len, ct_npy *out, char *why, size_t size)
{
    memset(out, 0, sizeof *out);
    if (len < 8 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        snprintf(why, size, "not a .npy file (it does not start with \\x93NUMPY)");
        return CUTUNE_EINVAL;
    }
    out->major = buf[6];
    out->minor = buf[7];
    size_t start = out->major == 1 ? 10 : 12, hlen;
    if (out->major < 1 || out->major > 3) {
        snprintf(why, size, ".npy format version %d.%d (cutune reads 1.0, 2.0 and 3.0)",
                 out->major, out->minor);
        return CUTUNE_EINVAL;
    }
    if (len < start) {
        snprintf(why, size, "the .npy header is cut short (%zu bytes)", len);
        return CUTUNE_EINVAL;
    }
    hlen = out->major == 1 ? (size_t)buf[8] | (size_t)buf[9] << 8
                           : (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                                 (size_t)buf[11] << 24;
    if (hlen > len - start) {
        snprintf(why, size, "the .npy header is cut short: it says %zu bytes, %zu follow",
                 hlen, len - start);
        return CUTUNE_EINVAL;
    }
    out->data_offset = start + hlen;
    scan s = {(const char *)buf + start, (const char *)buf + start + hlen, why, size};
    int have_descr = 0, have_order = 0, have_shape = 0, st = expect(&s, '{');
    while (!st) {
        skip_space(&s);
        if (s.p < s.end && *s.p == '}')
            break;
        char key[32];
        if ((st = scan_string(&s, key, sizeof key)) || (st = expect(&s, ':')))
            break;
        skip_space(&s);
        if (strcmp(key, "descr") == 0) {
            st = scan_string(&s, out->descr, sizeof out->descr);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (scan_word(&s, "True"))
                out->fortran_order = 1;
            else if (!scan_word(&s, "False"))
                st = scan_fail(&s, "%s", "the header's fortran_order is neither True nor False");
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            st = scan_shape(&s, out);
            have_shape = 1;
        } else {
            st = scan_fail(&s, "the header has a key '%s' that .npy files do not have", key);
        }
        skip_space(&s);
        if (!st && s.p < s.end && *s.p == ',')
            s.p++;
        else if (!st && (s.p >= s.end || *s.p != '}'))
            st = scan_fail(&s, "%s", "the header's dictionary lacks a ',' or '}'");
    }
    if (!st && s.p < s.end)
        s.p++; /* '}' */
    skip_space(&s);
    if (!st && s.p != s.end)
        st = scan_fail(&s, "%s", "the header goes on after its dictionary");
    if (!st && !(have_descr && have_order && have_shape))
        st = scan_fail(&s, "the header lacks '%s'",
                       !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    return st;
}

/* -------------------------------------------------------------------- answer files ---- */

/* "(4096, 4096)" */
static const char *shape_text(const ct_npy *h, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < h->ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%llu", d ? ", " : "",
                              (unsigned long long)h->shape[d]);
    if (n < size)
        snprintf(buf + n, size - n, h->ndim == 1 ? ",)" : ")");
    return buf;
}

/* The dtype an argument of type t must have, against a header's descr. */
static int dtype_matches(cutune_elem_type t, const char *descr)
{
    const char *want = ct_elem_dtype(t);
    if (strlen(descr) != 3 || strcmp(descr + 1, want + 1) != 0)
        return 0;
    if (want[0] == '|') /* one byte: no byte order */
        return descr[0] == '|' || descr[0] == '<' || descr[0] == '>' || descr[0] == '=';
    return descr[0] == '<' || descr[0] == '=';
}

static int npy_check(const char *path, const cutune_kernel_arg *a, const unsigned char *head,
                     size_t len, uint64_t file_size, ct_npy *h)
{
    char why[256], shape[160];
    if (ct_npy_parse(head, len, h, why, sizeof why))
        return ct_fail(CUTUNE_EINVAL, "%s: the answer for %s: %s", path, a->name, why);
    const char *want = ct_elem_dtype(a->type);
    if (!dtype_matches(a->type, h->descr)) {
        int big = h->descr[0] == '>' && strcmp(h->descr + 1, want + 1) == 0;
        return ct_fail(CUTUNE_EINVAL, "%s: the answer for %s has dtype '%s'%s, where %s is %s "
                       "('%s'): save it with numpy as a.astype('%s')", path, a->name, h->descr,
                       big ? " (big-endian: cutune reads little-endian data)" : "", a->name,
                       ct_elem_name(a->type), want, want);
    }
    int wide = 0;
    for (int d = 0; d < h->ndim; d++)
        wide += h->shape[d] > 1;
    if (h->fortran_order && wide > 1)
        return ct_fail(CUTUNE_EINVAL, "%s: the answer for %s is in Fortran order with shape "
                       "%s: save it in C order (numpy.ascontiguousarray)", path, a->name,
                       shape_text(h, shape, sizeof shape));
    if (h->count != a->count)
        return ct_fail(CUTUNE_EINVAL, "%s: the answer for %s has %llu elements (shape %s), "
                       "where %s has %llu", path, a->name, (unsigned long long)h->count,
                       shape_text(h, shape, sizeof shape), a->name,
                       (unsigned long long)a->count);
    uint64_t want_size = h->data_offset + a->count * cutune_elem_size(a->type);
    if (file_size != want_size)
        return ct_fail(CUTUNE_EINVAL, "%s: the answer for %s %s: %llu bytes of data, where "
                       "its header says %llu", path, a->name,
                       file_size < want_size ? "is cut short" : "has bytes after its data",
                       (unsigned long long)(file_size - h->data_offset),
                       (unsigned long long)(want_size - h->data_offset));
    return CUTUNE_OK;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

int cutune_kernel_read_answer(const cutune_kernel *k, const char *argument, const char *path,
                              void **data, size_t *bytes)
{
    if (data)
        *data = NULL;
    if (!k || !argument || !path || (data && !bytes))
        return ct_fail(CUTUNE_EINVAL, "cutune_kernel_read_answer: NULL argument");
    const cutune_kernel_arg *a = NULL;
    for (size_t i = 0; i < cutune_kernel_num_args(k) && !a; i++)
        if (strcmp(cutune_kernel_arg_at(k, i)->name, argument) == 0)
            a = cutune_kernel_arg_at(k, i);
    if (!a)
        return ct_fail(CUTUNE_ENOTFOUND, "%s: the kernel has no argument '%s'", path, argument);
    if (a->scalar || !a->output)
        return ct_fail(CUTUNE_EINVAL, "%s: argument '%s' is %s: only outputs (\"Output\": 1) "
                       "are compared", path, argument, a->scalar ? "a scalar" : "no output");
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = f ? (S_ISDIR(sb.st_mode) ? EISDIR : errno) : errno;
        if (f)
            fclose(f);
        return ct_fail(CUTUNE_EIO, "%s: cannot read the answer for %s: %s", path, argument,
                       strerror(e ? e : EINVAL));
    }
    uint64_t file_size = (uint64_t)sb.st_size;
    size_t es = cutune_elem_size(a->type), payload = (size_t)(a->count * es);
    /* the start: .npy's magic and header (at most 1 MiB of it) */
    unsigned char *head = malloc((size_t)1 << 20);
    size_t got = head ? fread(head, 1, (size_t)1 << 20, f) : 0;
    int st = head ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "out of memory");
    size_t offset = 0;
    if (!st && ((got >= 6 && memcmp(head, "\x93NUMPY", 6) == 0) || ends_with(path, ".npy"))) {
        ct_npy h;
        st = npy_check(path, a, head, got, file_size, &h);
        offset = h.data_offset;
    } else if (!st && file_size != payload) {
        st = ct_fail(CUTUNE_EINVAL, "%s: the answer for %s has %llu bytes, where %s is %llu "
                     "%s elements of %zu bytes: %zu bytes (raw little-endian, or .npy)", path,
                     argument, (unsigned long long)file_size, argument,
                     (unsigned long long)a->count, ct_elem_name(a->type), es, payload);
    }
    free(head);
    if (!st && data) {
        if (!(*data = malloc(payload ? payload : 1)))
            st = ct_fail(CUTUNE_ENOMEM, "out of memory for the answer for %s (%zu bytes)",
                         argument, payload);
        else if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(*data, 1, payload, f) != payload)
            st = ct_fail(CUTUNE_EIO, "%s: reading the answer for %s: %s", path, argument,
                         ferror(f) ? strerror(errno) : "the file changed while it was read");
        if (st) {
            free(*data);
            *data = NULL;
        } else {
            *bytes = payload;
        }
    }
    fclose(f);
    return st;
}
