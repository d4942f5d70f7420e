/* Directories and descriptors through musl: opendir/readdir/rewinddir/closedir and
 * scandir+alphasort (names sorted before printing), nftw over a tree (sorted), stat /
 * lstat / fstat / fstatat, mkdir / rmdir / unlink / access errnos, truncate, pipe,
 * dup2, fcntl and lockf; symlink / readlink / link / chmod / utime in /tmp. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

static const char *ename(int e) {
    switch (e) {
    case 0: return "0";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EAGAIN: return "EAGAIN";
    case EPERM: return "EPERM";
    case ELOOP: return "ELOOP";
    case ENOSYS: return "ENOSYS";
    default: return "E?";
    }
}

static void report(const char *what, int r) {
    printf("%s: %s\n", what, r < 0 ? ename(errno) : "ok");
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *found[64];
static int nfound;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    char line[512];
    snprintf(line, sizeof line, "%s %s depth %d size %lld", path, type == FTW_D || type == FTW_DP ? "dir" : "file",
             ftw->level, S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL);
    if (nfound < 64)
        found[nfound++] = strdup(line);
    return 0;
}

static void make_tree(void) {
    mkdir("tree", 0755);
    mkdir("tree/b", 0755);
    mkdir("tree/a", 0755);
    mkdir("tree/a/deep", 0755);
    const char *files[] = {"tree/z.txt", "tree/a/one", "tree/a/deep/two", "tree/b/three", "tree/m.txt"};
    for (int i = 0; i < 5; i++) {
        FILE *f = fopen(files[i], "w");
        fprintf(f, "%d", i);
        fclose(f);
    }
}

static void listing(void) {
    printf("== readdir\n");
    make_tree();
    DIR *d = opendir("tree");
    printf("opendir: %s\n", d ? "ok" : ename(errno));
    char *names[32];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 32)
        names[n++] = strdup(e->d_name);
    qsort(names, n, sizeof names[0], cmp);
    for (int i = 0; i < n; i++) {
        printf("  %s\n", names[i]);
        free(names[i]);
    }
    rewinddir(d);
    int again = 0;
    while (readdir(d))
        again++;
    printf("after rewinddir: %d entries\n", again);
    printf("dirfd valid: %d\n", dirfd(d) >= 0);
    closedir(d);
    errno = 0;
    printf("opendir a file: %s\n", opendir("tree/z.txt") ? "ok" : ename(errno));
    errno = 0;
    printf("opendir missing: %s\n", opendir("nope") ? "ok" : ename(errno));

    struct dirent **list;
    int count = scandir("tree", &list, NULL, alphasort);
    printf("scandir: %d\n", count);
    for (int i = 0; i < count; i++) {
        printf("  %s\n", list[i]->d_name);
        free(list[i]);
    }
    free(list);

    printf("== nftw\n");
    printf("nftw: %d\n", nftw("tree", visit, 8, FTW_PHYS));
    qsort(found, nfound, sizeof found[0], cmp);
    for (int i = 0; i < nfound; i++) {
        printf("  %s\n", found[i]);
        free(found[i]);
    }
}

static void files(void) {
    printf("== stat and friends\n");
    struct stat st;
    int r = stat("tree/z.txt", &st);
    printf("stat file: %d, regular %d, size %lld\n", r, S_ISREG(st.st_mode), (long long)st.st_size);
    r = lstat("tree/a", &st);
    printf("lstat dir: %d, dir %d\n", r, S_ISDIR(st.st_mode));
    int dfd = open("tree", O_RDONLY | O_DIRECTORY);
    r = fstatat(dfd, "m.txt", &st, 0);
    printf("fstatat: %d, size %lld\n", r, (long long)st.st_size);
    close(dfd);
    report("stat missing", stat("tree/nope", &st));
    report("mkdir existing", mkdir("tree", 0755));
    report("rmdir non-empty", rmdir("tree"));
    report("unlink a dir", unlink("tree/a"));
    report("access F_OK", access("tree/m.txt", F_OK));
    report("access missing", access("tree/none", F_OK));
    report("truncate to 100", truncate("tree/m.txt", 100));
    stat("tree/m.txt", &st);
    printf("size now %lld\n", (long long)st.st_size);

    printf("== descriptors\n");
    int p[2];
    report("pipe", pipe(p));
    printf("write: %zd\n", write(p[1], "through", 7));
    int saved = dup(p[0]);
    report("dup2 onto the read end", dup2(open("tree/z.txt", O_RDONLY), p[0]));
    char buf[16] = {0};
    ssize_t got = read(saved, buf, sizeof buf);
    printf("read the dup: %zd %.7s\n", got, buf);
    memset(buf, 0, sizeof buf);
    got = read(p[0], buf, sizeof buf);
    printf("read the new fd: %zd %s\n", got, buf);
    printf("fcntl F_GETFL accmode O_RDONLY: %d\n", (fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
    r = fcntl(p[0], F_SETFD, FD_CLOEXEC);
    printf("fcntl F_SETFD: %d, F_GETFD %d\n", r, fcntl(p[0], F_GETFD));
    close(saved);
    close(p[0]);
    close(p[1]);
    int fd = open("tree/m.txt", O_RDWR);
    report("lockf F_LOCK", lockf(fd, F_LOCK, 10));
    report("lockf F_TEST (own lock)", lockf(fd, F_TEST, 10));
    report("lockf F_ULOCK", lockf(fd, F_ULOCK, 10));
    close(fd);
}

static void in_tmp(void) {
    printf("== /tmp\n");
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/unify-probe-fs_dir_musl-%d", (int)getpid());
    char a[128], l[128], h[128];
    mkdir(dir, 0700);
    snprintf(a, sizeof a, "%s/file", dir);
    snprintf(l, sizeof l, "%s/link", dir);
    snprintf(h, sizeof h, "%s/hard", dir);
    FILE *f = fopen(a, "w");
    fputs("data", f);
    fclose(f);
    report("symlink", symlink("file", l));
    char target[64] = {0};
    ssize_t len = readlink(l, target, sizeof target - 1);
    printf("readlink: %zd %s\n", len, target);
    report("readlink a file", (int)readlink(a, target, sizeof target));
    report("link", link(a, h));
    struct stat st;
    stat(a, &st);
    printf("nlink: %ld\n", (long)st.st_nlink);
    report("chmod 0604", chmod(a, 0604));
    stat(a, &st);
    printf("mode: %04o\n", st.st_mode & 07777);
    struct utimbuf times = {.actime = 1111111111, .modtime = 1222222222};
    report("utime", utime(a, &times));
    stat(a, &st);
    printf("atime %lld mtime %lld\n", (long long)st.st_atime, (long long)st.st_mtime);
    lstat(l, &st);
    printf("lstat link: symlink %d\n", S_ISLNK(st.st_mode));
    unlink(l);
    unlink(h);
    unlink(a);
    report("rmdir", rmdir(dir));
}

int main(void) {
    listing();
    files();
    in_tmp();
    return 0;
}
