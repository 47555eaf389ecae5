/* copy_distance [SIZE] [ROUNDS]: how fast this machine's memcpy copies SIZE
 * bytes (default 16384, a TLS record) when the destination lies D bytes past
 * the source modulo 4 KiB, for D = 0, 8 (inside the 1-15 band), 64 and 2048.
 *
 * Why: glibc before the fix for its bug 30994 (Debian 12 has 2.36) copies
 * 2 KiB and more with `rep movsb` on CPUs that report FSRM, and on AMD Zen 3
 * and later that instruction is many times slower when D is 1 to 15. The
 * result says whether the machine a bench ran on has that slow case, which
 * sockmate's allocator (src/large_blocks.rs) keeps its bulk copies out of.
 *
 * Prints one line:
 *   copy size=N d0_GBps=A d8_GBps=B d64_GBps=C d2048_GBps=E slow_short_distance=yes|no
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* GB/s of ROUNDS copies of SIZE bytes from src to dst. */
static double rate(char *dst, const char *src, size_t size, int rounds)
{
    double t0 = seconds();
    for (int i = 0; i < rounds; i++) {
        memcpy(dst, src, size);
        /* Keep the compiler from dropping or merging the copies. */
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    double t = seconds() - t0;
    return t > 0 ? (double)size * rounds / t / 1e9 : 0;
}

int main(int argc, char **argv)
{
    size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 16384;
    int rounds = argc > 2 ? atoi(argv[2]) : 20000;
    if (size == 0 || size > (64u << 20) || rounds <= 0) {
        fprintf(stderr, "usage: copy_distance [SIZE 1..64M] [ROUNDS > 0]\n");
        return 2;
    }
    /* Both buffers page-aligned, with a page of room for the offsets. */
    size_t room = size + 2 * 4096;
    char *from = aligned_alloc(4096, (room + 4095) / 4096 * 4096);
    char *to = aligned_alloc(4096, (room + 4095) / 4096 * 4096);
    if (!from || !to) {
        fprintf(stderr, "copy_distance: out of memory\n");
        return 1;
    }
    memset(from, 1, room);
    memset(to, 2, room);
    static const int distances[] = {0, 8, 64, 2048};
    double got[4];
    for (int i = 0; i < 4; i++) {
        /* The source 5 bytes into its page, as a TLS record's payload is. */
        const char *src = from + 5;
        char *dst = to + 5 + distances[i];
        rate(dst, src, size, rounds / 10 + 1); /* warm up */
        got[i] = rate(dst, src, size, rounds);
    }
    printf("copy size=%zu d0_GBps=%.1f d8_GBps=%.1f d64_GBps=%.1f d2048_GBps=%.1f slow_short_distance=%s\n",
           size, got[0], got[1], got[2], got[3], got[1] * 4 < got[3] ? "yes" : "no");
    free(from);
    free(to);
    return 0;
}
