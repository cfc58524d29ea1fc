/* fuzz_npy.c — libFuzzer target for .npy headers (answer files, issue 25): any bytes must
 * parse or fail with a reason, never read past the header it was given nor loop. */
#include "verify.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_npy h;
    char why[256];
    why[0] = '\0';
    if (ct_npy_parse(data, size, &h, why, sizeof why) == CUTUNE_OK) {
        if (h.data_offset > size || h.ndim < 0 || h.ndim > 32)
            __builtin_trap();
    } else if (!why[0]) {
        __builtin_trap(); /* a failure says why */
    }
    return 0;
}
