/* Files through musl's stdio and friends, in the case's working directory: fopen modes,
 * fread/fwrite/fgets/getline/fscanf, fseek/ftell/rewind, ungetc, setvbuf, freopen,
 * "a" and "a+" appending, "x" (O_EXCL), remove/rename, mkstemp, tmpfile (/tmp),
 * realpath and getcwd/chdir (printed relative to the start), fileno + fstat.
 * musl uses the legacy syscalls (open, stat, ...) where glibc uses the *at ones. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    case ENOSYS: return "ENOSYS";
    default: return "E?";
    }
}

static void show_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("  %s: %s\n", path, ename(errno));
        return;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("  %s: %zu bytes \"", path, n);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n')
            printf("\\n");
        else
            putchar(buf[i]);
    }
    printf("\"\n");
}

static void modes(void) {
    printf("== fopen modes\n");
    FILE *f = fopen("a.txt", "w");
    printf("fopen w: %s\n", f ? "ok" : ename(errno));
    fprintf(f, "line %d\n", 1);
    fputs("line 2\n", f);
    fwrite("line 3\n", 1, 7, f);
    printf("ftell: %ld\n", ftell(f));
    fclose(f);
    show_file("a.txt");

    f = fopen("a.txt", "a");
    fputs("appended\n", f);
    fclose(f);
    show_file("a.txt");

    f = fopen("a.txt", "a+");
    char line[64];
    printf("a+ reads from the start: %s", fgets(line, sizeof line, f) ? line : "(null)\n");
    fputs("a+ write\n", f);
    fclose(f);
    show_file("a.txt");

    f = fopen("a.txt", "r+");
    fseek(f, 5, SEEK_SET);
    fputc('#', f);
    fclose(f);
    show_file("a.txt");

    errno = 0;
    f = fopen("a.txt", "wx");
    printf("fopen wx on existing: %s\n", f ? "ok" : ename(errno));
    f = fopen("new.txt", "wx");
    printf("fopen wx on new: %s\n", f ? "ok" : ename(errno));
    if (f)
        fclose(f);
    errno = 0;
    f = fopen("missing.txt", "r");
    printf("fopen r on missing: %s\n", f ? "ok" : ename(errno));
    f = fopen(".", "w");
    printf("fopen w on a directory: %s\n", f ? "ok" : ename(errno));
    f = fopen("a.txt/x", "r");
    printf("fopen r on file/x: %s\n", f ? "ok" : ename(errno));
    f = fopen("a.txt", "re");
    printf("fopen re (O_CLOEXEC): %s\n", f ? "ok" : ename(errno));
    if (f)
        fclose(f);
}

static void reading(void) {
    printf("== reading\n");
    FILE *f = fopen("nums.txt", "w+");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "%d %s\n", i, i % 2 ? "odd" : "even");
    printf("ftell after writing: %ld\n", ftell(f));
    rewind(f);
    int n;
    char word[16];
    int scanned = fscanf(f, "%d %15s", &n, word);
    printf("fscanf: %d -> %d %s\n", scanned, n, word);
    int c = fgetc(f);
    printf("fgetc: %d\n", c);
    ungetc('X', f);
    printf("after ungetc: %c\n", fgetc(f));
    char *line = NULL;
    size_t cap = 0;
    long lines = 0, bytes = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        lines++;
        bytes += len;
    }
    free(line);
    printf("getline: %ld lines, %ld bytes, feof %d\n", lines, bytes, feof(f) != 0);
    int r = fseek(f, -4, SEEK_END);
    printf("fseek SEEK_END -4: %d, ftell %ld\n", r, ftell(f));
    char tail[8] = {0};
    size_t got = fread(tail, 1, sizeof tail - 1, f);
    printf("fread at the end: %zu \"%.3s\"\n", got, tail);
    errno = 0;
    r = fseek(f, -100000, SEEK_SET);
    printf("fseek before the start: %d %s\n", r, ename(errno));
    struct stat st;
    r = fstat(fileno(f), &st);
    printf("fstat(fileno): %d, size %lld, regular %d\n", r, (long long)st.st_size, S_ISREG(st.st_mode));
    fclose(f);

    f = fopen("nums.txt", "r");
    static char big[1 << 16];
    printf("setvbuf full: %d\n", setvbuf(f, big, _IOFBF, sizeof big));
    long total = 0;
    char chunk[100];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        total += got;
    printf("fread in chunks: %ld\n", total);
    f = freopen("a.txt", "r", f);
    printf("freopen: %s\n", f ? "ok" : ename(errno));
    if (!f)
        return;
    printf("first char after freopen: %c\n", fgetc(f));
    fclose(f);
}

static void names(const char *start) {
    printf("== names\n");
    printf("rename a.txt -> b.txt: %d\n", rename("a.txt", "b.txt"));
    printf("remove b.txt: %d\n", remove("b.txt"));
    errno = 0;
    int r = remove("b.txt");
    printf("remove again: %d %s\n", r, ename(errno));
    mkdir("emptydir", 0755);
    printf("remove an empty dir: %d\n", remove("emptydir"));

    char tmpl[] = "tmp-XXXXXX";
    int fd = mkstemp(tmpl);
    printf("mkstemp: %s, name keeps the prefix %d, length %zu\n", fd >= 0 ? "ok" : ename(errno),
           strncmp(tmpl, "tmp-", 4) == 0, strlen(tmpl));
    printf("write: %zd\n", write(fd, "temp", 4));
    close(fd);
    printf("unlink it: %d\n", unlink(tmpl));

    FILE *t = tmpfile();
    printf("tmpfile: %s\n", t ? "ok" : ename(errno));
    if (t) {
        fputs("scratch", t);
        rewind(t);
        char buf[16] = {0};
        printf("tmpfile reads back: %s\n", fgets(buf, sizeof buf, t));
        fclose(t);
    }

    mkdir("sub", 0755);
    mkdir("sub/inner", 0755);
    char resolved[PATH_MAX];
    char *rp = realpath("sub/inner/../inner/./", resolved);
    printf("realpath: %s\n", rp ? (strncmp(rp, start, strlen(start)) == 0 ? rp + strlen(start) : "outside") : ename(errno));
    errno = 0;
    rp = realpath("sub/missing", resolved);
    printf("realpath missing: %s\n", rp ? "found" : ename(errno));
    printf("chdir sub/inner: %d\n", chdir("sub/inner"));
    char cwd[PATH_MAX];
    char *c = getcwd(cwd, sizeof cwd);
    printf("getcwd: %s\n", c ? (strncmp(c, start, strlen(start)) == 0 ? c + strlen(start) : "outside") : ename(errno));
    printf("chdir back: %d\n", chdir(start));
    errno = 0;
    c = getcwd(cwd, 2);
    printf("getcwd into 2 bytes: %s %s\n", c ? "ok" : "NULL", errno == ERANGE ? "ERANGE" : ename(errno));
}

int main(void) {
    char start[PATH_MAX];
    if (!getcwd(start, sizeof start))
        return 1;
    modes();
    reading();
    names(start);
    return 0;
}
