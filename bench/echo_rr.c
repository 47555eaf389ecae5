/*
 * echo_rr - round-trip latency against a TCP or UDP echo server, one message
 * in flight at a time.
 *
 *   echo_rr tcp|udp HOST PORT [COUNT=10000] [SIZE=64] [MAX_SECS=10] [WARMUP=200] [UDP_TIMEOUT_MS=200]
 *
 * Sends WARMUP unmeasured messages, then up to COUNT measured ones, stopping
 * early after MAX_SECS. Every message starts with its sequence number and
 * each reply must equal the message. A UDP reply that does not come within
 * UDP_TIMEOUT_MS counts as lost.
 *
 * The first 14 bytes are also a sockperf message header (64-bit sequence,
 * 16-bit flags "client, pong requested", 32-bit length, big-endian), so
 * `sockperf server` answers these messages as it answers its own client:
 * the same client then measures sockperf's server and any plain echo
 * server. sockperf's server clears the "client" flag in its answer; that
 * one bit is the only difference from the message a reply may have.
 *
 * Prints one line:
 *   rr proto=P n=N lost=L bad=B p50_us= p90_us= p99_us= p999_us= max_us= mean_us= msgs_per_s=
 * and exits 0 when no reply was wrong (1 otherwise, 2 on a setup error).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* sockperf's header: flags at bytes 8-9, length at 10-13 (big-endian). */
#define SOCKPERF_HEADER 14
#define SOCKPERF_FLAGS_LOW 9
#define SOCKPERF_CLIENT 0x01
#define SOCKPERF_PONG_REQUEST 0x02

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* A reply equals the message, except that sockperf's server may have
 * cleared the client flag. */
static int same_reply(const unsigned char *reply, const unsigned char *msg, size_t size) {
    if (size < SOCKPERF_HEADER) return memcmp(reply, msg, size) == 0;
    if (memcmp(reply, msg, SOCKPERF_FLAGS_LOW) != 0) return 0;
    if ((reply[SOCKPERF_FLAGS_LOW] | SOCKPERF_CLIENT) != msg[SOCKPERF_FLAGS_LOW]) return 0;
    return memcmp(reply + SOCKPERF_FLAGS_LOW + 1, msg + SOCKPERF_FLAGS_LOW + 1, size - SOCKPERF_FLAGS_LOW - 1) == 0;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted samples, in microseconds (nearest rank). */
static double quantile_us(const uint64_t *sorted, long n, double q) {
    long i = (long)(q * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1000.0;
}

/* Reads exactly len bytes from a stream socket; 0 on success. */
static int read_full(int fd, unsigned char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n > 0) got += (size_t)n;
        else if (n < 0 && errno == EINTR) continue;
        else return -1;
    }
    return 0;
}

enum reply { REPLY_OK, REPLY_BAD, REPLY_LOST, REPLY_BROKEN };

/* Waits for the UDP reply to sequence seq, skipping late replies to earlier ones. */
static enum reply udp_reply(int fd, const unsigned char *msg, size_t size, unsigned char *buf, uint64_t seq, int timeout_ms) {
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return REPLY_LOST;
        ssize_t n = recv(fd, buf, size + 1, 0);
        if (n < 0) return errno == ECONNREFUSED ? REPLY_LOST : REPLY_BROKEN;
        uint64_t got;
        if ((size_t)n >= sizeof got) {
            memcpy(&got, buf, sizeof got);
            if (got < seq) continue; /* the answer to a message already counted lost */
        }
        return (size_t)n == size && same_reply(buf, msg, size) ? REPLY_OK : REPLY_BAD;
    }
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 9 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp"))) {
        fprintf(stderr, "usage: echo_rr tcp|udp HOST PORT [COUNT=10000] [SIZE=64] [MAX_SECS=10] [WARMUP=200] [UDP_TIMEOUT_MS=200]\n");
        return 2;
    }
    int udp = argv[1][0] == 'u';
    long count = argc > 4 ? atol(argv[4]) : 10000;
    size_t size = argc > 5 ? (size_t)atol(argv[5]) : 64;
    double max_secs = argc > 6 ? atof(argv[6]) : 10.0;
    long warmup = argc > 7 ? atol(argv[7]) : 200;
    int timeout_ms = argc > 8 ? atoi(argv[8]) : 200;
    if (size < sizeof(uint64_t)) size = sizeof(uint64_t);
    if (count < 1) count = 1;

    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
    int rc = getaddrinfo(argv[2], argv[3], &hints, &ai);
    if (rc != 0) { fprintf(stderr, "echo_rr: %s:%s: %s\n", argv[2], argv[3], gai_strerror(rc)); return 2; }
    int fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) { perror("echo_rr: connect"); return 2; }
    freeaddrinfo(ai);
    if (!udp) {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }

    unsigned char *msg = malloc(size), *buf = malloc(size + 1);
    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)count);
    if (!msg || !buf || !samples) { fprintf(stderr, "echo_rr: out of memory\n"); return 2; }
    for (size_t i = 0; i < size; i++) msg[i] = (unsigned char)(0x5a ^ (i * 31));
    if (size >= SOCKPERF_HEADER) {
        msg[SOCKPERF_FLAGS_LOW - 1] = 0;
        msg[SOCKPERF_FLAGS_LOW] = SOCKPERF_CLIENT | SOCKPERF_PONG_REQUEST;
        put_be32(msg + SOCKPERF_FLAGS_LOW + 1, (uint32_t)size);
    }

    long n = 0, lost = 0, bad = 0;
    uint64_t stop_at = now_ns() + (uint64_t)(max_secs * 1e9), measured_from = now_ns();
    for (uint64_t seq = 0; seq < (uint64_t)(warmup + count); seq++) {
        uint64_t t0 = now_ns();
        if (t0 > stop_at) break;
        if (seq == (uint64_t)warmup) measured_from = t0;
        memcpy(msg, &seq, sizeof seq);
        if (send(fd, msg, size, MSG_NOSIGNAL) != (ssize_t)size) { perror("echo_rr: send"); break; }
        enum reply r;
        if (udp) r = udp_reply(fd, msg, size, buf, seq, timeout_ms);
        else r = read_full(fd, buf, size) ? REPLY_BROKEN : (same_reply(buf, msg, size) ? REPLY_OK : REPLY_BAD);
        uint64_t t1 = now_ns();
        if (r == REPLY_BROKEN) { fprintf(stderr, "echo_rr: connection failed at message %llu\n", (unsigned long long)seq); break; }
        if (r == REPLY_LOST) lost++;
        if (r == REPLY_BAD) bad++;
        if (r == REPLY_OK && seq >= (uint64_t)warmup) samples[n++] = t1 - t0;
    }
    double elapsed = (double)(now_ns() - measured_from) / 1e9;
    close(fd);

    if (n == 0) {
        printf("rr proto=%s n=0 lost=%ld bad=%ld\n", argv[1], lost, bad);
        return 1;
    }
    qsort(samples, (size_t)n, sizeof *samples, by_value);
    double total = 0;
    for (long i = 0; i < n; i++) total += (double)samples[i];
    printf("rr proto=%s n=%ld lost=%ld bad=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f msgs_per_s=%.0f\n",
           argv[1], n, lost, bad, quantile_us(samples, n, 0.50), quantile_us(samples, n, 0.90),
           quantile_us(samples, n, 0.99), quantile_us(samples, n, 0.999), (double)samples[n - 1] / 1000.0,
           total / (double)n / 1000.0, elapsed > 0 ? (double)n / elapsed : 0.0);
    return bad ? 1 : 0;
}
