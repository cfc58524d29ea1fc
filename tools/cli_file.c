/* cli_file.c — the files the CLI writes, each whole or not at all: output goes to a new
 * temporary file beside its destination, flushed to disk and renamed over it at the end, so a
 * full disk, an error or a kill leaves what was there before. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_file_open(cli_file *out, const char *path, const char *cmd)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(path) + 16;
    out->path = path;
    if (!(out->tmp = malloc(n))) {
        fprintf(stderr, "cutune %s: out of memory writing %s\n", cmd, path);
        return -1;
    }
    /* beside the destination, so that the rename stays on one file system; it has the mode
     * an existing file has, or what the umask allows */
    int fd;
    if (cutune_create_beside(path, out->tmp, n, &fd)) {
        fprintf(stderr, "cutune %s: %s\n", cmd, cutune_last_error());
    } else if (!(out->f = fdopen(fd, "wb"))) {
        fprintf(stderr, "cutune %s: cannot write %s: %s\n", cmd, path, strerror(errno));
        close(fd);
        unlink(out->tmp);
    } else {
        return 0;
    }
    free(out->tmp);
    out->tmp = NULL;
    return -1;
}

int cli_file_commit(cli_file *file, const char *cmd)
{
    if (!file->f)
        return -1;
    int ok = !ferror(file->f) && fflush(file->f) == 0 && fsync(fileno(file->f)) == 0;
    int err = errno;
    ok = fclose(file->f) == 0 && ok;
    err = ok ? 0 : err ? err : errno;
    file->f = NULL;
    if (ok && rename(file->tmp, file->path) != 0) {
        ok = 0;
        err = errno;
    }
    if (!ok) {
        fprintf(stderr, "cutune %s: cannot write %s: %s (what was there is left as it was)\n",
                cmd, file->path, strerror(err ? err : EIO));
        unlink(file->tmp);
    }
    free(file->tmp);
    file->tmp = NULL;
    return ok ? 0 : -1;
}

void cli_file_abort(cli_file *file)
{
    if (file->f)
        fclose(file->f);
    if (file->tmp)
        unlink(file->tmp);
    free(file->tmp);
    memset(file, 0, sizeof *file);
}

int cli_file_write(const char *path, const void *data, size_t size, const char *cmd)
{
    cli_file f;
    if (cli_file_open(&f, path, cmd))
        return -1;
    if (size && fwrite(data, 1, size, f.f) != size) {
        fprintf(stderr, "cutune %s: cannot write %s: %s\n", cmd, path, strerror(errno));
        cli_file_abort(&f);
        return -1;
    }
    return cli_file_commit(&f, cmd);
}

int cli_make_dir(const char *path, const char *cmd)
{
    if (cutune_make_dirs(path) == CUTUNE_OK)
        return 0;
    fprintf(stderr, "cutune %s: %s\n", cmd, cutune_last_error());
    return -1;
}
