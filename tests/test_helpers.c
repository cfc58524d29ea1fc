/* test_helpers.c — compile helper processes (src/session/gpu_helpers.c) driven directly,
 * with jobs of the test's own: that each job runs in another process and its status comes
 * back, that a helper which dies says so to the next request and costs nothing else, that
 * stopping one in the middle of a long job is at once, and that a helper holds none of the
 * session's other descriptors (a worker's socket must close when the session closes it). */
#include "check.h"
#include "internal.h" /* ct_now */
#include "session/gpu.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Each job answers what the test can check: the process it ran in, or its index's square;
 * index 7 kills its process (as a compiler crash would), 9 sleeps for a long time. */
static int job(void *ctx, size_t i)
{
    (void)ctx;
    if (i == 0)
        return (int)getpid();
    if (i == 7)
        raise(SIGKILL);
    if (i == 9)
        sleep(60);
    return (int)(i * i);
}

static void test_runs_in_another_process(void)
{
    ct_helper *h = ct_helper_start(job, NULL);
    CHECK(h != NULL);
    if (!h)
        return;
    int st = 0;
    CHECK_INT(ct_helper_run(h, 0, &st), 0);
    CHECK(st > 0 && st != (int)getpid());
    for (size_t i = 1; i < 6; i++) {
        CHECK_INT(ct_helper_run(h, i, &st), 0);
        CHECK_INT(st, i * i);
    }
    ct_helper_stop(h);
}

static void test_a_helper_that_dies(void)
{
    signal(SIGPIPE, SIG_DFL); /* so that a SIGPIPE from a request to the dead would kill the
                                 test: the helpers' sends must not raise it */
    ct_helper *h = ct_helper_start(job, NULL), *other = ct_helper_start(job, NULL);
    CHECK(h && other);
    if (!h || !other)
        return;
    int st = -5;
    CHECK_INT(ct_helper_run(h, 3, &st), 0);
    CHECK_INT(st, 9);
    CHECK_INT(ct_helper_run(h, 7, &st), -1); /* died on the job */
    CHECK_INT(ct_helper_run(h, 3, &st), -1); /* and stays gone: the write finds no reader */
    CHECK_INT(ct_helper_run(other, 4, &st), 0); /* the other one is untouched */
    CHECK_INT(st, 16);
    ct_helper_stop(h);
    ct_helper_stop(other);
}

static void test_stop_in_the_middle(void)
{
    ct_helper *h = ct_helper_start(job, NULL);
    CHECK(h != NULL);
    if (!h)
        return;
    int st = 0;
    CHECK_INT(ct_helper_run(h, 0, &st), 0);
    const pid_t pid = (pid_t)st;
    /* a long job in flight (asked by a child of the test, as a compile thread would ask
     * while the session stops), then the helper stopped from here */
    pid_t asker = fork();
    if (asker == 0)
        _exit(ct_helper_run(h, 9, &st) == -1 ? 0 : 1); /* it learns the helper is gone */
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    double t0 = ct_now();
    ct_helper_stop(h);
    CHECK(ct_now() - t0 < 5);
    CHECK(kill(pid, 0) != 0); /* gone, and reaped */
    int how = -1;
    CHECK_INT(waitpid(asker, &how, 0), asker);
    CHECK(WIFEXITED(how) && WEXITSTATUS(how) == 0);
}

static void test_keeps_no_other_descriptor(void)
{
    int fd[2];
    CHECK_INT(pipe(fd), 0); /* as the session's socket to its worker, not close-on-exec */
    ct_helper *h = ct_helper_start(job, NULL);
    CHECK(h != NULL);
    int st;
    if (h)
        CHECK_INT(ct_helper_run(h, 1, &st), 0); /* it has started and closed what it should */
    close(fd[1]);
    struct pollfd end = {.fd = fd[0], .events = POLLIN};
    CHECK_INT(poll(&end, 1, 2000), 1); /* end of file: nobody else holds the write end */
    char c;
    CHECK_INT(read(fd[0], &c, 1), 0);
    close(fd[0]);
    ct_helper_stop(h);
}

TEST_LIST(TEST_CASE(test_runs_in_another_process) TEST_CASE(test_a_helper_that_dies)
          TEST_CASE(test_stop_in_the_middle) TEST_CASE(test_keeps_no_other_descriptor));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
