/* space_ids.c — a configuration as one number: the value indices read as a mixed-radix
 * number, first parameter most significant (the order Kernel Tuner lists a space in), and
 * back; and how many such numbers a space has. */
#include "space_impl.h"

uint64_t cutune_space_raw_size(const cutune_space *s)
{
    if (!s || s->np == 0)
        return 0;
    uint64_t raw = 1;
    for (size_t i = 0; i < s->np; i++)
        if (__builtin_mul_overflow(raw, (uint64_t)s->params[i].n, &raw))
            return UINT64_MAX;
    return raw;
}

uint64_t cutune_space_config_id(const cutune_space *s, const uint32_t *config)
{
    uint64_t id = 0;
    for (size_t i = 0; s && config && i < s->np; i++)
        id = id * s->params[i].n + config[i];
    return id;
}

int cutune_space_config_from_id(const cutune_space *s, uint64_t id, uint32_t *config)
{
    if (!s || !config)
        return ct_fail(CUTUNE_EINVAL, "cutune_space_config_from_id: NULL argument");
    if (s->np == 0 || id >= cutune_space_raw_size(s))
        return ct_fail(CUTUNE_ERANGE, "configuration id %llu is outside the space",
                       (unsigned long long)id);
    for (size_t i = s->np; i-- > 0;) {
        config[i] = (uint32_t)(id % s->params[i].n);
        id /= s->params[i].n;
    }
    return CUTUNE_OK;
}
