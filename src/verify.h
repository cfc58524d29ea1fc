/* verify.h — how an output is held to its reference: the pass test of one output (cutune's
 * Tolerance or Kernel Tuner's atol/rtol), the comparison the worker runs, and answer files
 * (raw or NumPy .npy) read against an argument. Pure CPU code, tested without a GPU. */
#ifndef CUTUNE_VERIFY_H
#define CUTUNE_VERIFY_H

#include "internal.h"

/* One output's test, as it travels to the worker. compare 0: not compared. allclose 0:
 * |x - ref| <= tolerance * max(1, |ref|); 1: |x - ref| <= atol + rtol * |ref|. Equal values
 * pass (infinities too); NaN, or an infinity against another value, fails. */
typedef struct ct_check {
    int32_t compare, allclose;
    double tolerance, atol, rtol;
} ct_check;

/* Kernel Tuner's defaults (its atol; numpy.allclose's rtol, which Kernel Tuner leaves). */
#define CT_KT_ATOL 1e-6
#define CT_KT_RTOL 1e-5

/* The test a kernel argument's spec gives it (compare: it is an output). */
ct_check ct_check_of_arg(const cutune_kernel_arg *a);
/* Whether x passes against ref. */
int ct_close(double x, double ref, const ct_check *c);
/* The element at p as a double. */
double ct_elem_value(cutune_elem_type t, const void *p);
/* The first of n elements of x that fails against ref, or n when none does; *max_err the
 * largest |x - ref| / max(1, |ref|) of those compared (infinity at a NaN or an infinity). */
uint64_t ct_compare(cutune_elem_type t, const void *x, const void *ref, uint64_t n,
                    const ct_check *c, double *max_err);
/* The test in words: "|x - ref| <= 0.0001 * max(1, |ref|)". Returns buf. */
const char *ct_check_text(const ct_check *c, char *buf, size_t size);
/* The name of an element type as a spec writes it ("float"), and as NumPy's dtype ("<f4"). */
const char *ct_elem_name(cutune_elem_type t);
const char *ct_elem_dtype(cutune_elem_type t);

/* A .npy header: where the data starts and what it holds. */
typedef struct ct_npy {
    int major, minor;
    char descr[32];
    int fortran_order;
    int ndim;
    uint64_t shape[32];
    uint64_t count;      /* elements: the product of the shape (1 for shape ()) */
    size_t data_offset;  /* bytes before the data */
} ct_npy;
/* Parses the start of a .npy file (len bytes of it: at least the whole header). CUTUNE_EINVAL
 * with what is wrong in `why` (not through ct_fail: the caller names the file). */
int ct_npy_parse(const unsigned char *buf, size_t len, ct_npy *out, char *why, size_t size);

#endif
