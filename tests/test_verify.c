/* test_verify.c — verification the user controls, on the CPU: the pass tests (cutune's
 * Tolerance, Kernel Tuner's atol/rtol, NaN and infinities), .npy headers, answer files (raw
 * and .npy, good and bad), the WriteOnly rule, what a session says it compares (default,
 * none, answers, the spec's ReferenceArguments), and `cutune tune`'s options and its words
 * when most configurations fail verification (tools/cli_tune_opts.c, linked in). */
#include "check.h"
#include "cli_tune.h"
#include "cutune.h"
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* what cli_tune_opts.c calls of the CLI (tools/cli.c, not linked here) */
static char usage_said[512];
int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    (void)cmd;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(usage_said, sizeof usage_said, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}
const char *cli_text(const char *text) { return text; }
int cli_fail(const char *cmd, int status)
{
    (void)cmd;
    snprintf(usage_said, sizeof usage_said, "%s", cutune_last_error());
    return status == CUTUNE_ENODEVICE ? EXIT_NO_DEVICE : EXIT_FAILED;
}

static char dir[64];

static const char *at(const char *name) { return test_path(dir, name); }

static void write_file(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(at(name), "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
}

/* A .npy file: magic, version, header (padded to 64 bytes, '\n' last), then `data`. */
static void write_npy(const char *name, int major, const char *dict, const void *data,
                      size_t len)
{
    unsigned char buf[4096];
    size_t start = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (start + dl + 1 + 63) / 64 * 64, hlen = total - start;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    buf[8] = (unsigned char)(hlen & 255);
    buf[9] = (unsigned char)(hlen >> 8);
    if (major > 1)
        buf[10] = buf[11] = 0;
    memcpy(buf + start, dict, dl);
    memset(buf + start + dl, ' ', hlen - dl - 1);
    buf[total - 1] = '\n';
    memcpy(buf + total, data, len);
    write_file(name, buf, total + len);
}

/* ------------------------------------------------------------------ the pass tests ---- */

static void test_pass_tests(void)
{
    ct_check tol = {.compare = 1, .tolerance = 1e-4};
    CHECK(ct_close(1.0, 1.0, &tol));
    CHECK(ct_close(0.00005, 0, &tol));            /* below 1: absolute 1e-4 */
    CHECK(!ct_close(0.0002, 0, &tol));
    CHECK(ct_close(1000.05, 1000, &tol));         /* above 1: relative */
    CHECK(!ct_close(1000.2, 1000, &tol));
    CHECK(!ct_close(NAN, NAN, &tol));             /* NaN never passes */
    CHECK(!ct_close(NAN, 1, &tol));
    CHECK(!ct_close(1, NAN, &tol));
    CHECK(ct_close(INFINITY, INFINITY, &tol));    /* equal infinities do */
    CHECK(!ct_close(-INFINITY, INFINITY, &tol));
    CHECK(!ct_close(5, INFINITY, &tol));          /* and an infinity against a number not */
    CHECK(!ct_close(INFINITY, 5, &tol));
    CHECK(ct_close(-0.0, 0.0, &tol));

    /* Kernel Tuner's: |x - ref| <= atol + rtol * |ref| */
    ct_check kt = {.compare = 1, .allclose = 1, .atol = 1e-6, .rtol = 1e-5};
    CHECK(ct_close(1e-6, 0, &kt));
    CHECK(!ct_close(2e-6, 0, &kt));
    CHECK(ct_close(10000.1, 10000, &kt));         /* 1e-6 + 0.1 */
    CHECK(!ct_close(10000.11, 10000, &kt));
    ct_check abs0 = {.compare = 1, .allclose = 1, .atol = 0, .rtol = 0};
    CHECK(ct_close(3, 3, &abs0));
    CHECK(!ct_close(nextafter(3, 4), 3, &abs0));
    ct_check inf_rtol = {.compare = 1, .allclose = 1, .atol = 0, .rtol = 1};
    CHECK(!ct_close(5, INFINITY, &inf_rtol));     /* rtol * inf would let anything pass */
    CHECK(ct_close(-INFINITY, -INFINITY, &inf_rtol));

    /* over arrays: the first failing index and the largest relative error */
    float x[5] = {1, 2, 3.0001f, 4, 5}, r[5] = {1, 2, 3, 4, 6};
    double err = -1;
    CHECK_INT(ct_compare(CUTUNE_FLOAT32, x, r, 5, &tol, &err), 4);
    CHECK(err > 0.16 && err < 0.17); /* |5 - 6| / 6 */
    CHECK_INT(ct_compare(CUTUNE_FLOAT32, x, r, 4, &tol, &err), 4);
    CHECK(err > 3e-5 && err < 4e-5);
    float nan_x[2] = {1, NAN};
    CHECK_INT(ct_compare(CUTUNE_FLOAT32, nan_x, r, 2, &tol, &err), 1);
    CHECK(isinf(err));
    int32_t ix[3] = {1, 2, 3}, ir[3] = {1, 2, 4};
    CHECK_INT(ct_compare(CUTUNE_INT32, ix, ir, 3, &abs0, &err), 2);
    CHECK_INT(ct_compare(CUTUNE_INT32, ix, ir, 2, &abs0, &err), 2);
    uint8_t bx[2] = {200, 7}, br[2] = {200, 7};
    CHECK_INT(ct_compare(CUTUNE_UINT8, bx, br, 2, &abs0, &err), 2);
    CHECK(err == 0);
    int64_t lx[1] = {INT64_MAX}, lr[1] = {INT64_MAX};
    CHECK_INT(ct_compare(CUTUNE_INT64, lx, lr, 1, &abs0, &err), 1);

    char buf[96];
    CHECK_HAS(ct_check_text(&tol, buf, sizeof buf), "|x - ref| <= 0.0001 * max(1, |ref|)");
    CHECK_HAS(ct_check_text(&kt, buf, sizeof buf), "|x - ref| <= 1e-06 + 1e-05 * |ref|");
    CHECK_HAS(ct_check_text(&abs0, buf, sizeof buf), "|x - ref| <= 0");
    CHECK_HAS(ct_check_text(&inf_rtol, buf, sizeof buf), "|x - ref| <= 1 * |ref|");
}

/* --------------------------------------------------------------------- .npy ---- */

static int parse(const char *dict, int major, ct_npy *h, char *why)
{
    unsigned char buf[512];
    size_t start = major == 1 ? 10 : 12, n = strlen(dict);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    buf[8] = (unsigned char)n;
    buf[9] = buf[10] = buf[11] = 0;
    memcpy(buf + start, dict, n);
    return ct_npy_parse(buf, start + n, h, why, 200);
}

static void test_npy_headers(void)
{
    ct_npy h;
    char why[200];
    CHECK_INT(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n", 1, &h,
                    why), CUTUNE_OK);
    CHECK_HAS(h.descr, "<f4");
    CHECK_INT(h.ndim, 2);
    CHECK_INT(h.count, 12);
    CHECK_INT(h.fortran_order, 0);
    CHECK_INT(h.data_offset, 10 + strlen("{'descr': '<f4', 'fortran_order': False, "
                                         "'shape': (3, 4), }\n"));
    CHECK_INT(parse("{\"shape\": (7,), \"descr\": \"|u1\", \"fortran_order\": True}", 2, &h,
                    why), CUTUNE_OK);
    CHECK_INT(h.count, 7);
    CHECK_INT(h.fortran_order, 1);
    CHECK_INT(parse("{'descr': '<f8', 'fortran_order': False, 'shape': ()}", 3, &h, why),
              CUTUNE_OK);
    CHECK_INT(h.ndim, 0);
    CHECK_INT(h.count, 1);
    CHECK_INT(parse("{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 5L)}", 1, &h, why),
              CUTUNE_OK);
    CHECK_INT(h.count, 10);
    CHECK_INT(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", 1, &h, why),
              CUTUNE_OK);
    CHECK_INT(h.count, 0);

    /* what is wrong, said */
    static const struct {
        const char *dict;
        int major;
        const char *why;
    } bad[] = {
        {"{'descr': '<f4', 'fortran_order': False}", 1, "lacks 'shape'"},
        {"{'descr': '<f4', 'shape': (3,)}", 1, "lacks 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", 1, "key 'x'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", 1,
         "structured dtype"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,)}", 1, "neither True"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", 1, "not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, x)}", 1, "whole numbers"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", 1, "goes on after"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}", 1, "lacks a ',' or '}'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}", 1,
         "more than 2^50"},
        {"{'descr': '<f4", 1, "ends inside a string"},
        {"", 1, "lacks a '{'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 4, "version 4.0"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        why[0] = '\0';
        CHECK_INT(parse(bad[k].dict, bad[k].major, &h, why), CUTUNE_EINVAL);
        CHECK_HAS(why, bad[k].why);
    }
    /* cut short, and not .npy at all */
    CHECK_INT(ct_npy_parse((const unsigned char *)"\x93NUMPY\x01\x00\x40\x00{'d", 13, &h, why,
                           200), CUTUNE_EINVAL);
    CHECK_HAS(why, "cut short: it says 64 bytes, 3 follow");
    CHECK_INT(ct_npy_parse((const unsigned char *)"\x93NUMPY\x02\x00\x40", 9, &h, why, 200),
              CUTUNE_EINVAL);
    CHECK_HAS(why, "cut short (9 bytes)");
    CHECK_INT(ct_npy_parse((const unsigned char *)"PK\x03\x04 a zip", 10, &h, why, 200),
              CUTUNE_EINVAL);
    CHECK_HAS(why, "not a .npy file");
}

/* ------------------------------------------------------- a kernel and its answers ---- */

/* Two parameters, a default unless `no_default`; arguments: out (float[16], WriteOnly,
 * Output), scratch (float[8], WriteOnly, no Output), out2 (double[4], Atol 0.5), in
 * (read-only), n (a scalar), bytes (uint8[10], Output); `refs`: ReferenceArguments. */
static const char *write_spec(const char *name, int no_default, const char *refs)
{
    FILE *f = fopen(at(name), "w");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    fprintf(f, "{\"ConfigurationSpace\": {\"TuningParameters\": ["
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[16, 32]\"%s},"
               "{\"Name\": \"unroll\", \"Type\": \"int\", \"Values\": \"[1, 2]\"%s}],"
               "\"Conditions\": []},"
               "\"KernelSpecification\": {\"KernelName\": \"k\", \"KernelFile\": \"k.cu\","
               "\"ProblemSize\": [16], \"Arguments\": ["
               "{\"Name\": \"out\", \"Type\": \"float\", \"Size\": 16, \"AccessType\": "
               "\"WriteOnly\", \"Output\": 1},"
               "{\"Name\": \"scratch\", \"Type\": \"float\", \"Size\": 8, \"AccessType\": "
               "\"WriteOnly\"},"
               "{\"Name\": \"out2\", \"Type\": \"double\", \"Size\": 4, \"AccessType\": "
               "\"ReadWrite\", \"Output\": true, \"Atol\": 0.5},"
               "{\"Name\": \"in\", \"Type\": \"float\", \"Size\": 16, \"AccessType\": "
               "\"ReadOnly\"},"
               "{\"Name\": \"n\", \"Type\": \"int\", \"MemoryType\": \"Scalar\", "
               "\"FillValue\": 16},"
               "{\"Name\": \"bytes\", \"Type\": \"uint8\", \"Size\": 10, \"AccessType\": "
               "\"WriteOnly\", \"Output\": 1, \"Rtol\": 0}]%s%s}}\n",
            no_default ? "" : ", \"Default\": 16", no_default ? "" : ", \"Default\": 1",
            refs ? ", \"ReferenceArguments\": " : "", refs ? refs : "");
    fclose(f);
    return at(name);
}

/* The kernel of a spec, and its space in *sp (NULL, and *sp to free, when it does not load). */
static cutune_kernel *load_kernel(const char *spec, cutune_space **sp)
{
    cutune_kernel *k = NULL;
    *sp = NULL;
    CHECK_INT(cutune_space_load_t1(sp, spec), CUTUNE_OK);
    CHECK_INT(cutune_kernel_load_t1(spec, *sp, &k), CUTUNE_OK);
    return k;
}

static void test_spec_rules(void)
{
    cutune_space *sp;
    cutune_kernel *k = load_kernel(write_spec("rules.json", 0, NULL), &sp);
    if (!k) {
        cutune_space_free(sp);
        return;
    }
    const cutune_kernel_arg *out = cutune_kernel_arg_at(k, 0), *scratch = cutune_kernel_arg_at(k, 1),
                            *out2 = cutune_kernel_arg_at(k, 2), *bytes = cutune_kernel_arg_at(k, 5);
    /* WriteOnly alone makes no output: written (restored), not compared */
    CHECK(out->output && out->written);
    CHECK(!scratch->output && scratch->written);
    CHECK(out2->output && out2->allclose && out2->atol == 0.5 && out2->rtol == 1e-5);
    CHECK(!out->allclose && out->tolerance == 1e-4);
    CHECK(bytes->allclose && bytes->atol == 1e-6 && bytes->rtol == 0);
    cutune_kernel_free(k);

    /* a tolerance that is no number >= 0 is refused, naming it */
    static const char *const bad[] = {"\"Atol\": -1", "\"Rtol\": \"x\"", "\"Tolerance\": -0.5"};
    for (int b = 0; b < 3; b++) {
        char text[512];
        snprintf(text, sizeof text, "{\"ConfigurationSpace\": {\"TuningParameters\": "
                 "[{\"Name\": \"x\", \"Values\": [1]}]}, \"KernelSpecification\": "
                 "{\"KernelName\": \"k\", \"ProblemSize\": [4], \"Arguments\": [{\"Name\": "
                 "\"o\", \"Type\": \"float\", \"Size\": 4, \"Output\": 1, %s}]}}", bad[b]);
        write_file("bad_tol.json", text, strlen(text));
        cutune_space *s2 = NULL;
        CHECK_INT(cutune_space_load_t1(&s2, at("bad_tol.json")), CUTUNE_OK);
        CHECK_INT(cutune_kernel_load_t1(at("bad_tol.json"), s2, &k), CUTUNE_EINVAL);
        CHECK_HAS(cutune_last_error(), "must be a number >= 0");
        cutune_space_free(s2);
    }
    cutune_space_free(sp);
}

static void test_answer_files(void)
{
    cutune_space *sp;
    cutune_kernel *k = load_kernel(write_spec("answers.json", 0, NULL), &sp);
    if (!k) {
        cutune_space_free(sp);
        return;
    }
    float v[32]; /* (the bad files below take up to 20) */
    for (int i = 0; i < 32; i++)
        v[i] = (float)i * 0.5f;
    void *data = NULL;
    size_t bytes = 0;
    /* raw: exactly 16 floats */
    write_file("out.bin", v, 16 * sizeof(float));
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("out.bin"), &data, &bytes), CUTUNE_OK);
    CHECK_INT(bytes, 64);
    CHECK(data && memcmp(data, v, 64) == 0);
    free(data);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("out.bin"), NULL, NULL), CUTUNE_OK);
    write_file("short.bin", v, 15 * sizeof(float));
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("short.bin"), &data, &bytes),
              CUTUNE_EINVAL);
    CHECK(data == NULL);
    CHECK_HAS(cutune_last_error(), "short.bin: the answer for out has 60 bytes, where out is "
                                   "16 float elements of 4 bytes: 64 bytes");
    write_file("long.bin", v, 17 * sizeof(float));
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("long.bin"), NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "has 68 bytes");

    /* .npy: good, in versions 1 to 3 */
    write_npy("good.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", v,
              64);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("good.npy"), &data, &bytes), CUTUNE_OK);
    CHECK(data && bytes == 64 && memcmp(data, v, 64) == 0);
    free(data);
    write_npy("good3.npy", 3, "{'descr': '<f4', 'fortran_order': True, 'shape': (16, 1), }",
              v, 64);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("good3.npy"), NULL, NULL), CUTUNE_OK);
    unsigned char b10[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    write_npy("bytes.npy", 2, "{'descr': '|u1', 'fortran_order': False, 'shape': (10,), }",
              b10, 10);
    CHECK_INT(cutune_kernel_read_answer(k, "bytes", at("bytes.npy"), &data, &bytes), CUTUNE_OK);
    CHECK(data && bytes == 10 && memcmp(data, b10, 10) == 0);
    free(data);
    /* a file with .npy's magic is .npy whatever its name */
    write_npy("npy.dat", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }", v,
              64);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("npy.dat"), NULL, NULL), CUTUNE_OK);

    /* .npy: wrong, each said with the file, the argument, expected and found */
    static const struct {
        const char *dict;
        size_t len;
        const char *why;
    } bad[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (16,), }", 64,
         "has dtype '<f8', where out is float ('<f4'): save it with numpy as "
         "a.astype('<f4')"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (16,), }", 64,
         "dtype '>f4' (big-endian: cutune reads little-endian data)"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (16,), }", 64, "dtype '<i4'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4, 5), }", 80,
         "has 20 elements (shape (4, 5)), where out has 16"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (4, 4), }", 64,
         "Fortran order with shape (4, 4)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }", 60,
         "is cut short: 60 bytes of data, where its header says 64"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }", 68,
         "has bytes after its data: 68 bytes"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        write_npy("bad.npy", 1, bad[b].dict, v, bad[b].len);
        CHECK_INT(cutune_kernel_read_answer(k, "out", at("bad.npy"), &data, &bytes),
                  CUTUNE_EINVAL);
        CHECK(data == NULL);
        CHECK_HAS(cutune_last_error(), "bad.npy: the answer for out");
        CHECK_HAS(cutune_last_error(), bad[b].why);
    }
    /* a truncated header, and garbage named .npy */
    write_file("trunc.npy", "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'", 26);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("trunc.npy"), NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "trunc.npy: the answer for out: the .npy header is cut short");
    write_file("garbage.npy", "GIF89a garbage", 14);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("garbage.npy"), NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "garbage.npy: the answer for out: not a .npy file");
    write_file("empty.npy", "", 0);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("empty.npy"), NULL, NULL), CUTUNE_EINVAL);

    /* not an output, not an argument, not a file */
    CHECK_INT(cutune_kernel_read_answer(k, "in", at("out.bin"), NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "'in' is no output");
    CHECK_INT(cutune_kernel_read_answer(k, "scratch", at("out.bin"), NULL, NULL),
              CUTUNE_EINVAL);
    CHECK_INT(cutune_kernel_read_answer(k, "n", at("out.bin"), NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "a scalar");
    CHECK_INT(cutune_kernel_read_answer(k, "nope", at("out.bin"), NULL, NULL),
              CUTUNE_ENOTFOUND);
    CHECK_INT(cutune_kernel_read_answer(k, "out", at("missing.bin"), NULL, NULL), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "missing.bin: cannot read the answer for out");
    CHECK_INT(cutune_kernel_read_answer(k, "out", dir, NULL, NULL), CUTUNE_EIO);
    CHECK_INT(cutune_kernel_read_answer(NULL, "out", at("out.bin"), NULL, NULL), CUTUNE_EINVAL);
    cutune_kernel_free(k);
    cutune_space_free(sp);
}

/* ------------------------------------------------- what a session says it compares ---- */

static cutune_session *session(const char *spec)
{
    cutune_session *s = NULL;
    cutune_session_options so = {.device = -1};
    CHECK_INT(cutune_session_new(&s, spec, NULL, &so), CUTUNE_OK);
    return s;
}

static const char *said(cutune_session *s, cutune_verify *mode)
{
    static char buf[1024];
    buf[0] = '\0';
    int st = cutune_session_verification(s, mode, buf, sizeof buf);
    if (st)
        snprintf(buf, sizeof buf, "status %d: %s", st, cutune_last_error());
    return buf;
}

static int constant_cost(const uint32_t *c, void *user, double *value, const char **failure)
{
    (void)c, (void)user, (void)failure;
    *value = 1;
    return 0;
}

static void test_session_words(void)
{
    write_file("k.cu", "__global__ void k() {}\n", 23);
    float v[16] = {0};
    write_file("out.bin", v, sizeof v);
    cutune_session *s = session(write_spec("words.json", 0, NULL));
    if (!s)
        return;
    cutune_verify mode = -1;
    CHECK_HAS(said(s, &mode), "verifying out (|x - ref| <= 0.0001 * max(1, |ref|)), out2 "
                              "(|x - ref| <= 0.5 + 1e-05 * |ref|) and bytes (|x - ref| <= "
                              "1e-06) against the default configuration's output; written, "
                              "without \"Output\", not compared: scratch");
    CHECK_INT(mode, CUTUNE_VERIFY_DEFAULT);
    /* --atol for every output: Kernel Tuner's test, the rest from each spec */
    CHECK_INT(cutune_session_set_tolerance(s, NULL, 1e-3, NAN), CUTUNE_OK);
    CHECK_HAS(said(s, NULL), "verifying out (|x - ref| <= 0.001 + 1e-05 * |ref|), out2 "
                             "(|x - ref| <= 0.001 + 1e-05 * |ref|) and bytes (|x - ref| <= "
                             "0.001) against");
    CHECK_INT(cutune_session_set_tolerance(s, NULL, NAN, 0), CUTUNE_OK);
    CHECK_HAS(said(s, NULL), "verifying out, out2 and bytes against the default "
                             "configuration's output (|x - ref| <= 0.001)");
    CHECK_INT(cutune_session_set_tolerance(s, "out2", 0, 1e-2), CUTUNE_OK);
    CHECK_HAS(said(s, NULL), "out2 (|x - ref| <= 0.01 * |ref|)");
    CHECK_INT(cutune_session_set_tolerance(s, NULL, -1, NAN), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_set_tolerance(s, NULL, INFINITY, NAN), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_set_tolerance(s, "in", 1, 1), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "'in' is not an output");
    CHECK_INT(cutune_session_set_tolerance(s, "nope", 1, 1), CUTUNE_ENOTFOUND);
    /* none */
    CHECK_INT(cutune_session_set_verify(s, CUTUNE_VERIFY_NONE), CUTUNE_OK);
    CHECK_HAS(said(s, &mode), "comparing no outputs: verification is off");
    CHECK_INT(mode, CUTUNE_VERIFY_NONE);
    CHECK_INT(cutune_session_set_verify(s, (cutune_verify)7), CUTUNE_EINVAL);
    /* answers: none given is said when it is decided */
    CHECK_INT(cutune_session_set_verify(s, CUTUNE_VERIFY_ANSWERS), CUTUNE_OK);
    CHECK_HAS(said(s, NULL), "no answer was given");
    /* a file named (this session measures nothing itself: the file is checked, and named) */
    CHECK_INT(cutune_session_load_answer(s, "out", at("out.bin")), CUTUNE_OK);
    CHECK_HAS(said(s, &mode), "verifying out against ");
    CHECK_HAS(said(s, NULL), "out.bin (|x - ref| <= 0.001); no answer, not compared: out2, "
                             "bytes; written, without \"Output\", not compared: scratch");
    CHECK_INT(mode, CUTUNE_VERIFY_ANSWERS);
    CHECK_INT(cutune_session_load_answer(s, "out2", at("out.bin")), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "the answer for out2 has 64 bytes, where out2 is 4 double "
                                   "elements of 8 bytes: 32 bytes");
    CHECK_INT(cutune_session_load_answer(s, "scratch", at("out.bin")), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_set_reference(s, "out", v, sizeof v), CUTUNE_ENOTSUP);
    CHECK(cutune_session_kernel(s) != NULL);
    cutune_session_free(s);

    /* no default configuration: nothing to take a reference from */
    s = session(write_spec("nodefault.json", 1, NULL));
    CHECK_HAS(said(s, &mode), "comparing no outputs: the space has no default configuration");
    CHECK_INT(mode, CUTUNE_VERIFY_DEFAULT);
    cutune_session_free(s);

    /* a custom objective has nothing to compare */
    cutune_space *sp;
    CHECK_INT(cutune_space_new(&sp), CUTUNE_OK);
    CHECK_INT(cutune_space_add_int(sp, "x", (int64_t[]){1, 2}, 2), CUTUNE_OK);
    CHECK_INT(cutune_session_new_objective(&s, sp, "o", constant_cost, NULL), CUTUNE_OK);
    CHECK_HAS(said(s, &mode), "comparing no outputs: a custom objective has none");
    CHECK_INT(mode, CUTUNE_VERIFY_NONE);
    CHECK_INT(cutune_session_set_tolerance(s, NULL, 1, 1), CUTUNE_ENOTSUP);
    CHECK_INT(cutune_session_load_answer(s, "out", at("out.bin")), CUTUNE_ENOTSUP);
    CHECK(cutune_session_kernel(s) == NULL);
    cutune_session_free(s);
    cutune_space_free(sp);
    CHECK_INT(cutune_session_verification(NULL, NULL, NULL, 0), CUTUNE_EINVAL);
    CHECK_INT(cutune_session_set_verify(NULL, CUTUNE_VERIFY_NONE), CUTUNE_EINVAL);
    CHECK(cutune_session_kernel(NULL) == NULL);
}

static void test_reference_arguments(void)
{
    write_file("k.cu", "__global__ void k() {}\n", 23); /* the spec's KernelFile */
    float v[16] = {0};
    write_file("ref_out.bin", v, sizeof v);
    cutune_session *s = session(write_spec(
        "refs.json", 0,
        "[{\"Name\": \"r1\", \"TargetName\": \"out\", \"FillType\": \"BinaryRaw\", "
        "\"DataSource\": \"ref_out.bin\", \"ValidationMethod\": \"AbsoluteDifference\", "
        "\"ValidationThreshold\": 0.01},"
        "{\"Name\": \"r2\", \"TargetName\": \"out2\", \"FillType\": \"Constant\", "
        "\"FillValue\": 2, \"ValidationMethod\": \"SideBySideRelativeComparison\", "
        "\"ValidationThreshold\": 0.001},"
        "{\"Name\": \"r3\", \"TargetName\": \"bytes\", \"FillType\": \"Random\"}]"));
    if (!s)
        return;
    cutune_verify mode;
    const char *text = said(s, &mode);
    CHECK_INT(mode, CUTUNE_VERIFY_ANSWERS);
    CHECK_HAS(text, "verifying out against the spec's ReferenceArguments (|x - ref| <= 0.01), "
                    "out2 against the spec's ReferenceArguments (|x - ref| <= 0.001 * |ref|)");
    CHECK_HAS(text, "no answer, not compared: bytes");
    CHECK_HAS(text, "ReferenceArguments[2] (FillType Random) is not used: cutune reads "
                    "BinaryRaw and Constant");
    /* --verify default over them; --atol over their thresholds */
    CHECK_INT(cutune_session_set_verify(s, CUTUNE_VERIFY_DEFAULT), CUTUNE_OK);
    CHECK_HAS(said(s, &mode), "against the default configuration's output");
    CHECK_INT(cutune_session_set_verify(s, CUTUNE_VERIFY_AUTO), CUTUNE_OK);
    CHECK_INT(cutune_session_set_tolerance(s, "out", 0.25, 0), CUTUNE_OK);
    CHECK_HAS(said(s, NULL), "verifying out against the spec's ReferenceArguments (|x - ref| "
                             "<= 0.25)");
    cutune_session_free(s);

    /* what is wrong in them is said, with where */
    static const struct {
        const char *refs, *why;
    } bad[] = {
        {"{}", "ReferenceArguments must be a list"},
        {"[{\"FillType\": \"Constant\"}]", "ReferenceArguments[0] has no TargetName"},
        {"[{\"TargetName\": \"nope\", \"FillType\": \"Constant\"}]",
         "ReferenceArguments[0]: TargetName: the kernel has no argument 'nope'"},
        {"[{\"TargetName\": \"in\", \"FillType\": \"Constant\"}]", "'in' is not an output"},
        {"[{\"TargetName\": \"out\", \"FillType\": \"BinaryRaw\"}]", "needs a DataSource"},
        {"[{\"TargetName\": \"out\", \"FillType\": \"BinaryRaw\", \"DataSource\": "
         "\"missing.bin\"}]", "missing.bin: cannot read the answer for out"},
        {"[{\"TargetName\": \"out2\", \"FillType\": \"BinaryRaw\", \"DataSource\": "
         "\"ref_out.bin\"}]", "the answer for out2 has 64 bytes"},
        {"[{\"TargetName\": \"out\", \"FillType\": \"Constant\", \"ValidationMethod\": "
         "\"Eyeball\"}]", "ValidationMethod is AbsoluteDifference"},
        {"[{\"TargetName\": \"out\", \"FillType\": \"Constant\", \"ValidationThreshold\": "
         "-1}]", "ValidationThreshold must be a number >= 0"},
        {"[{\"TargetName\": \"out\", \"FillType\": \"Constant\"}, {\"TargetName\": \"out\", "
         "\"FillType\": \"Constant\"}]", "ReferenceArguments[1]: a second answer for 'out'"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        s = session(write_spec("badrefs.json", 0, bad[b].refs));
        CHECK_HAS(said(s, NULL), bad[b].why);
        /* --verify none does not read them */
        CHECK_INT(cutune_session_set_verify(s, CUTUNE_VERIFY_NONE), CUTUNE_OK);
        CHECK_HAS(said(s, NULL), "comparing no outputs: verification is off");
        cutune_session_free(s);
    }
}

/* ------------------------------------------------------------ cutune tune's options ---- */

static void test_cli_options(void)
{
    tune_args a = {.atol = NAN, .rtol = NAN};
    CHECK_INT(tune_parse_opt(&a, "verify", "none"), 0);
    CHECK_INT(tune_parse_opt(&a, "verify", "x.npy"), EXIT_USAGE);
    CHECK_HAS(usage_said, "goes with no other --verify");
    CHECK_INT(tune_parse_opt(&a, "atol", "1e-3"), 0);
    CHECK_INT(tune_check_opts(&a), EXIT_USAGE);
    CHECK_HAS(usage_said, "--verify none compares none");
    a = (tune_args){.atol = NAN, .rtol = NAN};
    CHECK_INT(tune_parse_opt(&a, "rtol", "nan"), EXIT_USAGE);
    CHECK_INT(tune_parse_opt(&a, "rtol", "-0.1"), EXIT_USAGE);
    CHECK_INT(tune_parse_opt(&a, "rtol", "1e-3x"), EXIT_USAGE);
    CHECK_HAS(usage_said, "--rtol needs a number >= 0, not '1e-3x'");
    CHECK_INT(tune_parse_opt(&a, "verify", ""), EXIT_USAGE);
    a.sim = "x.json";
    CHECK_INT(tune_parse_opt(&a, "verify", "default"), 0);
    CHECK_INT(tune_check_opts(&a), EXIT_USAGE);
    CHECK_HAS(usage_said, "a recorded space's failures are those it recorded");

    /* answer files against the spec's outputs, before any session */
    float v16[16] = {0};
    double v4[4] = {0};
    write_file("a16.bin", v16, sizeof v16);
    write_file("a4.bin", v4, sizeof v4);
    char named[300];
    snprintf(named, sizeof named, "out2=%s", at("a4.bin"));
    a = (tune_args){.atol = NAN, .rtol = NAN, .spec = write_spec("cli.json", 0, NULL)};
    CHECK_INT(tune_parse_opt(&a, "verify", at("a16.bin")), 0);
    CHECK_INT(tune_parse_opt(&a, "verify", named), 0);
    CHECK_INT(tune_check_answers(&a), EXIT_OK);
    a.nanswers = 0;
    CHECK_INT(tune_parse_opt(&a, "verify", named), 0);
    CHECK_INT(tune_parse_opt(&a, "verify", at("a16.bin")), 0);
    CHECK_INT(tune_check_answers(&a), EXIT_OK); /* a16 is the first output's */
    a.nanswers = 0;
    CHECK_INT(tune_parse_opt(&a, "verify", at("a4.bin")), 0); /* by order: out's */
    CHECK_INT(tune_check_answers(&a), EXIT_FAILED);
    CHECK_HAS(usage_said, "a4.bin: the answer for out has 32 bytes");
    a.nanswers = 0;
    for (int j = 0; j < 4; j++)
        CHECK_INT(tune_parse_opt(&a, "verify", at("a16.bin")), 0);
    CHECK_INT(tune_check_answers(&a), EXIT_USAGE);
    CHECK_HAS(usage_said, "4 answer files for 3 outputs (out, out2, bytes): give one per "
                          "output, in argument order, or NAME=FILE");
    a.nanswers = 0;
    CHECK_INT(tune_parse_opt(&a, "verify", named), 0);
    CHECK_INT(tune_parse_opt(&a, "verify", named), 0);
    CHECK_INT(tune_check_answers(&a), EXIT_USAGE);
    CHECK_HAS(usage_said, "two answer files for out2");

    /* the words when most configurations that ran failed verification */
    char buf[512];
    cutune_session_stats x = {.measured = 3, .verification_failed = 27};
    CHECK_HAS(tune_verify_note(&x, CUTUNE_VERIFY_DEFAULT, buf, sizeof buf),
              "27 of 30 configurations that ran failed verification against the default "
              "configuration's output: if the parameters legitimately change the result "
              "(hotspot's temporal tiling computes more steps), tune with --verify none, or "
              "give answer files with --verify FILE");
    CHECK_HAS(tune_verify_note(&x, CUTUNE_VERIFY_ANSWERS, buf, sizeof buf),
              "27 of 30 configurations that ran failed verification against the answers");
    CHECK_HAS(tune_verify_note(&x, -1, buf, sizeof buf), "of the recorded space");
    x = (cutune_session_stats){.measured = 10, .verification_failed = 10, .compile_failed = 50};
    CHECK(tune_verify_note(&x, CUTUNE_VERIFY_DEFAULT, buf, sizeof buf) == NULL); /* half */
    x.runtime_failed = 1;
    CHECK(tune_verify_note(&x, CUTUNE_VERIFY_DEFAULT, buf, sizeof buf) == NULL);
    x = (cutune_session_stats){.verification_failed = 1};
    CHECK(tune_verify_note(&x, CUTUNE_VERIFY_DEFAULT, buf, sizeof buf) != NULL);
    x = (cutune_session_stats){.measured = 5};
    CHECK(tune_verify_note(&x, CUTUNE_VERIFY_DEFAULT, buf, sizeof buf) == NULL);
}

static int setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cutune-verify-XXXXXX");
    if (make_test_dir(dir))
        return 1;
    return 0;
}

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(test_pass_tests) TEST_CASE(test_npy_headers) TEST_CASE(test_spec_rules)
          TEST_CASE(test_answer_files) TEST_CASE(test_session_words)
          TEST_CASE(test_reference_arguments) TEST_CASE(test_cli_options));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
