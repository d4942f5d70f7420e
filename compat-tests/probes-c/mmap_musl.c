/* Memory through musl's libc wrappers: mmap / munmap / mprotect / mremap / madvise,
 * sbrk / brk, and musl's malloc (mallocng: brk plus mmap). Prints errno names and
 * properties, never addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static const char *ename(int e) {
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    default: return "E?";
    }
}

static void report_ptr(const char *what, void *p) {
    if (p == MAP_FAILED)
        printf("%s: %s\n", what, ename(errno));
    else
        printf("%s: ok\n", what);
}

static void report_int(const char *what, int r) {
    if (r < 0)
        printf("%s: %s\n", what, ename(errno));
    else
        printf("%s: %d\n", what, r);
}

int main(void) {
    char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report_ptr("mmap 4 pages", p);
    printf("aligned: %s\n", ((uintptr_t)p % PAGE) == 0 ? "true" : "false");
    memset(p, 0xab, 4 * PAGE);
    printf("filled: %s\n", (unsigned char)p[4 * PAGE - 1] == 0xab ? "true" : "false");
    report_int("mprotect page 0 read-only", mprotect(p, PAGE, PROT_READ));
    /* musl's mprotect rounds the start down to a page: this succeeds. */
    report_int("mprotect unaligned (musl rounds)", mprotect(p + 1, PAGE, PROT_READ));
    report_int("mprotect all back RW", mprotect(p, 4 * PAGE, PROT_READ | PROT_WRITE));
    report_int("madvise DONTNEED page 1", madvise(p + PAGE, PAGE, MADV_DONTNEED));
    printf("page 1 zero: %s\n", p[PAGE] == 0 ? "true" : "false");
    char *q = mremap(p, 4 * PAGE, 32 * PAGE, MREMAP_MAYMOVE);
    report_ptr("mremap 4 -> 32 pages", q);
    if (q == MAP_FAILED)
        return 1;
    printf("contents kept: %s\n", (unsigned char)q[3 * PAGE] == 0xab ? "true" : "false");
    report_int("munmap", munmap(q, 32 * PAGE));
    report_int("munmap again (unmapped)", munmap(q, 32 * PAGE));
    report_int("mprotect unmapped", mprotect(q, PAGE, PROT_READ));
    report_ptr("mmap length 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    report_ptr("mmap fd -1 without MAP_ANONYMOUS", mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0));

    char *r = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        return 1;
    void *nr = mmap(r + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    report_ptr("MAP_FIXED_NOREPLACE over a mapping", nr);
    void *f = mmap(r + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED returns the address: %s\n", f == r + PAGE ? "true" : "false");
    munmap(r, 3 * PAGE);

    /* sbrk / brk through musl (musl's sbrk only supports 0 and brk-style growth). */
    void *cur = sbrk(0);
    printf("sbrk(0): %s\n", cur == (void *)-1 ? ename(errno) : "ok");

    /* malloc: small (brk or mmap'd groups) and large (mmap) */
    unsigned long sum = 0;
    void *ptrs[1000];
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)(i * 37 % 2000) + 1;
        ptrs[i] = malloc(n);
        memset(ptrs[i], i & 0xff, n);
    }
    for (int i = 0; i < 1000; i++) {
        sum += ((unsigned char *)ptrs[i])[0];
        free(ptrs[i]);
    }
    printf("1000 small mallocs, checksum %lu\n", sum);
    char *big = malloc(64 << 20);
    printf("malloc 64 MiB: %s\n", big ? "ok" : "NULL");
    if (!big)
        return 1;
    big[0] = 1;
    big[(64 << 20) - 1] = 2;
    big = realloc(big, 128 << 20);
    printf("realloc to 128 MiB keeps data: %s\n", big && big[0] == 1 && big[(64 << 20) - 1] == 2 ? "true" : "false");
    free(big);
    char *z = calloc(1 << 20, 4);
    printf("calloc 4 MiB zeroed: %s\n", z && z[0] == 0 && z[(4 << 20) - 1] == 0 ? "true" : "false");
    free(z);
    printf("done\n");
    return 0;
}
