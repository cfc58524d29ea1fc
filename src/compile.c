/* compile.c — one kernel configuration compiled to a cubin with NVRTC, and a disk cache of
 * the results. NVRTC is loaded with dlopen, so cutune starts on a machine without the CUDA
 * toolkit and says what is missing only when asked to compile; the toolkit's include folders
 * (CUB and the rest under cccl/) are on its path. The register count and static shared
 * memory come from the cubin, stack and spills from ptxas's verbose report, all without a
 * GPU (which is what lets a session prune a configuration before launching it). */
#include "compile_impl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cutune_binary_free(cutune_binary *b)
{
    if (!b)
        return;
    free(b->cubin);
    free(b->lowered_name);
    free(b->log);
    free(b->cache_path);
    free(b);
}

const void *cutune_binary_code(const cutune_binary *b, size_t *size)
{
    if (size)
        *size = b ? b->size : 0;
    return b ? b->cubin : NULL;
}

int cutune_binary_get_info(const cutune_binary *b, cutune_binary_info *info)
{
    if (!b || !info)
        return ct_fail(CUTUNE_EINVAL, "cutune_binary_get_info: NULL argument");
    *info = b->info;
    info->lowered_name = b->lowered_name;
    info->log = b->log ? b->log : "";
    info->cache_path = b->cache_path;
    info->ptx = b->size < 4 || memcmp(b->cubin, "\x7f" "ELF", 4) != 0;
    return CUTUNE_OK;
}

int ct_nvrtc_loaded; /* see worker.c: no worker can be forked after this */

/* The compiler's own lines of a log (ct_log_compiler_lines): *lines NULL when there are none;
 * CUTUNE_ENOMEM, with no message (the caller's may matter more), when out of memory. */
static int compiler_lines(const char *log, int warnings_only, char **lines)
{
    *lines = NULL;
    if (!log || (warnings_only && !strstr(log, ": warning")))
        return CUTUNE_OK;
    size_t n = 0;
    char *out = malloc(strlen(log) + 1);
    if (!out)
        return CUTUNE_ENOMEM;
    for (const char *line = log; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len && strncmp(line, "ptxas", 5) != 0 &&
            strncmp(line, "Remark: The warnings can be suppressed", 38) != 0) {
            memcpy(out + n, line, len);
            n += len;
            out[n++] = '\n';
        }
        line += len + (eol != NULL);
    }
    if (n)
        out[n - 1] = '\0';
    else
        free(out);
    *lines = n ? out : NULL;
    return CUTUNE_OK;
}

char *ct_log_compiler_lines(const char *log, int warnings_only)
{
    char *lines;
    return compiler_lines(log, warnings_only, &lines) ? NULL : lines;
}

int cutune_compiler_messages(const char *log, int warnings_only, char **lines)
{
    if (!lines)
        return ct_fail(CUTUNE_EINVAL, "cutune_compiler_messages: nowhere to put the lines");
    return compiler_lines(log, warnings_only, lines)
               ? ct_fail(CUTUNE_ENOMEM, "out of memory for a compiler log")
               : CUTUNE_OK;
}

#ifdef CUTUNE_HAVE_CUDA
#include <dlfcn.h>
#include <nvrtc.h>

/* ---------------------------------------------------------------- NVRTC, loaded late ---- */

static struct {
    void *lib;
    char error[256];
    int major, minor;
#define NVRTC_FUNCTIONS(X)                                                                  \
    X(nvrtcResult, nvrtcVersion, (int *, int *))                                           \
    X(const char *, nvrtcGetErrorString, (nvrtcResult))                                    \
    X(nvrtcResult, nvrtcCreateProgram,                                                     \
      (nvrtcProgram *, const char *, const char *, int, const char *const *,               \
       const char *const *))                                                               \
    X(nvrtcResult, nvrtcDestroyProgram, (nvrtcProgram *))                                  \
    X(nvrtcResult, nvrtcCompileProgram, (nvrtcProgram, int, const char *const *))          \
    X(nvrtcResult, nvrtcGetProgramLogSize, (nvrtcProgram, size_t *))                       \
    X(nvrtcResult, nvrtcGetProgramLog, (nvrtcProgram, char *))                             \
    X(nvrtcResult, nvrtcGetCUBINSize, (nvrtcProgram, size_t *))                            \
    X(nvrtcResult, nvrtcGetCUBIN, (nvrtcProgram, char *))                                  \
    X(nvrtcResult, nvrtcGetPTXSize, (nvrtcProgram, size_t *))                              \
    X(nvrtcResult, nvrtcGetPTX, (nvrtcProgram, char *))                                    \
    X(nvrtcResult, nvrtcAddNameExpression, (nvrtcProgram, const char *))                   \
    X(nvrtcResult, nvrtcGetLoweredName, (nvrtcProgram, const char *, const char **))
#define NVRTC_POINTER(ret, name, args) ret(*name) args;
    NVRTC_FUNCTIONS(NVRTC_POINTER)
#undef NVRTC_POINTER
} nv;

static void load_nvrtc(void)
{
    /* the toolkit's own first, then whatever the loader finds */
    static const char *const names[] = {CUTUNE_NVRTC_SONAME,
                                        ("/usr/local/cuda/lib64/" CUTUNE_NVRTC_SONAME),
                                        "libnvrtc.so", "/usr/local/cuda/lib64/libnvrtc.so"};
    for (size_t i = 0; i < sizeof names / sizeof *names && !nv.lib; i++)
        nv.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!nv.lib) {
        snprintf(nv.error, sizeof nv.error, "NVRTC is not installed (no %s: %s)", names[0],
                 dlerror());
        return;
    }
#define NVRTC_LOOKUP(ret, name, args)                                                       \
    if (!(*(void **)&nv.name = dlsym(nv.lib, #name))) {                                     \
        snprintf(nv.error, sizeof nv.error, "NVRTC lacks %s", #name);                       \
        return;                                                                             \
    }
    NVRTC_FUNCTIONS(NVRTC_LOOKUP)
#undef NVRTC_LOOKUP
    if (nv.nvrtcVersion(&nv.major, &nv.minor) != NVRTC_SUCCESS)
        snprintf(nv.error, sizeof nv.error, "nvrtcVersion failed");
}

static int nvrtc_ready(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_nvrtc);
    __atomic_store_n(&ct_nvrtc_loaded, 1, __ATOMIC_RELAXED);
    return nv.error[0] ? ct_fail(CUTUNE_ENOTSUP, "%s", nv.error) : CUTUNE_OK;
}

int cutune_nvrtc_version(int *major, int *minor)
{
    int st = nvrtc_ready();
    if (major)
        *major = st ? 0 : nv.major;
    if (minor)
        *minor = st ? 0 : nv.minor;
    return st;
}

/* ------------------------------------------------------------------- ptxas's report ---- */

/* The number just before `label` on the line [line, eol) (eol NULL: to the end), or -1. */
static long long number_before(const char *line, const char *eol, const char *label)
{
    const char *at = strstr(line, label);
    if (!at || (eol && at >= eol))
        return -1;
    while (at > line && at[-1] == ' ')
        at--;
    const char *end = at;
    while (at > line && at[-1] >= '0' && at[-1] <= '9')
        at--;
    return at < end ? strtoll(at, NULL, 10) : -1;
}

/* Registers, barriers, static shared memory, stack frame and spills of the entry function
 * `lowered` from ptxas's verbose log ("Used 32 registers, used 1 barriers, 4096 bytes smem"
 * and "0 bytes stack frame, 0 bytes spill stores, ..."). Where there is a cubin, the
 * registers only serve to tell whether the report is this binary's: the cubin has the word
 * on registers and shared memory. */
static void read_report(const char *log, const char *lowered, cutune_binary_info *info)
{
    char head[320];
    snprintf(head, sizeof head, "Compiling entry function '%s'", lowered);
    const char *p = strstr(log, head);
    if (!p)
        return;
    const char *next = strstr(p + 1, "Compiling entry function");
    for (const char *line = p; line && (!next || line < next); line = strchr(line + 1, '\n')) {
        const char *eol = strchr(line + 1, '\n');
        long long v;
        if ((v = number_before(line, eol, " registers")) >= 0)
            info->regs = (int)v;
        if ((v = number_before(line, eol, " barriers")) >= 0)
            info->barriers = (int)v;
        if ((v = number_before(line, eol, " bytes stack frame")) >= 0)
            info->stack_bytes = (size_t)v;
        if ((v = number_before(line, eol, " bytes spill stores")) >= 0)
            info->spill_bytes = (size_t)v;
        if ((v = number_before(line, eol, " bytes smem")) >= 0)
            info->static_smem = (size_t)v;
    }
}

/* The most static shared memory ptxas reported for any kernel of a log, in bytes. */
static size_t largest_smem(const char *log)
{
    size_t most = 0;
    for (const char *line = log; line && *line; line = strchr(line + 1, '\n')) {
        long long v = number_before(line, strchr(line + 1, '\n'), " bytes smem");
        if (v > 0 && (size_t)v > most)
            most = (size_t)v;
    }
    return most;
}

/* ------------------------------------------------------------------------ the cubin ---- */

/* ptxas's log is not enough when several threads compile at once: NVRTC may mix their reports,
 * so registers and static shared memory are read from the cubin itself. Its ELF holds the
 * register count in the .nv.info section (attribute REGCOUNT: symbol index, count) and the
 * static shared memory as the size of .nv.shared.<kernel>, which from sm_80 on includes the
 * 1 KiB the driver reserves per block. */
#define EIATTR_REGCOUNT 0x2f
#define EIFMT_SVAL 0x04

static uint64_t rd(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static int cubin_resources(const unsigned char *elf, size_t size, const char *symbol,
                           int reserved, int *regs, size_t *static_smem)
{
    if (size < 64 || memcmp(elf, "\177ELF", 4) != 0 || elf[4] != 2 || elf[5] != 1)
        return -1; /* a 64-bit little-endian ELF, please */
    uint64_t shoff = rd(elf + 0x28, 8), shentsize = rd(elf + 0x3A, 2), shnum = rd(elf + 0x3C, 2),
             shstrndx = rd(elf + 0x3E, 2);
    if (shentsize < 64 || shnum == 0 || shstrndx >= shnum || shoff > size ||
        shnum * shentsize > size - shoff)
        return -1;
#define SEC(i, field_off, bytes) rd(elf + shoff + (i) * shentsize + (field_off), bytes)
    uint64_t names = SEC(shstrndx, 0x18, 8), names_size = SEC(shstrndx, 0x20, 8);
    if (names > size || names_size > size - names)
        return -1;
    char want[320];
    snprintf(want, sizeof want, ".nv.shared.%s", symbol);
    uint64_t symtab = 0, symtab_size = 0, strtab = 0, strtab_size = 0, info = 0, info_size = 0;
    long sym_index = -1;
    *static_smem = 0;
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t n = SEC(i, 0, 4), off = SEC(i, 0x18, 8), sz = SEC(i, 0x20, 8);
        if (n >= names_size || (SEC(i, 4, 4) != 8 /* NOBITS */ && (off > size || sz > size - off)))
            return -1;
        const char *name = (const char *)elf + names + n;
        if (!memchr(name, '\0', names_size - n))
            return -1;
        if (strcmp(name, ".symtab") == 0) {
            symtab = off, symtab_size = sz;
            uint64_t link = SEC(i, 0x28, 4);
            if (link >= shnum)
                return -1;
            strtab = SEC(link, 0x18, 8), strtab_size = SEC(link, 0x20, 8);
            if (strtab > size || strtab_size > size - strtab)
                return -1;
        } else if (strcmp(name, ".nv.info") == 0) {
            info = off, info_size = sz;
        } else if (strcmp(name, want) == 0) {
            *static_smem = sz > (uint64_t)reserved ? (size_t)(sz - (uint64_t)reserved) : 0;
        }
    }
#undef SEC
    for (uint64_t k = 0; symtab && k * 24 + 24 <= symtab_size; k++) {
        uint64_t n = rd(elf + symtab + k * 24, 4);
        if (n < strtab_size && memchr(elf + strtab + n, '\0', strtab_size - n) &&
            strcmp((const char *)elf + strtab + n, symbol) == 0) {
            sym_index = (long)k;
            break;
        }
    }
    if (sym_index < 0 || !info)
        return -1;
    for (uint64_t p = info; p + 4 <= info + info_size;) {
        unsigned fmt = elf[p], attr = elf[p + 1];
        uint64_t len = rd(elf + p + 2, 2);
        p += 4;
        if (fmt != EIFMT_SVAL)
            continue; /* the value sits in the length field */
        if (p + len > info + info_size)
            return -1;
        if (attr == EIATTR_REGCOUNT && len >= 8 && (long)rd(elf + p, 4) == sym_index) {
            *regs = (int)rd(elf + p + 4, 4);
            return 0;
        }
        p += len;
    }
    return -1;
}

/* ----------------------------------------------------------------------- compiling ---- */

static int check_request(const cutune_compile_request *r)
{
    if (!r || !r->source || !r->kernel || !r->arch)
        return ct_fail(CUTUNE_EINVAL, "compile: source, kernel and arch are required");
    if ((r->num_defines && !r->defines) || (r->num_options && !r->options))
        return ct_fail(CUTUNE_EINVAL, "compile: NULL defines or options");
    cutune_arch a;
    if (strncmp(r->arch, "sm_", 3) != 0 || cutune_arch_find(r->arch, &a))
        return ct_fail(CUTUNE_EINVAL, "compile: '%.40s' is not an architecture cutune knows "
                       "(sm_50 ... sm_121)", r->arch);
    for (size_t i = 0; i < r->num_defines; i++)
        if (!r->defines[i] || !r->defines[i][0] || r->defines[i][0] == '=')
            return ct_fail(CUTUNE_EINVAL, "compile: define %zu is empty", i);
    if (!r->kernel[0])
        return ct_fail(CUTUNE_EINVAL, "compile: the kernel name is empty");
    return CUTUNE_OK;
}

/* A formatted string in new memory, or NULL. */
static char *format(const char *fmt, ...) CT_PRINTF(1, 2);
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* Compiles `src` with `opts` into a new *prog; *compiled is NVRTC's verdict and *log its
 * messages (malloc'd, replacing any before). A status only when NVRTC cannot start. */
static int compile_program(const cutune_compile_request *r, const char *name, const char *src,
                           const char **opts, int nopts, nvrtcProgram *prog,
                           nvrtcResult *compiled, char **log)
{
    nvrtcResult res = nv.nvrtcCreateProgram(prog, src, name, 0, NULL, NULL);
    if (res == NVRTC_SUCCESS)
        res = nv.nvrtcAddNameExpression(*prog, r->kernel);
    if (res != NVRTC_SUCCESS)
        return ct_fail(CUTUNE_ECOMPILE, "%s: NVRTC: %s", name, nv.nvrtcGetErrorString(res));
    *compiled = nv.nvrtcCompileProgram(*prog, nopts, opts);
    size_t log_size = 0;
    free(*log);
    *log = NULL;
    if (nv.nvrtcGetProgramLogSize(*prog, &log_size) == NVRTC_SUCCESS &&
        (*log = malloc(log_size + 1))) {
        nv.nvrtcGetProgramLog(*prog, *log);
        (*log)[log_size] = '\0';
    }
    return CUTUNE_OK;
}

/* The cubin of a compiled program, and its resources as the cubin states them. */
static int keep_cubin(const cutune_compile_request *r, nvrtcProgram prog, const char *name,
                      cutune_binary *b)
{
    if (nv.nvrtcGetCUBINSize(prog, &b->size) != NVRTC_SUCCESS || !b->size ||
        !(b->cubin = malloc(b->size)) || nv.nvrtcGetCUBIN(prog, b->cubin) != NVRTC_SUCCESS)
        return ct_fail(CUTUNE_ECOMPILE, "%s: no cubin for %s", name, r->arch);
    read_report(b->log ? b->log : "", b->lowered_name, &b->info);
    /* the cubin's word over the log's, which concurrent compilations may mix up */
    cutune_arch a;
    cutune_arch_find(r->arch, &a);
    int regs;
    size_t smem;
    if (cubin_resources((const unsigned char *)b->cubin, b->size, b->lowered_name,
                        a.cc_major >= 8 ? a.smem_reserved_per_block : 0, &regs, &smem) != 0)
        return ct_fail(CUTUNE_ECOMPILE, "%s: cannot read the resources of '%s' from the cubin",
                       name, b->lowered_name);
    if (regs != b->info.regs) /* not our report: its other figures are not ours */
        b->info.stack_bytes = b->info.spill_bytes = 0, b->info.barriers = 0;
    b->info.regs = regs;
    b->info.static_smem = smem;
    return CUTUNE_OK;
}

/* The PTX of a compiled program, and its resources from ptxas's report of the cubin NVRTC
 * refused (*sass_log, taken over as the binary's log). */
static int keep_ptx(const cutune_compile_request *r, nvrtcProgram prog, const char *name,
                    char **sass_log, cutune_binary *b)
{
    if (nv.nvrtcGetPTXSize(prog, &b->size) != NVRTC_SUCCESS || !b->size ||
        !(b->cubin = malloc(b->size)) || nv.nvrtcGetPTX(prog, b->cubin) != NVRTC_SUCCESS)
        return ct_fail(CUTUNE_ECOMPILE, "%s: no PTX for %s", name, r->arch);
    free(b->log);
    b->log = *sass_log;
    *sass_log = NULL;
    read_report(b->log, b->lowered_name, &b->info);
    if (!b->info.static_smem) /* (a report NVRTC mixed up: the largest is the one refused) */
        b->info.static_smem = largest_smem(b->log);
    return CUTUNE_OK;
}

static int run_nvrtc(const cutune_compile_request *r, cutune_binary *b)
{
    const char *sys[8];
    size_t nsys = ct_toolkit_include_dirs(sys, 8);
    size_t nopt = 2 + r->num_defines + r->num_options + nsys;
    char **owned = calloc(nopt, sizeof *owned);
    const char **opts = calloc(nopt, sizeof *opts);
    if (!owned || !opts) {
        free(owned);
        free(opts);
        return ct_fail(CUTUNE_ENOMEM, "compile: out of memory");
    }
    size_t k = 0;
    int st = CUTUNE_OK;
    if (!(owned[k] = format("--gpu-architecture=%s", r->arch)))
        st = CUTUNE_ENOMEM;
    opts[k] = owned[k], k++;
    opts[k++] = "--ptxas-options=--verbose";
    for (size_t i = 0; i < r->num_defines && !st; i++, k++)
        if (!(opts[k] = owned[k] = format("-D%s", r->defines[i])))
            st = CUTUNE_ENOMEM;
    for (size_t i = 0; i < r->num_options && !st; i++)
        opts[k++] = r->options[i];
    /* after the source's own -I folders, so that a header of the user's wins */
    for (size_t i = 0; i < nsys && !st; i++, k++)
        if (!(opts[k] = owned[k] = format("--include-path=%s", sys[i])))
            st = CUTUNE_ENOMEM;

    size_t len = r->source_len ? r->source_len : strlen(r->source);
    char *src = malloc(len + 1);
    if (!st && !src)
        st = CUTUNE_ENOMEM;
    if (st == CUTUNE_ENOMEM)
        ct_fail(st, "compile: out of memory");
    if (!st) {
        memcpy(src, r->source, len);
        src[len] = '\0';
    }
    const char *name = r->source_name ? r->source_name : "kernel.cu";
    nvrtcProgram prog = NULL;
    nvrtcResult compiled = NVRTC_SUCCESS;
    double t0 = ct_now();
    if (!st)
        st = compile_program(r, name, src, opts, (int)k, &prog, &compiled, &b->log);
    /* NVRTC refuses a cubin with more than 48 KiB of static shared memory (silently when
     * ptxas is verbose), which nvcc and the driver take on GPUs that have more: such a
     * kernel goes to PTX instead, for the driver to finish as it loads it, as Kernel Tuner's
     * do. Its resources are ptxas's report of the cubin attempt. */
    char *sass_log = NULL;
    if (!st && compiled != NVRTC_SUCCESS && b->log && largest_smem(b->log) > 48 * 1024) {
        nv.nvrtcDestroyProgram(&prog);
        sass_log = b->log;
        b->log = NULL;
        free(owned[0]);
        if (!(opts[0] = owned[0] = format("--gpu-architecture=compute_%s", r->arch + 3)))
            st = ct_fail(CUTUNE_ENOMEM, "compile: out of memory");
        if (!st)
            st = compile_program(r, name, src, opts, (int)k, &prog, &compiled, &b->log);
        if (!st && compiled != NVRTC_SUCCESS) { /* the reason is the cubin attempt's */
            free(b->log);
            b->log = sass_log;
            sass_log = NULL;
        }
    }
    b->info.compile_s = ct_now() - t0;
    /* an unknown kernel name fails in the lookup NVRTC adds for it */
    if (!st && compiled != NVRTC_SUCCESS && b->log && strstr(b->log, "__nv_name_map"))
        st = ct_fail(CUTUNE_ECOMPILE, "%s: no __global__ function '%s'", name, r->kernel);
    if (!st && compiled != NVRTC_SUCCESS) { /* (the whole log: cutune_compile_request.log) */
        char *lines = ct_log_compiler_lines(b->log, 0);
        st = ct_fail(CUTUNE_ECOMPILE, "%s for %s: %s\n%.900s", name, r->arch,
                     nv.nvrtcGetErrorString(compiled), lines ? lines : "");
        free(lines);
    }
    const char *lowered = NULL;
    if (!st && nv.nvrtcGetLoweredName(prog, r->kernel, &lowered) != NVRTC_SUCCESS)
        st = ct_fail(CUTUNE_ECOMPILE, "%s: no __global__ function '%s'", name, r->kernel);
    if (!st && !(b->lowered_name = ct_strdup(lowered)))
        st = CUTUNE_ENOMEM;
    if (!st && sass_log)
        st = keep_ptx(r, prog, name, &sass_log, b);
    else if (!st)
        st = keep_cubin(r, prog, name, b);
    free(sass_log);
    if (prog)
        nv.nvrtcDestroyProgram(&prog);
    free(src);
    for (size_t i = 0; i < nopt; i++)
        free(owned[i]);
    free(owned);
    free(opts);
    return st;
}

int cutune_compile(const cutune_compile_request *r, cutune_binary **out)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_compile: out is NULL");
    *out = NULL;
    if (r && r->log)
        *r->log = NULL;
    int st = check_request(r);
    if (!st)
        st = nvrtc_ready();
    if (st)
        return st;
    cutune_binary *b = calloc(1, sizeof *b);
    if (!b)
        return ct_fail(CUTUNE_ENOMEM, "compile: out of memory");
    ct_binary_key key;
    st = ct_binary_key_make(r, nv.major, nv.minor, &key);
    if (!st && key.dir[0] && ct_binary_cache_load(&key, b) == CUTUNE_OK) {
        b->info.from_cache = 1;
    } else if (!st) {
        st = run_nvrtc(r, b);
        /* a cache that cannot be written costs speed, not the result */
        if (!st && key.dir[0])
            ct_binary_cache_store(&key, b);
    }
    if (!st && key.dir[0] && !(b->cache_path = ct_strdup(key.path)))
        st = CUTUNE_ENOMEM;
    ct_binary_key_release(&key);
    if (r->log && b->log) { /* the caller's copy: the binary's goes with it */
        if (st)
            *r->log = b->log, b->log = NULL;
        else if (!(*r->log = ct_strdup(b->log)))
            st = CUTUNE_ENOMEM;
    }
    if (st) {
        cutune_binary_free(b);
        return st;
    }
    *out = b;
    return CUTUNE_OK;
}

#else /* built without the CUDA toolkit */

int cutune_nvrtc_version(int *major, int *minor)
{
    if (major)
        *major = 0;
    if (minor)
        *minor = 0;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without the CUDA toolkit (no NVRTC)");
}

int cutune_compile(const cutune_compile_request *r, cutune_binary **out)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_compile: out is NULL");
    *out = NULL;
    if (!r)
        return ct_fail(CUTUNE_EINVAL, "cutune_compile: request is NULL");
    if (r->log)
        *r->log = NULL;
    return ct_fail(CUTUNE_ENOTSUP, "cutune was built without the CUDA toolkit (no NVRTC)");
}
#endif
