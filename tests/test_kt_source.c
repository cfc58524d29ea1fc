/* test_kt_source.c — kernels written for Kernel Tuner compile as they do there: the defines
 * ahead of the source (kernel_tuner, block_size_x/y/z, grid_size_x/y/z, each parameter, a
 * loop_unroll_factor as a constexpr int), a source that redefines one of them failing with
 * its line, and every header a source includes counting in the binary cache's key and the
 * profile key. The text and the header scan need no NVRTC; compiling is skipped without it. */
#include "check.h"
#include "cutune.h"
#include "includes.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/cutune-ktsource-XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *path_of(const char *name) { return test_path(dir, name); }

/* A spec of one kernel `k` over one float buffer, with these parameters (JSON text). */
static void write_spec(const char *name, const char *kernel_file, const char *params,
                       const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"ConfigurationSpace\": {\"TuningParameters\": [%s]},\n"
             " \"KernelSpecification\": {\"Language\": \"CUDA\", \"KernelName\": \"k\",\n"
             "  \"KernelFile\": \"%s\", \"ProblemSize\": [4096]%s,\n"
             "  \"Arguments\": [{\"Name\": \"a\", \"Type\": \"float\", \"MemoryType\": "
             "\"Vector\", \"Size\": 4096, \"FillType\": \"Random\", \"Output\": 1}]}}\n",
             params, kernel_file, extra ? extra : "");
    write_file(name, text);
}

typedef struct loaded {
    cutune_space *space;
    cutune_kernel *kernel;
    char *source;
} loaded;

static int load(const char *spec, const char *cu, loaded *l)
{
    memset(l, 0, sizeof *l);
    int st = cutune_space_load_t1(&l->space, path_of(spec));
    if (!st)
        st = cutune_kernel_load_t1(path_of(spec), l->space, &l->kernel);
    if (!st && !(l->source = ct_read_text(path_of(cu), 1 << 20, NULL)))
        st = CUTUNE_EIO;
    return st;
}

static void unload(loaded *l)
{
    free(l->source);
    cutune_kernel_free(l->kernel);
    cutune_space_free(l->space);
}

static ct_kernel_source source_of(const loaded *l, const char *cu)
{
    return (ct_kernel_source){.space = l->space, .kernel = l->kernel, .source = l->source,
                              .source_name = path_of(cu), .arch = "sm_90", .cache_dir = dir};
}

/* ------------------------------------------------------------------- the text ---- */

/* A kernel with the defines of Kernel Tuner's that it uses, and its spec: p.cu, p.json. */
static void write_p_kernel(void)
{
    write_file("p.cu", "#ifndef kernel_tuner\n#define block_size_x 32\n#endif\n"
                       "extern \"C\" __global__ void k(float *a) {\n"
                       "  #pragma unroll loop_unroll_factor_0\n"
                       "  for (int i = 0; i < 8; i++) a[i] += grid_size_x;\n"
                       "  # pragma  unroll loop_unroll_factor_1 // kept\n"
                       "  for (int i = 0; i < 8; i++) a[i] += 1;\n}\n");
    write_spec("p.json", "p.cu",
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[128, 256]\", "
               "\"Default\": 128},"
               "{\"Name\": \"loop_unroll_factor_0\", \"Type\": \"int\", \"Values\": \"[0, 4]\", "
               "\"Default\": 0},"
               "{\"Name\": \"loop_unroll_factor_1\", \"Type\": \"int\", \"Values\": \"[2]\", "
               "\"Default\": 2},"
               "{\"Name\": \"layout\", \"Type\": \"string\", \"Values\": \"['row', 'col']\", "
               "\"Default\": \"row\"}",
               NULL);
}

static void prefix_text(void)
{
    write_p_kernel();
    loaded l;
    CHECK_INT(load("p.json", "p.cu", &l), CUTUNE_OK);
    if (!l.source)
        return;
    ct_kernel_source ks = source_of(&l, "p.cu");
    uint32_t config[4] = {1, 0, 0, 1}; /* 256, 0, 2, col */
    int64_t problem[3] = {4096, 1, 1};
    ct_config_text t;
    CHECK_INT(ct_config_source(&ks, config, problem, &t), CUTUNE_OK);
    /* Kernel Tuner's order: grid, block, parameters, kernel_tuner; each name once */
    const char *want = "#line 1 \"cutune-defines\"\n"
                       "#define grid_size_x 16\n#define block_size_x 256\n"
                       "#define block_size_y 1\n#define block_size_z 1\n"
                       "constexpr int loop_unroll_factor_1 = 2;\n#define layout col\n"
                       "#define kernel_tuner 1\n#line 1 \"";
    CHECK(t.source && strncmp(t.source, want, strlen(want)) == 0);
    CHECK_HAS(t.source, "p.cu\"\n#ifndef kernel_tuner\n");
    CHECK(!strstr(t.source, "grid_size_y")); /* only what the source uses */
    /* 0 lets the compiler choose: that pragma goes, its line stays; the other is kept */
    CHECK(!strstr(t.source, "unroll loop_unroll_factor_0"));
    CHECK_HAS(t.source, "# pragma  unroll loop_unroll_factor_1 // kept");
    const char *body = strstr(t.source ? t.source : "", "\n#ifndef");
    int lines = 0;
    for (const char *c = body ? body + 1 : NULL; c && *c; c++)
        lines += *c == '\n';
    CHECK_INT(lines, 9); /* the source's 9 lines, none lost */
    /* the names a source must not redefine: not the constexpr ones */
    int has_block = 0, has_unroll = 0;
    for (size_t i = 0; i < t.nnames; i++) {
        has_block += strcmp(t.names[i], "block_size_x") == 0;
        has_unroll += strstr(t.names[i], "loop_unroll") != NULL;
    }
    CHECK_INT(has_block, 1);
    CHECK_INT(has_unroll, 0);
    ct_config_text_free(&t);

    /* a binary depends on the size when the source reads grid_size_x */
    int sized = 0;
    CHECK_INT(ct_config_sized(&ks, &sized), CUTUNE_OK);
    CHECK_INT(sized, 1);
    unload(&l);
}

/* -------------------------------------------------------------- the header scan ---- */

static void header_scan(void)
{
    char sub[600];
    snprintf(sub, sizeof sub, "%s/inc", dir);
    mkdir(sub, 0755);
    write_file("inc/a.h", "#pragma once\n#include \"b.h\"\n#define A_WORD grid_size_z\n");
    write_file("inc/b.h", "#include \"a.h\" /* a cycle: read once */\n#include <c.h>\n");
    write_file("c.h", "// #include \"never.h\"\n/* #include \"never.h\" */\nint c;\n");
    write_file("never.h", "int never;\n");
    write_file("pre.h", "int pre;\n");
    const char *src = "#include \"inc/a.h\"\n  #  include   \"missing.h\"\n#include MACRO\n";
    char opt_i[600], opt_pre[600];
    snprintf(opt_i, sizeof opt_i, "-I%s", dir);
    snprintf(opt_pre, sizeof opt_pre, "--pre-include=%s/pre.h", dir);
    const char *opts[] = {opt_i, opt_pre};
    const char *watch[] = {"grid_size_x", "grid_size_z"};
    ct_includes inc;
    CHECK_INT(ct_includes_scan(src, strlen(src), path_of("main.cu"), opts, 2, NULL, 0, watch, 2,
                               &inc),
              CUTUNE_OK);
    CHECK_INT(inc.n, 4); /* pre.h, a.h, b.h, c.h (through -I); never.h nor missing.h */
    for (size_t i = 0; i < inc.n; i++)
        CHECK(!strstr(inc.files[i].path, "never") && !strstr(inc.files[i].path, "missing"));
    CHECK_INT(inc.mentions, 2); /* grid_size_z, in a.h */
    ct_includes_free(&inc);

    /* the toolkit's folders are neither hashed nor followed */
    const char *sys[] = {sub};
    CHECK_INT(ct_includes_scan(src, strlen(src), path_of("main.cu"), opts, 1, sys, 1, NULL, 0,
                               &inc),
              CUTUNE_OK);
    CHECK_INT(inc.n, 0);
    ct_includes_free(&inc);

    /* a header that includes itself without a guard, through distinct names: read once */
    write_file("self.h", "#include \"./self.h\"\n");
    const char *self = "#include \"self.h\"\n";
    CHECK_INT(ct_includes_scan(self, strlen(self), path_of("m.cu"), NULL, 0, NULL, 0, NULL, 0,
                               &inc),
              CUTUNE_OK);
    CHECK_INT(inc.n, 1);
    ct_includes_free(&inc);

    /* too deep: a chain of 70 distinct headers */
    for (int i = 0; i < 70; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "d%d.h", i);
        snprintf(text, sizeof text, "#include \"d%d.h\"\n", i + 1);
        write_file(name, text);
    }
    const char *deep = "#include \"d0.h\"\n";
    CHECK_INT(ct_includes_scan(deep, strlen(deep), path_of("m.cu"), NULL, 0, NULL, 0, NULL, 0,
                               &inc),
              CUTUNE_ETOOBIG);
    CHECK_HAS(cutune_last_error(), "64 deep");
}

/* h.cu, whose shared memory pad.h sizes, and its spec h.json */
static void write_h_kernel(void)
{
    write_file("h.cu", "#include \"pad.h\"\nextern \"C\" __global__ void k(float *a) {\n"
                       "  __shared__ float s[block_size_x + PAD];\n"
                       "  s[threadIdx.x] = a[threadIdx.x];\n  __syncthreads();\n"
                       "  a[threadIdx.x] = s[(threadIdx.x + 1) % block_size_x];\n}\n");
    write_spec("h.json", "h.cu",
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[256]\", "
               "\"Default\": 256}",
               NULL);
}

/* An edited header is another profile key; a source without headers keeps the key it had. */
static void profile_key(void)
{
    write_file("pad.h", "#define PAD 16\n");
    write_h_kernel();
    loaded l;
    CHECK_INT(load("h.json", "h.cu", &l), CUTUNE_OK);
    if (!l.source)
        return;
    char before[33], after[33], plain[33];
    CHECK_INT(cutune_kernel_source_hash(l.kernel, l.source, strlen(l.source), before),
              CUTUNE_OK);
    write_file("pad.h", "#define PAD 4096\n");
    CHECK_INT(cutune_kernel_source_hash(l.kernel, l.source, strlen(l.source), after),
              CUTUNE_OK);
    CHECK(strcmp(before, after) != 0);
    const char *alone = "__global__ void k() {}\n";
    CHECK_INT(cutune_kernel_source_hash(l.kernel, alone, strlen(alone), before), CUTUNE_OK);
    cutune_source_hash(alone, strlen(alone), plain);
    CHECK(strcmp(before, plain) == 0);
    unload(&l);
}

/* ---------------------------------------------------- the public face, no NVRTC ---- */

/* cutune_config_source gives what ct_config_source gives; the request is checked. */
static void public_source(void)
{
    loaded l;
    write_p_kernel();
    CHECK_INT(load("p.json", "p.cu", &l), CUTUNE_OK);
    if (!l.source)
        return;
    ct_kernel_source ks = source_of(&l, "p.cu");
    uint32_t config[4] = {1, 0, 0, 1};
    int64_t problem[3] = {4096, 1, 1};
    ct_config_text t;
    CHECK_INT(ct_config_source(&ks, config, problem, &t), CUTUNE_OK);
    cutune_config_request req = {.space = l.space, .kernel = l.kernel, .config = config,
                                 .problem = problem, .source = l.source,
                                 .source_name = path_of("p.cu")};
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(cutune_config_source(&req, &text, &len), CUTUNE_OK);
    CHECK(text && t.source && len == t.len && strcmp(text, t.source) == 0);
    free(text);
    /* no problem size: the spec's (4096: grid 16 at block 256) */
    req.problem = NULL;
    CHECK_INT(cutune_config_source(&req, &text, &len), CUTUNE_OK);
    CHECK(text && t.source && strcmp(text, t.source) == 0);
    free(text);
    ct_config_text_free(&t);
    /* another size: another grid */
    int64_t half[3] = {2048, 1, 1};
    req.problem = half;
    CHECK_INT(cutune_config_source(&req, &text, &len), CUTUNE_OK);
    CHECK_HAS(text, "#define grid_size_x 8\n");
    free(text);
    /* what it cannot go without */
    req.source = NULL;
    text = (char *)"untouched";
    CHECK_INT(cutune_config_source(&req, &text, &len), CUTUNE_EINVAL);
    CHECK(text == NULL);
    CHECK_INT(cutune_config_source(NULL, &text, &len), CUTUNE_EINVAL);
    req.source = l.source;
    CHECK_INT(cutune_config_source(&req, NULL, &len), CUTUNE_EINVAL);
    cutune_binary *bin = (cutune_binary *)&req;
    CHECK_INT(cutune_compile_config(NULL, &bin), CUTUNE_EINVAL);
    CHECK(bin == NULL);
    CHECK_INT(cutune_compile_config(&req, NULL), CUTUNE_EINVAL);
    unload(&l);
}

/* The compiler's own lines of a log: warnings and the source lines they show, not ptxas's
 * report or NVRTC's closing remark. */
static void public_messages(void)
{
    const char *log = "h.cu(3): warning #177-D: variable \"x\" was declared but never "
                      "referenced\n    int x;\n        ^\n\n"
                      "ptxas info    : Used 8 registers\n"
                      "Remark: The warnings can be suppressed with \"-diag-suppress "
                      "<warning-number>\"\n";
    char *lines = NULL;
    CHECK_INT(cutune_compiler_messages(log, 1, &lines), CUTUNE_OK);
    CHECK(lines && strcmp(lines, "h.cu(3): warning #177-D: variable \"x\" was declared but "
                                 "never referenced\n    int x;\n        ^") == 0);
    free(lines);
    const char *quiet = "ptxas info    : Used 8 registers\n";
    lines = (char *)"untouched";
    CHECK_INT(cutune_compiler_messages(quiet, 1, &lines), CUTUNE_OK);
    CHECK(lines == NULL); /* no warning: nothing */
    CHECK_INT(cutune_compiler_messages(quiet, 0, &lines), CUTUNE_OK);
    CHECK(lines == NULL); /* only ptxas: nothing of the compiler's */
    CHECK_INT(cutune_compiler_messages("k.cu(1): error: x\n", 1, &lines), CUTUNE_OK);
    CHECK(lines == NULL); /* warnings only */
    CHECK_INT(cutune_compiler_messages("k.cu(1): error: x\n", 0, &lines), CUTUNE_OK);
    CHECK(lines && strcmp(lines, "k.cu(1): error: x") == 0);
    free(lines);
    CHECK_INT(cutune_compiler_messages(NULL, 0, &lines), CUTUNE_OK);
    CHECK(lines == NULL);
    CHECK_INT(cutune_compiler_messages(log, 0, NULL), CUTUNE_EINVAL);
}

/* Files as cutune keeps its own: read whole, folders made on the way, a new file beside a
 * destination with the destination's mode. */
static void public_files(void)
{
    write_p_kernel();
    char *text = NULL, *same = ct_read_text(path_of("p.cu"), 1 << 20, NULL);
    size_t len = 0;
    CHECK_INT(cutune_read_file(path_of("p.cu"), 1 << 20, &text, &len), CUTUNE_OK);
    CHECK(text && same && len == strlen(same) && strcmp(text, same) == 0);
    free(text);
    free(same);
    CHECK_INT(cutune_read_file(path_of("p.cu"), 1 << 20, &text, NULL), CUTUNE_OK);
    free(text);
    CHECK_INT(cutune_read_file(path_of("none.cu"), 1 << 20, &text, &len), CUTUNE_EIO);
    CHECK(text == NULL);
    CHECK_HAS(cutune_last_error(), "none.cu: cannot open");
    char big[70000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file("big.txt", big);
    CHECK_INT(cutune_read_file(path_of("big.txt"), 65536, &text, &len), CUTUNE_ETOOBIG);
    CHECK_INT(cutune_read_file(NULL, 1 << 20, &text, &len), CUTUNE_EINVAL);
    CHECK_INT(cutune_read_file(path_of("p.cu"), 1 << 20, NULL, &len), CUTUNE_EINVAL);

    struct stat sb;
    CHECK_INT(cutune_make_dirs(path_of("made/on/the/way")), CUTUNE_OK);
    CHECK(stat(path_of("made/on/the/way"), &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK_INT(cutune_make_dirs(path_of("made/on")), CUTUNE_OK); /* there already */
    write_file("made/file", "not a folder\n");
    CHECK_INT(cutune_make_dirs(path_of("made/file/below")), CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "cannot make the folder ");
    CHECK_HAS(cutune_last_error(), "made/file/below");
    CHECK_INT(cutune_make_dirs(path_of("made/file")), CUTUNE_EIO); /* a file, no folder */
    CHECK_INT(errno, ENOTDIR);
    CHECK_HAS(cutune_last_error(), "made/file: ");
    CHECK_INT(cutune_make_dirs(""), CUTUNE_EIO);
    CHECK_INT(cutune_make_dirs(NULL), CUTUNE_EINVAL);

    const char *dest = path_of("made/kept.txt");
    write_file("made/kept.txt", "what was there\n");
    CHECK(chmod(dest, 0640) == 0);
    char tmp[600];
    int fd = -1;
    CHECK_INT(cutune_create_beside(dest, tmp, sizeof tmp, &fd), CUTUNE_OK);
    CHECK(fd >= 0);
    CHECK(strncmp(tmp, dest, strlen(dest)) == 0 && strstr(tmp, ".tmp-") != NULL);
    CHECK(fstat(fd, &sb) == 0 && (sb.st_mode & 0777) == 0640); /* the destination's mode */
    CHECK(write(fd, "new\n", 4) == 4);
    CHECK(close(fd) == 0 && rename(tmp, dest) == 0);
    char *now = ct_read_text(dest, 1024, NULL);
    CHECK(now && strcmp(now, "new\n") == 0);
    free(now);
    CHECK_INT(cutune_create_beside(path_of("nowhere/x.txt"), tmp, sizeof tmp, &fd), CUTUNE_EIO);
    CHECK(fd == -1);
    CHECK_HAS(cutune_last_error(), "cannot write ");
    CHECK_HAS(cutune_last_error(), "nowhere/x.txt: ");
    CHECK_INT(cutune_create_beside(dest, tmp, strlen(dest) + 15, &fd), CUTUNE_EINVAL);
    CHECK_INT(cutune_create_beside(dest, tmp, sizeof tmp, NULL), CUTUNE_EINVAL);

    /* and the one knob of the linear algebra */
    CHECK_INT(cutune_set_math_threads(1), CUTUNE_OK);
    CHECK_INT(cutune_set_math_threads(0), CUTUNE_EINVAL);
}

/* --------------------------------------------------------------- with NVRTC ---- */

/* a case that compiles: skipped without NVRTC */
#define NEEDS_NVRTC()                                                                   \
    do {                                                                                \
        int major_, minor_;                                                             \
        if (cutune_nvrtc_version(&major_, &minor_) != CUTUNE_OK)                        \
            SKIP_CASE(cutune_last_error());                                             \
    } while (0)

static int compiled_smem(const char *spec, const char *cu, uint32_t value, size_t *smem,
                         char **log)
{
    loaded l;
    int st = load(spec, cu, &l);
    cutune_binary *bin = NULL;
    if (!st) {
        ct_kernel_source ks = source_of(&l, cu);
        uint32_t config[1] = {value};
        int64_t problem[3] = {4096, 1, 1};
        st = ct_compile_config(&ks, config, problem, &bin, log);
    }
    cutune_binary_info info;
    if (!st && cutune_binary_get_info(bin, &info) == CUTUNE_OK)
        *smem = info.static_smem;
    cutune_binary_free(bin);
    unload(&l);
    return st;
}

static void header_edit(void)
{
    NEEDS_NVRTC();
    write_file("pad.h", "#define PAD 16\n");
    write_h_kernel();
    size_t smem = 0;
    CHECK_INT(compiled_smem("h.json", "h.cu", 0, &smem, NULL), CUTUNE_OK);
    CHECK_INT(smem, (256 + 16) * 4);
    write_file("pad.h", "#define PAD 4096\n");
    CHECK_INT(compiled_smem("h.json", "h.cu", 0, &smem, NULL), CUTUNE_OK);
    CHECK_INT(smem, (256 + 4096) * 4); /* 17408: not the cached 1088 */
}

/* g.cu keeps its own block size under #ifndef kernel_tuner; r.cu sets it unguarded. */
static void write_g_kernel(void)
{
    write_file("g.cu", "#ifndef kernel_tuner\n#define block_size_x 32\n#endif\n"
                       "extern \"C\" __global__ void k(float *a) {\n"
                       "  __shared__ float s[block_size_x * grid_size_x];\n"
                       "  s[threadIdx.x] = a[threadIdx.x];\n  __syncthreads();\n"
                       "  a[threadIdx.x] = s[threadIdx.x ^ 1];\n}\n");
    write_spec("g.json", "g.cu",
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[64, 128]\"}",
               NULL);
}

static void write_r_kernel(void)
{
    write_file("r.cu", "// a kernel that sets its own block size\n#define block_size_x 32\n"
                       "extern \"C\" __global__ void k(float *a) { a[0] = block_size_x; }\n");
    write_spec("r.json", "r.cu",
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[64, 32]\"}",
               NULL);
}

static void guards_and_redefinitions(void)
{
    NEEDS_NVRTC();
    /* a default under #ifndef kernel_tuner gives way to the configuration's value */
    write_g_kernel();
    size_t smem = 0;
    CHECK_INT(compiled_smem("g.json", "g.cu", 1, &smem, NULL), CUTUNE_OK);
    CHECK_INT(smem, 128 * (4096 / 128) * 4); /* block 128, grid 32 */

    /* an unguarded one overrides it: that configuration fails, naming file and line */
    write_r_kernel();
    char *log = NULL;
    CHECK_INT(compiled_smem("r.json", "r.cu", 0, &smem, &log), CUTUNE_ECOMPILE);
    CHECK_HAS(cutune_last_error(), "r.cu:2: redefines block_size_x");
    CHECK_HAS(cutune_last_error(), "#ifndef kernel_tuner");
    CHECK_HAS(log, "incompatible redefinition");
    free(log);
    /* the same value is no redefinition */
    CHECK_INT(compiled_smem("r.json", "r.cu", 1, &smem, NULL), CUTUNE_OK);
}

static void toolkit_headers_and_logs(void)
{
    NEEDS_NVRTC();
    /* CUB from the toolkit's cccl folder */
    write_file("cub.cu", "#include <cub/block/block_reduce.cuh>\n"
                         "extern \"C\" __global__ void k(float *a) {\n"
                         "  typedef cub::BlockReduce<float, block_size_x> R;\n"
                         "  __shared__ typename R::TempStorage t;\n"
                         "  float s = R(t).Sum(a[threadIdx.x]);\n"
                         "  if (threadIdx.x == 0) a[0] = s;\n}\n");
    write_spec("cub.json", "cub.cu",
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[128]\"}", NULL);
    size_t smem = 0;
    CHECK_INT(compiled_smem("cub.json", "cub.cu", 0, &smem, NULL), CUTUNE_OK);
    CHECK(smem > 0);

    /* a failed compile: the error line in the message, the whole log for the asking */
    write_file("bad.cu", "extern \"C\" __global__ void k(float *a) {\n"
                         "  a[0] = undeclared_thing;\n}\n");
    write_spec("bad.json", "bad.cu",
               "{\"Name\": \"block_size_x\", \"Type\": \"int\", \"Values\": \"[128]\"}", NULL);
    char *log = NULL;
    CHECK_INT(compiled_smem("bad.json", "bad.cu", 0, &smem, &log), CUTUNE_ECOMPILE);
    CHECK_HAS(cutune_last_error(), "bad.cu(2): error");
    CHECK_HAS(cutune_last_error(), "undeclared_thing");
    CHECK_HAS(log, "undeclared_thing");
    free(log);
}

/* cutune_compile_config compiles as ct_compile_config does: the defines, the redefinition
 * refused with its line, the log; and without a KernelSpecification, by kernel_name. */
static void public_compile(void)
{
    NEEDS_NVRTC();
    loaded l;
    write_g_kernel();
    CHECK_INT(load("g.json", "g.cu", &l), CUTUNE_OK);
    if (!l.source)
        return;
    uint32_t config[1] = {1};
    char *log = NULL;
    cutune_config_request req = {.space = l.space, .kernel = l.kernel, .config = config,
                                 .source = l.source, .source_name = path_of("g.cu"),
                                 .arch = "sm_90", .cache_dir = dir, .log = &log};
    cutune_binary *bin = NULL;
    cutune_binary_info info;
    CHECK_INT(cutune_compile_config(&req, &bin), CUTUNE_OK);
    if (bin && cutune_binary_get_info(bin, &info) == CUTUNE_OK)
        CHECK_INT(info.static_smem, 128 * (4096 / 128) * 4); /* block 128, grid 32 */
    cutune_binary_free(bin);
    free(log);
    log = NULL;
    /* no KernelSpecification: the name given, the block from block_size_x, no grid */
    const char *plain = "extern \"C\" __global__ void k(float *a) {\n"
                        "  __shared__ float s[block_size_x];\n  s[threadIdx.x] = a[0];\n"
                        "  __syncthreads();\n  a[threadIdx.x] = s[block_size_x - 1];\n}\n";
    req.kernel = NULL;
    req.source = plain;
    req.kernel_name = "k";
    CHECK_INT(cutune_compile_config(&req, &bin), CUTUNE_OK);
    if (bin && cutune_binary_get_info(bin, &info) == CUTUNE_OK)
        CHECK_INT(info.static_smem, 128 * 4);
    cutune_binary_free(bin);
    free(log);
    unload(&l);

    write_r_kernel();
    CHECK_INT(load("r.json", "r.cu", &l), CUTUNE_OK);
    if (!l.source)
        return;
    config[0] = 0;
    log = NULL;
    req = (cutune_config_request){.space = l.space, .kernel = l.kernel, .config = config,
                                  .source = l.source, .source_name = path_of("r.cu"),
                                  .arch = "sm_90", .cache_dir = dir, .log = &log};
    bin = (cutune_binary *)&req;
    CHECK_INT(cutune_compile_config(&req, &bin), CUTUNE_ECOMPILE);
    CHECK(bin == NULL);
    CHECK_HAS(cutune_last_error(), "r.cu:2: redefines block_size_x");
    CHECK_HAS(log, "incompatible redefinition");
    char *lines = NULL;
    CHECK_INT(cutune_compiler_messages(log, 1, &lines), CUTUNE_OK);
    CHECK_HAS(lines, "incompatible redefinition");
    CHECK(!lines || !strstr(lines, "ptxas"));
    free(lines);
    free(log);
    unload(&l);
}

static int setup(void) { return make_test_dir(dir); }

static void teardown(void) { remove_test_dir(dir); }

TEST_LIST(TEST_CASE(prefix_text) TEST_CASE(header_scan) TEST_CASE(profile_key)
          TEST_CASE(public_source) TEST_CASE(public_messages) TEST_CASE(public_files)
          TEST_CASE(header_edit) TEST_CASE(guards_and_redefinitions)
          TEST_CASE(toolkit_headers_and_logs) TEST_CASE(public_compile));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, teardown); }
