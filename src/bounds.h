/* bounds.h — the bounds the library puts on what it reads and keeps, in one place: each
 * stops hostile or mistaken input (a gzip bomb, an endless include chain, a runaway
 * expression) with a clear CUTUNE_ETOOBIG instead of exhausting memory, stack or time.
 * CUTUNE_MAX_PARAMS and CUTUNE_MAX_TIMED_LAUNCHES are public (cutune.h). */
#ifndef CUTUNE_BOUNDS_H
#define CUTUNE_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

/* Files */
#define CT_MAX_SPEC_BYTES ((size_t)64 << 20)   /* a T1 spec */
#define CT_MAX_SOURCE_BYTES ((size_t)16 << 20) /* a kernel's source */
#define CT_MAX_GZ_BYTES ((size_t)1 << 30)      /* a file once decompressed (cache files) */
#define CT_MAX_BINARY_BYTES ((size_t)512 << 20) /* a binary in the compile cache */
#define CT_MAX_HEADER_BYTES ((size_t)64 << 20) /* one header a kernel includes */
#define CT_MAX_HEADER_FILES 1024               /* headers one kernel includes */
#define CT_MAX_INCLUDE_DEPTH 64                /* #include nesting */

/* Expressions (constraints, sizes, metrics) */
#define CT_MAX_EXPR_DEPTH 200                 /* nesting: keeps the parser's stack bounded */
#define CT_MAX_EXPR_STACK 256                 /* the compiled program's value stack */
#define CT_MAX_EXPR_ARENA ((size_t)256 << 20) /* bytes one evaluation may allocate */
#define CT_MAX_EXPR_STEPS (1u << 26)          /* node visits of one evaluation */
#define CT_MAX_EXPR_NAMES 64                  /* parameters one size expression names */
#define CT_MAX_METRICS 32                     /* metrics of one session */

/* Problem sizes from parameters (kernel_spec.c) */
#define CT_MAX_PROBLEM_COMBINATIONS ((uint64_t)1 << 20) /* configurations read for sizes */
#define CT_MAX_PROBLEM_SECONDS 4.0                      /* ... and the time all of them take */

/* Sessions and searches */
#define CT_MAX_SESSION_CONFIGS ((size_t)1 << 24) /* valid configurations a session numbers */
#define CT_MAX_IN_FLIGHT 1024     /* evaluations a search has out at once */
#define CT_MAX_AHEAD_THREADS 256  /* compile-ahead threads */
#define CT_MAX_ANNOUNCED 32       /* configurations a strategy says it will ask for next */

/* The copy/compute pipeline */
#define CT_MAX_PIPELINE_DEPTH 16 /* batches in flight */
#define CT_MAX_COPIERS 16        /* threads copying pageable data, the caller's not counted */

#endif
