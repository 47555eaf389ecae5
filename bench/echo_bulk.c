/*
 * echo_bulk - push MBYTES through a TCP echo server and check every byte that
 * comes back, writing and reading at the same time (one thread, poll).
 *
 *   echo_bulk HOST PORT MBYTES [CHUNK=65536] [DEADLINE_S=60] [WINDOW=0] [THREADS=1]
 *
 * MBYTES is in millions of bytes. WINDOW > 0 limits the bytes in flight
 * (written but not yet echoed); 0 writes as fast as the socket takes them.
 * THREADS=2 writes on one thread and reads and checks on another, each
 * blocking on its own direction (no poll; WINDOW must be 0): the client
 * then needs less of one core per byte and can use both, so a fast server
 * is held back less by the client.
 * Prints one line:
 *   bulk bytes=N secs=S MBps=X Gbps=Y client_cpu=P verify=OK|FAIL
 * where client_cpu is this client's CPU time over the wall time in percent:
 * near 100 means the client, not the server, set the pace.
 * and exits 0 only when every byte came back, in order, before the deadline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The payload repeats with this period (a prime, so it never lines up with
 * chunk or buffer sizes); byte i of the stream is pattern[i % PERIOD]. */
#define PERIOD 999983u

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* pattern holds PERIOD + chunk bytes, so the bytes at any stream offset are
 * contiguous for up to one chunk. */
static unsigned char *make_pattern(size_t chunk) {
    unsigned char *p = malloc(PERIOD + chunk);
    if (!p) return NULL;
    uint32_t s = 2463534242u;
    for (size_t i = 0; i < PERIOD; i++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        p[i] = (unsigned char)(s >> 24);
    }
    memcpy(p + PERIOD, p, chunk);
    return p;
}

static int dial(const char *host, const char *port) {
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) { fprintf(stderr, "echo_bulk: %s:%s: %s\n", host, port, gai_strerror(rc)); return -1; }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) perror("echo_bulk: connect");
    return fd;
}

/* THREADS=2: the writing side. */
struct writer_job { int fd; const unsigned char *pattern; size_t chunk; uint64_t total; uint64_t sent; int err; };

static void *write_all_of_it(void *arg) {
    struct writer_job *w = arg;
    while (w->sent < w->total) {
        uint64_t want = w->total - w->sent;
        if (want > w->chunk) want = w->chunk;
        ssize_t n = send(w->fd, w->pattern + w->sent % PERIOD, (size_t)want, MSG_NOSIGNAL);
        if (n > 0) w->sent += (uint64_t)n;
        else if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue; /* EAGAIN: the 1 s SO_SNDTIMEO; the reader keeps the deadline */
        else { w->err = n < 0 ? errno : EPIPE; break; }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 8) {
        fprintf(stderr, "usage: echo_bulk HOST PORT MBYTES [CHUNK=65536] [DEADLINE_S=60] [WINDOW=0] [THREADS=1]\n");
        return 2;
    }
    uint64_t total = strtoull(argv[3], NULL, 10) * 1000000ull;
    size_t chunk = argc > 4 ? strtoul(argv[4], NULL, 10) : 65536;
    double limit = argc > 5 ? strtod(argv[5], NULL) : 60.0;
    uint64_t window = argc > 6 ? strtoull(argv[6], NULL, 10) : 0;
    int threads = argc > 7 ? atoi(argv[7]) : 1;
    if (threads != 1 && threads != 2) { fprintf(stderr, "echo_bulk: THREADS must be 1 or 2\n"); return 2; }
    if (threads == 2 && window) { fprintf(stderr, "echo_bulk: THREADS=2 needs WINDOW=0\n"); return 2; }
    if (chunk == 0 || chunk > PERIOD) { fprintf(stderr, "echo_bulk: CHUNK must be 1..%u\n", PERIOD); return 2; }

    unsigned char *pattern = make_pattern(chunk);
    unsigned char *in = malloc(chunk);
    if (!pattern || !in) { fprintf(stderr, "echo_bulk: out of memory\n"); return 2; }
    int fd = dial(argv[1], argv[2]);
    if (fd < 0) return 2;
    uint64_t out_pos = 0, in_pos = 0;
    const char *why = NULL;
    double start = seconds(), deadline = start + limit;
    if (threads == 2) {
        /* The deadline bounds every blocking read: a stalled server ends the run. */
        struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct writer_job w = { .fd = fd, .pattern = pattern, .chunk = chunk, .total = total };
        pthread_t writer;
        if (pthread_create(&writer, NULL, write_all_of_it, &w) != 0) { fprintf(stderr, "echo_bulk: cannot start a thread\n"); return 2; }
        while (in_pos < total && !why) {
            if (seconds() > deadline) { why = "deadline passed (stalled?)"; break; }
            ssize_t n = recv(fd, in, chunk, 0);
            if (n == 0) { why = "server closed the connection early"; break; }
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR) why = strerror(errno);
                continue;
            }
            if (memcmp(in, pattern + in_pos % PERIOD, (size_t)n) != 0) { why = "echoed bytes differ"; break; }
            in_pos += (uint64_t)n;
        }
        if (why) shutdown(fd, SHUT_RDWR); /* unblocks the writer */
        pthread_join(writer, NULL);
        out_pos = w.sent;
        if (!why && w.err) why = strerror(w.err);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (threads == 1 && in_pos < total && !why) {
        uint64_t may_send = total - out_pos;
        if (window) {
            uint64_t room = window > out_pos - in_pos ? window - (out_pos - in_pos) : 0;
            if (room < may_send) may_send = room;
        }
        if (may_send > chunk) may_send = chunk;

        struct pollfd p = { .fd = fd, .events = POLLIN | (may_send ? POLLOUT : 0) };
        int ready = poll(&p, 1, 250);
        if (seconds() > deadline) { why = "deadline passed (stalled?)"; break; }
        if (ready < 0 && errno != EINTR) { why = "poll failed"; break; }
        if (ready <= 0) continue;

        if ((p.revents & POLLOUT) && may_send) {
            ssize_t n = send(fd, pattern + out_pos % PERIOD, may_send, MSG_NOSIGNAL);
            if (n > 0) out_pos += (uint64_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR) { why = strerror(errno); break; }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, in, chunk, 0);
            if (n == 0) { why = "server closed the connection early"; break; }
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR) why = strerror(errno);
                continue;
            }
            if ((uint64_t)n > out_pos - in_pos) { why = "more bytes came back than were sent"; break; }
            if (memcmp(in, pattern + in_pos % PERIOD, (size_t)n) != 0) { why = "echoed bytes differ"; break; }
            in_pos += (uint64_t)n;
        }
    }
    double secs = seconds() - start;
    close(fd);
    int ok = !why && in_pos == total;
    if (!ok) fprintf(stderr, "echo_bulk: %s (sent %llu, verified %llu of %llu)\n", why ? why : "incomplete",
                     (unsigned long long)out_pos, (unsigned long long)in_pos, (unsigned long long)total);
    if (secs <= 0) secs = 1e-9;
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    printf("bulk bytes=%llu secs=%.3f MBps=%.1f Gbps=%.3f client_cpu=%.0f verify=%s\n", (unsigned long long)in_pos, secs,
           (double)in_pos / secs / 1e6, (double)in_pos * 8 / secs / 1e9, cpu / secs * 100, ok ? "OK" : "FAIL");
    return ok ? 0 : 1;
}
