/*
 * echo_ref: the reference echo server for bench/compare.sh, "as fast as
 * this kernel allows" on one thread.
 *
 *   echo_ref splice|rw HOST PORT [MAX_SECS]
 *
 * One thread, epoll (level-triggered), nonblocking sockets. Every byte a
 * client sends goes back to it; at the client's end of input the server
 * finishes sending what it holds, then closes.
 *
 *   splice  socket -> pipe -> socket with splice(2): no copy into user
 *           space. A connection gets its pipe (256 KiB) when data arrives
 *           and gives it back once the pipe is empty, so an idle
 *           connection holds one socket and a small struct.
 *   rw      read(2)/write(2) through a 256 KiB buffer, also held only
 *           while data is in flight.
 *
 * Bounded: exits after MAX_SECS (default 600) even if nobody stops it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)
#define MAX_EVENTS 256

struct conn {
    int fd;
    int pipe_r, pipe_w;   /* splice: -1 when no data is in flight */
    size_t held;          /* bytes in the pipe or the buffer */
    char *buf;            /* rw: NULL when no data is in flight */
    size_t off;           /* rw: first unsent byte in buf */
    int eof;              /* the client ended its writes */
    unsigned events;      /* what epoll watches now */
};

static int use_splice;
static int ep;

static void watch(struct conn *c, unsigned events) {
    if (c->events == events) return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
}

static void release(struct conn *c) {
    if (c->pipe_r >= 0) { close(c->pipe_r); close(c->pipe_w); c->pipe_r = c->pipe_w = -1; }
    free(c->buf);
    c->buf = NULL;
    c->held = c->off = 0;
}

static void finish(struct conn *c) {
    release(c);
    close(c->fd);   /* also removes it from the epoll set */
    free(c);
}

/* Sends what is held. Returns 1 when everything went, 0 when the socket
 * is full, -1 on error. */
static int flush(struct conn *c) {
    while (c->held > 0) {
        ssize_t n;
        if (use_splice)
            n = splice(c->pipe_r, NULL, c->fd, NULL, c->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        else
            n = write(c->fd, c->buf + c->off, c->held);
        if (n > 0) {
            c->held -= (size_t)n;
            c->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        return -1;
    }
    release(c);
    return 1;
}

/* Takes in what the client sent, up to the pipe's or buffer's room.
 * Returns 0 normally, -1 on error. */
static int fill(struct conn *c) {
    if (use_splice && c->pipe_r < 0) {
        int p[2];
        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return -1;
        fcntl(p[1], F_SETPIPE_SZ, BUF);
        c->pipe_r = p[0];
        c->pipe_w = p[1];
    }
    if (!use_splice && c->buf == NULL) {
        c->buf = malloc(BUF);
        if (c->buf == NULL) return -1;
        c->off = 0;
    }
    while (c->held < BUF) {
        ssize_t n;
        if (use_splice)
            n = splice(c->fd, NULL, c->pipe_w, NULL, BUF - c->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        else
            n = read(c->fd, c->buf + c->off + c->held, BUF - c->off - c->held);
        if (n > 0) { c->held += (size_t)n; if (!use_splice && c->off + c->held == BUF) break; continue; }
        if (n == 0) { c->eof = 1; break; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        return -1;
    }
    return 0;
}

static void serve(struct conn *c, unsigned events) {
    if (events & (EPOLLERR)) { finish(c); return; }
    if ((events & (EPOLLIN | EPOLLHUP)) && !c->eof) {
        if (fill(c) < 0) { finish(c); return; }
    }
    int sent = flush(c);
    if (sent < 0) { finish(c); return; }
    if (sent == 1 && c->eof) {
        shutdown(c->fd, SHUT_WR);
        finish(c);
        return;
    }
    /* Stop reading while data waits for room: the client's own window
     * then holds it back, as a copying server's would. */
    watch(c, sent == 0 ? EPOLLOUT : EPOLLIN);
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "splice") && strcmp(argv[1], "rw"))) {
        fprintf(stderr, "usage: echo_ref splice|rw HOST PORT [MAX_SECS]\n");
        return 2;
    }
    use_splice = strcmp(argv[1], "splice") == 0;
    int max_secs = argc > 4 ? atoi(argv[4]) : 600;
    signal(SIGPIPE, SIG_IGN);
    alarm(max_secs > 0 ? (unsigned)max_secs : 600);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) { fprintf(stderr, "bad host %s\n", argv[2]); return 2; }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) { perror("listen"); return 1; }

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("listening on %s:%s (%s)\n", argv[2], argv[3], argv[1]);
    fflush(stdout);

    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0) { if (errno == EINTR) continue; perror("epoll_wait"); return 1; }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;   /* EAGAIN, or out of descriptors: try on the next event */
                    struct conn *c = calloc(1, sizeof *c);
                    if (c == NULL) { close(fd); continue; }
                    c->fd = fd;
                    c->pipe_r = c->pipe_w = -1;
                    c->events = EPOLLIN;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) { close(fd); free(c); }
                }
                continue;
            }
            serve(evs[i].data.ptr, evs[i].events);
        }
    }
}
