/* A stand-in for qemu-system-x86_64 that plays the unify kernel's side of the serial
 * port protocol (tools/unify/src/vm/relay.rs, status.rs), so the host side can be tested
 * without a kernel that runs guests. It takes the ports from `-chardev socket,id=comN,fd=F`
 * and what to do from $FAKE_QEMU:
 *
 *   exit N     log a few lines on COM3, report `exit status N`, exit as isa-debug-exit does
 *   args       write each argument on its own line to COM1, then exit status 0
 *   echo       copy COM1's receiver to COM1's transmitter until `eof` arrives on COM3,
 *              then say on COM2 how many bytes came, exit status 5
 *   signal     write "ready PID" on COM1, wait for `signal N` on COM3, report `killed by signal N`
 *   silent     log a line, write a message on its own stderr, exit 0 (no report)
 *   mismatch   report `exit status 3` but exit with 9
 *   fail       log 30 numbered lines, report `exit status 125`
 *   big        write 1 MiB (bytes i % 251) to COM1 and 1000 lines to COM2, exit status 0
 *
 * Before anything it checks that the kernel (-kernel) opens and is an ELF file and that
 * the image (-drive file=...) opens and ends its first sector with 55 aa; if not, it
 * exits 0 without a report after saying why on COM3.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int com[3] = {-1, -1, -1};

static void put(int port, const char *s) {
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t n = write(com[port], s, len);
        if (n <= 0) return;
        s += n;
        len -= (size_t)n;
    }
}

static void putf(int port, const char *fmt, long a) {
    char buf[256];
    snprintf(buf, sizeof buf, fmt, a);
    put(port, buf);
}

static _Noreturn void report_exit(int status) {
    putf(2, "unify-kernel: exit status %ld (fake)\n", status);
    exit(((status & 0x7f) << 1) | 1);
}

/* Reads one line from COM3's receiver (blocking). */
static int control_line(char *line, size_t size) {
    size_t n = 0;
    while (n + 1 < size) {
        char c;
        ssize_t r = read(com[2], &c, 1);
        if (r <= 0) return -1;
        if (c == '\n') break;
        line[n++] = c;
    }
    line[n] = 0;
    return 0;
}

static int check_file(const char *path, long offset, const char *magic, size_t len) {
    char buf[16];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = pread(fd, buf, len, offset);
    close(fd);
    return n == (ssize_t)len && memcmp(buf, magic, len) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *kernel = NULL, *append = "", *image = NULL;
    static char image_path[4096];
    for (int i = 1; i + 1 < argc; i++) {
        int n, fd;
        if (strcmp(argv[i], "-chardev") == 0 && sscanf(argv[i + 1], "socket,id=com%d,fd=%d", &n, &fd) == 2 && n >= 1 &&
            n <= 3)
            com[n - 1] = fd;
        if (strcmp(argv[i], "-kernel") == 0) kernel = argv[i + 1];
        if (strcmp(argv[i], "-append") == 0) append = argv[i + 1];
        if (strcmp(argv[i], "-drive") == 0) {
            const char *f = strstr(argv[i + 1], "file=");
            if (f) {
                snprintf(image_path, sizeof image_path, "%s", f + 5);
                char *comma = strchr(image_path, ',');
                if (comma) *comma = 0;
                image = image_path;
            }
        }
    }
    if (com[0] < 0 || com[1] < 0 || com[2] < 0) {
        fprintf(stderr, "fake qemu: no -chardev socket,id=comN,fd=F for all three ports\n");
        return 1;
    }
    put(2, "fake-qemu: booting\n");
    if (!kernel || check_file(kernel, 0, "\x7f" "ELF", 4) != 0) {
        put(2, "fake-qemu: the kernel is not readable or not an ELF file\n");
        return 0;
    }
    if (!image || check_file(image, 510, "\x55\xaa", 2) != 0) {
        put(2, "fake-qemu: the image is not readable or has no boot signature\n");
        return 0;
    }
    /* As the kernel does once its serial ports can take input (see relay.rs). */
    put(2, "unify-kernel: ready for input\n");
    put(2, "fake-qemu: command line: ");
    put(2, append);
    put(2, "\n");

    const char *mode = getenv("FAKE_QEMU");
    if (!mode) mode = "exit 0";
    if (strncmp(mode, "exit ", 5) == 0) report_exit(atoi(mode + 5));
    if (strcmp(mode, "args") == 0) {
        for (int i = 1; i < argc; i++) {
            put(0, argv[i]);
            put(0, "\n");
        }
        report_exit(0);
    }
    if (strcmp(mode, "echo") == 0) {
        long total = 0;
        char buf[4096], line[64];
        for (;;) {
            struct pollfd p[2] = {{com[0], POLLIN, 0}, {com[2], POLLIN, 0}};
            if (poll(p, 2, -1) < 0 && errno != EINTR) return 1;
            if (p[0].revents & POLLIN) {
                ssize_t n = read(com[0], buf, sizeof buf);
                if (n <= 0) return 1;
                total += n;
                if (write(com[0], buf, (size_t)n) != n) return 1;
                continue;
            }
            if (p[1].revents & POLLIN) {
                if (control_line(line, sizeof line) != 0) return 1;
                long announced;
                if (sscanf(line, "eof %ld", &announced) != 1) continue;
                /* `eof N`: N bytes were sent on COM1 before it; read until all are in. */
                while (total < announced) {
                    ssize_t n = read(com[0], buf, sizeof buf);
                    if (n <= 0) return 1;
                    total += n;
                    if (write(com[0], buf, (size_t)n) != n) return 1;
                }
                putf(1, "fake-qemu: eof after %ld bytes", total);
                putf(1, " (announced %ld)\n", announced);
                report_exit(5);
            }
        }
    }
    if (strcmp(mode, "signal") == 0) {
        char line[64];
        putf(0, "ready %ld\n", (long)getpid());
        for (;;) {
            int sig;
            /* Like QEMU, keep running when unify's ends close (only PR_SET_PDEATHSIG
             * ends it then). */
            if (control_line(line, sizeof line) != 0)
                for (;;) pause();
            if (sscanf(line, "signal %d", &sig) == 1) {
                putf(1, "fake-qemu: got signal %ld\n", sig);
                putf(2, "unify-kernel: killed by signal %ld (fake)\n", sig);
                exit((((128 + sig) & 0x7f) << 1) | 1);
            }
        }
    }
    if (strcmp(mode, "silent") == 0) {
        put(2, "fake-qemu: about to stop without a report\n");
        fprintf(stderr, "fake-qemu: a message of QEMU's own\n");
        return 0;
    }
    if (strcmp(mode, "mismatch") == 0) {
        put(2, "unify-kernel: exit status 3 (fake)\n");
        return 9;
    }
    if (strcmp(mode, "fail") == 0) {
        for (long i = 1; i <= 30; i++) putf(2, "fake-qemu: log line %ld\n", i);
        report_exit(125);
    }
    if (strcmp(mode, "big") == 0) {
        static char buf[1 << 20];
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i % 251);
        for (size_t off = 0; off < sizeof buf;) {
            ssize_t n = write(com[0], buf + off, sizeof buf - off);
            if (n <= 0) return 1;
            off += (size_t)n;
        }
        for (long i = 0; i < 1000; i++) putf(1, "stderr line %ld\n", i);
        report_exit(0);
    }
    fprintf(stderr, "fake qemu: unknown FAKE_QEMU=%s\n", mode);
    return 1;
}
