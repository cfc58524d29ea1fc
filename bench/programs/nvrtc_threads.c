/* nvrtc_threads.c — how NVRTC's throughput grows with threads in one process: T threads
 * each compile one configuration of a kernel N times, every compilation a distinct program
 * (a -D of its own), after one warm-up compilation. Prints compilations per second for
 * each T given. cutune compiles ahead on threads; this says what they can buy on a host.
 *
 *   nvrtc_threads KERNEL.cu N T1,T2,... OPTION...
 *   nvrtc_threads kernels/sgemm.cu 2 1,2,4,8,16,32 -std=c++17 --gpu-architecture=sm_90 \
 *       -DTILED=1 -DMWG=128 ...
 */
#include <nvrtc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *source;
static const char **options;
static int num_options, per_thread, serial;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *compile_some(void *failed)
{
    const char *opts[num_options + 1];
    memcpy(opts, options, (size_t)num_options * sizeof *opts);
    for (int k = 0; k < per_thread; k++) {
        char id[48]; /* a program of its own: nothing NVRTC might keep can be reused */
        snprintf(id, sizeof id, "-DNVRTC_THREADS_ID=%d", __atomic_fetch_add(&serial, 1, 0));
        opts[num_options] = id;
        nvrtcProgram p;
        if (nvrtcCreateProgram(&p, source, "probe.cu", 0, NULL, NULL) != NVRTC_SUCCESS ||
            nvrtcCompileProgram(p, num_options + 1, opts) != NVRTC_SUCCESS)
            __atomic_store_n((int *)failed, 1, __ATOMIC_RELAXED);
        nvrtcDestroyProgram(&p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: nvrtc_threads KERNEL.cu N T1,T2,... OPTION...\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    static char text[1 << 20];
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (!f || !len) {
        fprintf(stderr, "nvrtc_threads: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    source = text;
    per_thread = atoi(argv[2]);
    options = (const char **)argv + 4;
    num_options = argc - 4;
    int failed = 0, keep = per_thread;
    per_thread = 1;
    compile_some(&failed); /* warm-up: loading NVRTC and its headers */
    per_thread = keep;
    for (char *t = strtok(argv[3], ","); t && !failed; t = strtok(NULL, ",")) {
        int threads = atoi(t);
        pthread_t tid[256];
        if (threads < 1 || threads > 256)
            break;
        double t0 = now();
        int started = 0;
        while (started < threads &&
               pthread_create(&tid[started], NULL, compile_some, &failed) == 0)
            started++;
        for (int i = 0; i < started; i++)
            pthread_join(tid[i], NULL);
        if (started < threads) {
            fprintf(stderr, "nvrtc_threads: only %d of %d threads started\n", started, threads);
            return 1;
        }
        double s = now() - t0;
        printf("%d threads: %d compilations in %.2f s, %.1f a second\n", threads,
               threads * per_thread, s, threads * per_thread / s);
    }
    if (failed)
        fprintf(stderr, "nvrtc_threads: a compilation failed (check the options)\n");
    return failed;
}
