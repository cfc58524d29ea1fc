/* install_seed.c — test_install's helper, built against the installed cutune: writes one
 * profile of the shipped SGEMM, tuned at 1024x1024x1024 on a described GPU, into a store,
 * as `cutune tune` would (kernel name and its source's hash), so that examples/app can show
 * the exact and nearest-size rules on a machine without a GPU.
 * usage: install_seed DB SGEMM.cu "DEVICE NAME" CC_MAJOR SMS */
#include <cutune.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: install_seed DB SGEMM.cu DEVICE CC_MAJOR SMS\n");
        return 2;
    }
    static char source[1 << 20];
    FILE *f = fopen(argv[2], "rb");
    size_t len = f ? fread(source, 1, sizeof source, f) : 0;
    if (f)
        fclose(f);
    if (!len) {
        fprintf(stderr, "install_seed: cannot read %s\n", argv[2]);
        return 1;
    }
    char hash[33];
    cutune_source_hash(source, len, hash);
    cutune_profile p = {
        .device = argv[3], .cc_major = atoi(argv[4]), .sm_count = atoi(argv[5]),
        .kernel = "sgemm", .source_hash = hash, .user_key = "",
        .problem = {1024, 1024, 1024},
        .params = "TILED,MWG,NWG,KWG,MDIMC,NDIMC,VWM,VWN,STRM,STRN,PADA,PADB,DBUF",
        .config = "1,64,32,16,8,8,2,2,0,0,1,0,1",
        .time_ms = 0.25, .median_ms = 0.25, .strategy = "seeded", .budget = 1};
    cutune_store *store;
    int st = cutune_store_open(&store, argv[1], 0);
    if (!st) {
        st = cutune_store_put(store, &p);
        cutune_store_free(store);
    }
    if (st) {
        fprintf(stderr, "install_seed: %s (%s)\n", cutune_last_error(), cutune_strerror(st));
        return 1;
    }
    return 0;
}
