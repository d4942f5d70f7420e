/* One thread spins without a syscall until told to stop; the main thread prints three
 * ticks, sleeping between them. Without preemption the ticks never come. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int stop;

static void *spin(void *arg) {
    (void)arg;
    while (!stop) {
    }
    return NULL;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    usleep(20000);
    for (int i = 0; i < 3; i++) {
        printf("tick %d\n", i);
        fflush(stdout);
        usleep(10000);
    }
    stop = 1;
    pthread_join(t, NULL);
    puts("joined");
    return 0;
}
