/* test_session.c — what a GPU session says before it needs the GPU: a spec without a
 * kernel, a kernel file that is not there, a missing spec; and, on a machine without a GPU,
 * that there is none. The GPU path itself is gpu_test_worker and the H100 runs. */
#include "check.h"
#include "cutune.h"

#include <string.h>

#define SRC CUTUNE_SOURCE_DIR

int main(void)
{
    cutune_session *s = (cutune_session *)1;
    CHECK_INT(cutune_session_new(&s, NULL, NULL, NULL), CUTUNE_EINVAL);
    CHECK(s == NULL);
    CHECK_INT(cutune_session_new(NULL, "x.json", NULL, NULL), CUTUNE_EINVAL);
    CHECK(cutune_session_new(&s, SRC "/tests/data/no-such-spec.json", NULL, NULL) != CUTUNE_OK);
    CHECK_HAS(cutune_last_error(), "no-such-spec.json");
    /* the recorded space's spec has a kernel section naming a file cutune does not ship */
    CHECK_INT(cutune_session_new(&s, SRC "/data/spaces/convolution/spec.json", NULL, NULL),
              CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "convolution_milo.cu");
    CHECK_INT(cutune_session_new(&s, SRC "/kernels/convolution.json",
                                 SRC "/kernels/not-there.cu", NULL),
              CUTUNE_EIO);
    CHECK_HAS(cutune_last_error(), "not-there.cu");
    /* everything right: it starts, or says there is no GPU */
    int st = cutune_session_new(&s, SRC "/kernels/convolution.json", NULL, NULL);
    if (st == CUTUNE_OK) {
        CHECK(cutune_session_device(s)->sm_count > 0);
        cutune_session_free(s);
    } else {
        CHECK_INT(st, CUTUNE_ENODEVICE);
        CHECK_HAS(cutune_last_error(), "worker: ");
    }
    cutune_session_free(NULL);
    CHECK_DONE();
}
