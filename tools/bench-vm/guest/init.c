/*
 * bench-vm's init for the Linux VM (PID 1 of the initramfs, built `musl-gcc -static -O2`).
 *
 * It runs one program and then ends the VM, so that a Linux VM behaves like `unify run`:
 * the program's output on the console, its exit status reported, QEMU gone afterwards.
 *
 *   /bench-vm/argv     the program's argv, NUL-separated (argv[0] is its path)
 *   /bench-vm/modules  optional: kernel modules to load first, one path a line, in order
 *   /bench-vm/net      optional: if present, bring up lo and eth0 as QEMU's user network
 *                      expects: 10.0.2.15/24, default route via 10.0.2.2
 *
 * Mounts /proc, /sys and /dev (devtmpfs) for programs that look there, forks, execs the
 * program (fds 0-2 are the kernel's /dev/console), waits, prints
 * "bench-vm-init: exit N" (or "bench-vm-init: signal N"), drains the console and calls
 * reboot(RB_AUTOBOOT): with `reboot=t` on the kernel command line that is a triple fault,
 * which QEMU run with -no-reboot turns into its own exit. Lines of its own start with
 * "bench-vm-init: ".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    (void)!write(2, "bench-vm-init: ", 15);
    (void)!write(2, buf, n);
}

/* Ends the VM; never returns. */
static void end_vm(void)
{
    tcdrain(1);
    tcdrain(2);
    sync();
    reboot(RB_AUTOBOOT);
    /* Without reboot=t the kernel may fall back to other methods; wait for them. */
    for (;;)
        pause();
}

static void die(const char *what)
{
    say("%s: %s", what, strerror(errno));
    say("exit 125");
    end_vm();
}

/* Reads a whole file into a NUL-terminated buffer; returns its length or -1. */
static long slurp(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            close(fd);
            return -1;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[len] = 0;
    *out = buf;
    return len;
}

static void load_modules(void)
{
    char *list;
    if (slurp("/bench-vm/modules", &list) < 0)
        return;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die(line);
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            die(line);
        close(fd);
    }
    free(list);
}

static void ifreq_for(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

static void set_sockaddr(struct sockaddr *sa, const char *addr)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin.sin_addr);
    memcpy(sa, &sin, sizeof sin);
}

static void if_up(int s, const char *name)
{
    struct ifreq ifr;
    ifreq_for(&ifr, name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        die(name);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        die(name);
}

static void setup_net(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    if_up(s, "lo");

    /* virtio_net probes its device while the module loads; give eth0 a moment anyway. */
    struct ifreq ifr;
    for (int i = 0;; i++) {
        ifreq_for(&ifr, "eth0");
        if (ioctl(s, SIOCGIFINDEX, &ifr) == 0)
            break;
        if (i == 200)
            die("eth0 (is virtio_net loaded and a virtio-net device plugged in?)");
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ifreq_for(&ifr, "eth0");
    set_sockaddr(&ifr.ifr_addr, "10.0.2.15");
    if (ioctl(s, SIOCSIFADDR, &ifr) != 0)
        die("eth0 address");
    ifreq_for(&ifr, "eth0");
    set_sockaddr(&ifr.ifr_netmask, "255.255.255.0");
    if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
        die("eth0 netmask");
    if_up(s, "eth0");

    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_sockaddr(&rt.rt_dst, "0.0.0.0");
    set_sockaddr(&rt.rt_gateway, "10.0.2.2");
    set_sockaddr(&rt.rt_genmask, "0.0.0.0");
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if (ioctl(s, SIOCADDRT, &rt) != 0)
        die("default route");
    close(s);
}

static void mount_one(const char *src, const char *dir, const char *type)
{
    mkdir(dir, 0755);
    if (mount(src, dir, type, 0, NULL) != 0 && errno != EBUSY)
        say("mount %s: %s", dir, strerror(errno));
}

int main(void)
{
    mount_one("proc", "/proc", "proc");
    mount_one("sysfs", "/sys", "sysfs");
    mount_one("devtmpfs", "/dev", "devtmpfs");

    char *args;
    long len = slurp("/bench-vm/argv", &args);
    if (len <= 0)
        die("/bench-vm/argv");
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (long i = 0; i < len && argc < MAX_ARGS; i += strlen(args + i) + 1)
        argv[argc++] = args + i;
    argv[argc] = NULL;

    load_modules();
    if (access("/bench-vm/net", F_OK) == 0)
        setup_net();

    char *envp[] = {"PATH=/bin:/sbin:/usr/bin", "HOME=/", "LANG=C", NULL};
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        execve(argv[0], argv, envp);
        say("exec %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    /* Reap everything (orphans come to PID 1) until the program itself ends. */
    for (;;) {
        pid_t got = wait(&status);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            die("wait");
        if (got == pid)
            break;
    }
    if (WIFEXITED(status))
        say("exit %d", WEXITSTATUS(status));
    else
        say("signal %d", WTERMSIG(status));
    end_vm();
}
