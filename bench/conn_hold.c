/*
 * conn_hold - open K idle TCP connections to an IPv4 loopback server, report
 * how many it got, hold them, then check how many are still alive.
 *
 *   conn_hold HOST PORT K [MODE=echo] [RAMP_S=60] [HOLD_S=30] [WINDOW=64]
 *             [MIN_AVAIL_MB=3072] [PER_WORKER=5000] [CONN_TIMEOUT_S=15]
 *
 * MODE echo: a connection counts once one byte sent on it comes back (the
 *            server accepted it and serves it). MODE connect: once the
 *            handshake completes (the kernel's backlog may hold it).
 * The connections are spread over ceil(K / PER_WORKER) forked workers (the
 * open-file limit is per process), at most WINDOW connecting at a time, from
 * source addresses 127.0.0.10-49 in turn so ephemeral ports never run out.
 * Opening stops early at the RAMP_S deadline, after 200 failures, when
 * MemAvailable drops under MIN_AVAIL_MB, or when the machine's task count
 * comes within 4000 of kernel.pid_max (a fork-per-connection server could
 * otherwise take every pid on the machine). A connection still connecting
 * after CONN_TIMEOUT_S counts as a timeout.
 *
 * Output (stdout, one line each, flushed):
 *   READY ok= fail= timeout= reset= eof= emfile= other= lowmem=0|1 pidcap=0|1 ramp_s= workers=
 *   ALIVE alive= dead=
 * ALIVE follows after HOLD_S seconds or on SIGUSR1, whichever comes first;
 * in echo mode every held connection must echo one more byte to be alive.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_WORKERS 64
#define MAX_FAILURES 200   /* per worker: stop opening after this many */
#define PID_HEADROOM 4000  /* tasks kept free below kernel.pid_max */
#define SOURCES 40         /* source addresses 127.0.0.10 .. 127.0.0.49 */
#define ALIVE_WAIT_S 10.0  /* how long the liveness echoes may take */

struct config {
    struct in_addr host;
    int port, echo, window;
    double ramp_s, conn_timeout_s;
    long min_avail_mb;
};

/* What a worker reports: once after opening, once after the liveness check. */
struct tally {
    long ok, fail, timeout, reset, eof, emfile, other, lowmem, pidcap, alive, dead;
    double ramp_s;
};

enum state { FREE, CONNECTING, AWAIT_ECHO, HELD, FAILED };

static volatile sig_atomic_t release_early = 0;
static void on_usr1(int sig) { (void)sig; release_early = 1; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The first number after `key` in a /proc file, or -1. */
static long proc_number(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        char *at = key ? strstr(line, key) : line;
        if (at) { v = strtol(at + (key ? strlen(key) : 0), NULL, 10); break; }
    }
    fclose(f);
    return v;
}

static long avail_mb(void) {
    long kb = proc_number("/proc/meminfo", "MemAvailable:");
    return kb < 0 ? -1 : kb / 1024;
}

/* The machine's task count: the number after '/' in /proc/loadavg. */
static long tasks(void) { return proc_number("/proc/loadavg", "/"); }

static void send_tally(int fd, const struct tally *t) {
    if (write(fd, t, sizeof *t) != (ssize_t)sizeof *t) _exit(3);
}

/* Starts a non-blocking connect from source index src; the fd, or -1 with errno. */
static int start_connect(const struct config *c, unsigned src) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int on = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    struct sockaddr_in from = { .sin_family = AF_INET };
    from.sin_addr.s_addr = htonl((127u << 24) | (10u + src % SOURCES));
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) { int e = errno; close(fd); errno = e; return -1; }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port), .sin_addr = c->host };
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) { int e = errno; close(fd); errno = e; return -1; }
    return fd;
}

static void count_error(struct tally *t, int err) {
    if (err == ECONNREFUSED || err == ECONNRESET || err == EPIPE) t->reset++;
    else if (err == EMFILE || err == ENFILE) t->emfile++;
    else t->other++;
}

/* One worker: opens k connections, reports, waits for `go` to close, checks them. */
static void worker(int id, const struct config *c, long k, int window, int report, int go) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    int *fd = malloc(sizeof(int) * (size_t)k);
    unsigned char *st = calloc((size_t)k, 1);
    double *since = malloc(sizeof(double) * (size_t)k);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!fd || !st || !since || ep < 0) _exit(3);
    long pid_max = proc_number("/proc/sys/kernel/pid_max", NULL);

    struct tally t = {0};
    struct epoll_event ev[256];
    long next = 0, pending = 0, scan_from = 0;
    int opening = 1;
    double start = now(), ramp_end = start + c->ramp_s;

    while (pending > 0 || (opening && next < k)) {
        if (now() > ramp_end) opening = 0;
        while (opening && pending < window && next < k) {
            if (next % 256 == 0 && avail_mb() >= 0 && avail_mb() < c->min_avail_mb) { t.lowmem = 1; opening = 0; break; }
            if (next % 64 == 0 && pid_max > 0 && tasks() > pid_max - PID_HEADROOM) { t.pidcap = 1; opening = 0; break; }
            long i = next++;
            fd[i] = start_connect(c, (unsigned)(i * MAX_WORKERS + id));
            if (fd[i] < 0) {
                st[i] = FAILED; t.fail++; count_error(&t, errno);
                if (errno == EMFILE || errno == ENFILE || t.fail >= MAX_FAILURES) opening = 0;
                continue;
            }
            st[i] = CONNECTING;
            since[i] = now();
            struct epoll_event e = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };
            epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e);
            pending++;
        }
        int n = epoll_wait(ep, ev, 256, 50);
        for (int j = 0; j < n; j++) {
            long i = (long)ev[j].data.u64;
            int failed = 0, err = 0;
            if (st[i] == CONNECTING) {
                socklen_t len = sizeof err;
                getsockopt(fd[i], SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) failed = 1;
                else if (!c->echo) st[i] = HELD;
                else if (send(fd[i], "h", 1, MSG_NOSIGNAL) != 1) { failed = 1; err = errno; }
                else {
                    st[i] = AWAIT_ECHO;
                    struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd[i], &e);
                }
            } else if (st[i] == AWAIT_ECHO) {
                char b;
                ssize_t got = recv(fd[i], &b, 1, MSG_DONTWAIT);
                if (got == 1 && b == 'h') st[i] = HELD;
                else if (got == 0) { failed = 1; t.eof++; }
                else if (got == 1) { failed = 1; t.other++; }
                else if (errno != EAGAIN) { failed = 1; err = errno; }
            }
            if (failed) {
                if (err) count_error(&t, err);
                st[i] = FAILED; t.fail++;
                close(fd[i]);
                if (t.fail >= MAX_FAILURES) opening = 0;
            }
            if (st[i] == HELD || st[i] == FAILED) {
                if (st[i] == HELD) { t.ok++; epoll_ctl(ep, EPOLL_CTL_DEL, fd[i], NULL); }
                pending--;
            }
        }
        /* Time out slow connections (the in-flight ones are a window at the end). */
        double t_now = now();
        for (long i = scan_from; i < next; i++) {
            if (st[i] != CONNECTING && st[i] != AWAIT_ECHO) { if (i == scan_from) scan_from++; continue; }
            if (t_now - since[i] > c->conn_timeout_s) {
                close(fd[i]); st[i] = FAILED; t.fail++; t.timeout++; pending--;
                if (t.fail >= MAX_FAILURES) opening = 0;
            }
        }
    }
    t.ramp_s = now() - start;
    send_tally(report, &t);

    char b;
    for (;;) { /* EOF: the hold is over */
        ssize_t got = read(go, &b, 1);
        if (got == 0 || (got < 0 && errno != EINTR)) break;
    }

    long waiting = 0;
    for (long i = 0; i < next; i++) {
        if (st[i] != HELD) continue;
        if (!c->echo) {
            ssize_t got = recv(fd[i], &b, 1, MSG_DONTWAIT | MSG_PEEK);
            if (got == 0 || (got < 0 && errno != EAGAIN)) t.dead++; else t.alive++;
        } else if (send(fd[i], "a", 1, MSG_NOSIGNAL) != 1) {
            t.dead++;
        } else {
            struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
            epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e);
            waiting++;
        }
    }
    double give_up = now() + ALIVE_WAIT_S;
    while (waiting > 0 && now() < give_up) {
        int n = epoll_wait(ep, ev, 256, 100);
        for (int j = 0; j < n; j++) {
            long i = (long)ev[j].data.u64;
            ssize_t got = recv(fd[i], &b, 1, MSG_DONTWAIT);
            if (got < 0 && errno == EAGAIN) continue;
            epoll_ctl(ep, EPOLL_CTL_DEL, fd[i], NULL);
            waiting--;
            if (got == 1 && b == 'a') t.alive++; else t.dead++;
        }
    }
    t.dead += waiting;
    send_tally(report, &t);
    _exit(0); /* the exit closes every connection */
}

static int read_tally(int fd, struct tally *t) {
    size_t got = 0;
    while (got < sizeof *t) {
        ssize_t n = read(fd, (char *)t + got, sizeof *t - got);
        if (n > 0) got += (size_t)n;
        else if (n < 0 && errno == EINTR) continue;
        else return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 11) {
        fprintf(stderr, "usage: conn_hold HOST PORT K [echo|connect] [RAMP_S=60] [HOLD_S=30] [WINDOW=64] "
                        "[MIN_AVAIL_MB=3072] [PER_WORKER=5000] [CONN_TIMEOUT_S=15]\n");
        return 2;
    }
    struct config c = { .echo = 1, .ramp_s = 60, .window = 64, .min_avail_mb = 3072, .conn_timeout_s = 15 };
    if (inet_pton(AF_INET, argv[1], &c.host) != 1 || (ntohl(c.host.s_addr) >> 24) != 127) {
        fprintf(stderr, "conn_hold: HOST must be an IPv4 loopback address (127.x.y.z)\n");
        return 2;
    }
    c.port = atoi(argv[2]);
    long k = atol(argv[3]);
    if (argc > 4) c.echo = strcmp(argv[4], "connect") != 0;
    if (argc > 5) c.ramp_s = atof(argv[5]);
    double hold_s = argc > 6 ? atof(argv[6]) : 30;
    if (argc > 7) c.window = atoi(argv[7]);
    if (argc > 8) c.min_avail_mb = atol(argv[8]);
    long per_worker = argc > 9 ? atol(argv[9]) : 5000;
    if (argc > 10) c.conn_timeout_s = atof(argv[10]);
    if (k < 1 || per_worker < 1 || c.window < 1 || c.port < 1 || c.port > 65535) { fprintf(stderr, "conn_hold: bad numbers\n"); return 2; }

    int workers = (int)((k + per_worker - 1) / per_worker);
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    int window = c.window / workers > 4 ? c.window / workers : 4;

    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    int report[2], go[2];
    if (pipe(report) || pipe(go)) { perror("conn_hold: pipe"); return 2; }
    pid_t pid[MAX_WORKERS];
    for (int w = 0; w < workers; w++) {
        long share = k / workers + (w < k % workers);
        pid[w] = fork();
        if (pid[w] < 0) { perror("conn_hold: fork"); return 2; }
        if (pid[w] == 0) {
            close(report[0]); close(go[1]);
            worker(w, &c, share, window, report[1], go[0]);
        }
    }
    close(report[1]); close(go[0]);

    struct tally sum = {0}, t;
    for (int w = 0; w < workers; w++) {
        if (read_tally(report[0], &t)) { fprintf(stderr, "conn_hold: a worker died\n"); return 3; }
        sum.ok += t.ok; sum.fail += t.fail; sum.timeout += t.timeout; sum.reset += t.reset; sum.eof += t.eof;
        sum.emfile += t.emfile; sum.other += t.other; sum.lowmem |= t.lowmem; sum.pidcap |= t.pidcap;
        if (t.ramp_s > sum.ramp_s) sum.ramp_s = t.ramp_s;
    }
    printf("READY ok=%ld fail=%ld timeout=%ld reset=%ld eof=%ld emfile=%ld other=%ld lowmem=%ld pidcap=%ld ramp_s=%.2f workers=%d\n",
           sum.ok, sum.fail, sum.timeout, sum.reset, sum.eof, sum.emfile, sum.other, sum.lowmem, sum.pidcap, sum.ramp_s, workers);
    fflush(stdout);

    double release_at = now() + hold_s;
    while (!release_early && now() < release_at) usleep(20000);
    close(go[1]); /* every worker now checks its connections */

    for (int w = 0; w < workers; w++) {
        if (read_tally(report[0], &t)) { fprintf(stderr, "conn_hold: a worker died\n"); return 3; }
        sum.alive += t.alive; sum.dead += t.dead;
    }
    printf("ALIVE alive=%ld dead=%ld\n", sum.alive, sum.dead);
    fflush(stdout);
    for (int w = 0; w < workers; w++) waitpid(pid[w], NULL, 0);
    return 0;
}
