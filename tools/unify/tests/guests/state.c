/* Changes files in a kept image, or reports what is there.
 *   state write   makes /data (a dir, files, a rename, a delete, 2 MiB of data)
 *   state check   prints the tree under /data with sizes and a checksum
 *   state fill    writes /data/fill until the volume is full, reports the errno,
 *                 then removes it and proves space came back */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void must(int ok, const char *what) {
    if (!ok) { printf("%s failed: %s\n", what, strerror(errno)); exit(1); }
}

static void put(const char *path, const char *text) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    must(fd >= 0, path);
    must(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write");
    must(close(fd) == 0, "close");
}

static unsigned long checksum(const char *path, long *size) {
    int fd = open(path, O_RDONLY);
    must(fd >= 0, path);
    unsigned char buf[65536];
    unsigned long sum = 0;
    ssize_t n;
    *size = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) sum = sum * 31 + buf[i];
        *size += n;
    }
    close(fd);
    return sum;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
    DIR *d = opendir(dir);
    must(d != NULL, dir);
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        must(stat(path, &st) == 0, path);
        if (S_ISDIR(st.st_mode)) {
            printf("%s/\n", path);
            list(path);
        } else {
            long size;
            unsigned long sum = checksum(path, &size);
            printf("%s %ld %lx\n", path, size, sum);
        }
    }
}

static void write_state(void) {
    must(mkdir("/data", 0755) == 0, "mkdir /data");
    must(mkdir("/data/sub", 0755) == 0, "mkdir /data/sub");
    put("/data/a.txt", "first file\n");
    put("/data/b.txt", "to be deleted\n");
    put("/data/A Long Name With Spaces.txt", "long names survive\n");
    must(rename("/data/a.txt", "/data/sub/renamed.txt") == 0, "rename");
    must(unlink("/data/b.txt") == 0, "unlink");
    int fd = open("/data/sub/big.bin", O_CREAT | O_WRONLY, 0644);
    must(fd >= 0, "big");
    char block[4096];
    for (int i = 0; i < 512; i++) {
        memset(block, 'a' + i % 26, sizeof block);
        must(write(fd, block, sizeof block) == sizeof block, "write big");
    }
    must(fsync(fd) == 0, "fsync");
    close(fd);
    printf("written\n");
}

static void fill(void) {
    int fd = open("/data/fill", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    must(fd >= 0, "fill");
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    long total = 0;
    for (;;) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0) { printf("full: %s\n", errno == ENOSPC ? "ENOSPC" : strerror(errno)); break; }
        if (n == 0) { printf("full: write returned 0\n"); break; }
        total += n;
    }
    close(fd);
    struct stat st;
    must(stat("/data/fill", &st) == 0, "stat fill");
    printf("size matches writes: %s\n", st.st_size == total ? "yes" : "no");
    printf("a new file when full: %s\n", open("/data/more", O_CREAT | O_WRONLY, 0644) >= 0 || errno == ENOSPC ? "ok or ENOSPC" : strerror(errno));
    must(unlink("/data/fill") == 0, "unlink fill");
    put("/data/after.txt", "space came back\n");
    printf("after delete: written\n");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "write")) write_state();
    else if (!strcmp(mode, "check")) list("/data");
    else if (!strcmp(mode, "fill")) fill();
    else { printf("usage: state write|check|fill\n"); return 2; }
    return 0;
}
