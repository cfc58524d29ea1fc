/* worker_wire.c — whole messages over a worker's socket, for both of its ends. */
#include "worker_wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

int ct_wire_send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ct_wire_recv_all(int fd, void *data, size_t len)
{
    char *p = data;
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ct_wire_send_msg(int fd, uint32_t kind, const void *data, uint64_t len)
{
    msg_head h = {.kind = kind, .len = len};
    return ct_wire_send_all(fd, &h, sizeof h) || (len && ct_wire_send_all(fd, data, len)) ? -1 : 0;
}

void ct_wire_send_failure(int fd, int status, const char *why)
{
    msg_head h = {.kind = MSG_FAILED, .status = (uint32_t)status, .len = strlen(why)};
    if (!ct_wire_send_all(fd, &h, sizeof h))
        ct_wire_send_all(fd, why, h.len);
}

int ct_wire_wait_readable(int fd, double timeout_s)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int ms = timeout_s > 0 ? (int)(timeout_s * 1e3 + 1) : -1;
        int n = poll(&p, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : n;
    }
}
