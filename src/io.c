/* io.c — whole files in and out: read plain or gzip'd, parsed as JSON, written whole (gzip'd
 * by name) through a new file beside the target that replaces it only once flushed, and the
 * folders on the way made. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

int ct_load_json(const char *path, void *out)
{
    char *data;
    size_t len = 0;
    int st = ct_read_gz(path, &data, &len);
    if (st)
        return st;
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    free(data);
    if (!root)
        return ct_fail(CUTUNE_EPARSE, "%s: line %d, column %d: %s", path, jerr.line,
                       jerr.column, jerr.text);
    *(json_t **)out = root;
    return CUTUNE_OK;
}

int ct_read_gz(const char *path, char **data, size_t *len)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return ct_fail(CUTUNE_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    int st = buf ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path);
    while (!st) {
        if (n == cap) {
            char *grown = cap < CT_MAX_GZ_BYTES ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                st = cap < CT_MAX_GZ_BYTES
                         ? ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path)
                         : ct_fail(CUTUNE_ETOOBIG, "%s: more than %zu MiB once decompressed",
                                   path, CT_MAX_GZ_BYTES >> 20);
                break;
            }
            buf = grown;
            cap *= 2;
        }
        int got = gzread(f, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            st = ct_fail(CUTUNE_EIO, "%s: truncated or corrupt gzip data (%s)", path, msg);
        } else if (got == 0) {
            break;
        }
        n += got > 0 ? (size_t)got : 0;
    }
    /* zlib reports a truncated stream only at close */
    int closed = gzclose(f);
    if (!st && closed != Z_OK)
        st = ct_fail(CUTUNE_EIO, "%s: truncated or corrupt gzip data", path);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return CUTUNE_OK;
}

int ct_make_dirs(const char *dir, unsigned mode, char *failed, size_t failed_size)
{
    char *path = strdup(dir);
    if (!path) {
        errno = ENOMEM;
        return -1;
    }
    /* each folder on the way, then the last */
    int bad = 0;
    for (char *p = path + 1; !bad && *p; p++)
        if (*p == '/') {
            *p = '\0';
            bad = mkdir(path, (mode_t)mode) != 0 && errno != EEXIST;
            if (!bad)
                *p = '/';
        }
    bad = bad || (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST);
    int err = errno;
    if (bad && failed && failed_size)
        snprintf(failed, failed_size, "%s", path);
    free(path);
    errno = err;
    return bad ? -1 : 0;
}

int ct_create_beside(const char *path, char *tmp, size_t size)
{
    static _Atomic unsigned counter;
    struct stat sb;
    int have = stat(path, &sb) == 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned mix = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 12) ^
                       counter++ * 2654435761u;
        snprintf(tmp, size, "%s.tmp-%08x", path, mix);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 && have && fchmod(fd, sb.st_mode & 07777) != 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            errno = err;
            return -1;
        }
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}


/* Writes a whole file, gzip'd when its name ends in .gz (internal.h), into a new temporary
 * file beside it, flushed to disk and renamed over it at the end: a failed write leaves what
 * was there. */
int ct_write_gz(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path);
    int gz = n > 3 && strcmp(path + n - 3, ".gz") == 0;
    char *tmp = malloc(n + 16);
    if (!tmp)
        return ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path);
    int fd = ct_create_beside(path, tmp, n + 16), ok = fd >= 0;
    int keep = ok ? dup(fd) : -1; /* for the fsync once zlib has closed its descriptor */
    gzFile f = ok && keep >= 0 ? gzdopen(fd, gz ? "wb9" : "wbT") : NULL; /* T: uncompressed */
    ok = f != NULL;
    if (!f && fd >= 0)
        close(fd);
    for (size_t at = 0; ok && at < len;) {
        unsigned part = len - at > (1u << 30) ? 1u << 30 : (unsigned)(len - at);
        ok = gzwrite(f, data + at, part) == (int)part;
        at += part;
    }
    ok = f && gzclose(f) == Z_OK && ok;
    ok = ok && fsync(keep) == 0;
    int err = errno ? errno : EIO;
    if (keep >= 0)
        close(keep);
    if (ok && rename(tmp, path) == 0) {
        free(tmp);
        return CUTUNE_OK;
    }
    err = ok ? errno : err;
    if (fd >= 0)
        unlink(tmp);
    free(tmp);
    return ct_fail(CUTUNE_EIO, "cannot write %s: %s (what was there is left as it was)", path,
                   strerror(err));
}

int ct_read_file(const char *path, size_t limit, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ct_fail(CUTUNE_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    int st = buf ? CUTUNE_OK : ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path);
    while (!st) {
        if (n == cap) {
            if (cap >= limit) {
                st = ct_fail(CUTUNE_ETOOBIG, "%s: larger than the limit of %zu MiB", path,
                             limit >> 20);
                break;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                st = ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = ct_fail(CUTUNE_EIO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return CUTUNE_OK;
}

/* The whole file and a NUL after it: the status, as ct_read_text and cutune_read_file give. */
static int read_text(const char *path, size_t limit, char **text, size_t *len)
{
    char *data;
    size_t n;
    *text = NULL;
    int st = ct_read_file(path, limit, &data, &n);
    if (st)
        return st;
    char *s = realloc(data, n + 1);
    if (!s) {
        free(data);
        return ct_fail(CUTUNE_ENOMEM, "%s: out of memory", path);
    }
    s[n] = '\0';
    if (len)
        *len = n;
    *text = s;
    return CUTUNE_OK;
}

char *ct_read_text(const char *path, size_t limit, size_t *len)
{
    char *text;
    return read_text(path, limit, &text, len) ? NULL : text;
}

/* ---------------------------------------------------------------- the public face ---- */

int cutune_read_file(const char *path, size_t limit, char **text, size_t *len)
{
    if (!path || !text) {
        if (text)
            *text = NULL;
        return ct_fail(CUTUNE_EINVAL, "cutune_read_file: no path, or nowhere to put the text");
    }
    return read_text(path, limit, text, len);
}

int cutune_make_dirs(const char *dir)
{
    if (!dir)
        return ct_fail(CUTUNE_EINVAL, "cutune_make_dirs: no folder");
    char failed[4096] = "";
    struct stat sb;
    errno = ENOENT; /* "": no such folder, as mkdir says */
    int ok = *dir && ct_make_dirs(dir, 0777, failed, sizeof failed) == 0;
    if (ok && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        errno = ENOTDIR;
        ok = 0;
    }
    if (ok)
        return CUTUNE_OK;
    int err = errno;
    ct_fail(CUTUNE_EIO, "cannot make the folder %s: %s", *failed ? failed : dir, strerror(err));
    errno = err;
    return CUTUNE_EIO;
}

int cutune_create_beside(const char *path, char *tmp, size_t size, int *fd)
{
    if (fd)
        *fd = -1;
    if (!path || !tmp || !fd || size < strlen(path) + 16)
        return ct_fail(CUTUNE_EINVAL, "cutune_create_beside: no path, no descriptor, or a name "
                                      "buffer under strlen(path) + 16 bytes");
    if ((*fd = ct_create_beside(path, tmp, size)) >= 0)
        return CUTUNE_OK;
    int err = errno;
    ct_fail(CUTUNE_EIO, "cannot write %s: %s", path, strerror(err));
    errno = err;
    return CUTUNE_EIO;
}
