/* Reads /data/f, then tries to change /data (a read-only volume) and the writable /rw. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *result(int fd) { return fd < 0 ? strerror(errno) : "ok"; }

int main(void) {
    char b[16] = {0};
    int fd = open("/data/f", O_RDONLY);
    printf("read: %zd %s", read(fd, b, sizeof b - 1), b);
    printf("write: %s\n", result(open("/data/f", O_WRONLY)));
    printf("create: %s\n", result(open("/data/g", O_CREAT | O_WRONLY, 0644)));
    printf("unlink: %s\n", unlink("/data/f") < 0 ? strerror(errno) : "ok");
    printf("writable dir: %s\n", result(open("/rw/n", O_CREAT | O_WRONLY, 0644)));
    return 0;
}
