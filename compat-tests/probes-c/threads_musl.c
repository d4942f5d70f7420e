/* musl's threads: pthread_create/join of 100 threads (musl's own clone path, with
 * CLONE_DETACHED and its register conventions), a mutex and condition variable under
 * contention, pthread_detach, thread-specific data with destructors, sched_yield. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static pthread_key_t key;
static int destructed;

static void *square(void *arg) {
    long i = (long)arg;
    return (void *)(i * i);
}

static void *add(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return 0;
}

static void *waiter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return (void *)7;
}

static void destructor(void *value) {
    pthread_mutex_lock(&lock);
    destructed += (int)(long)value;
    pthread_mutex_unlock(&lock);
}

static void *with_key(void *arg) {
    pthread_setspecific(key, arg);
    return (void *)(syscall(SYS_gettid) != getpid());
}

static void *detached(void *arg) {
    pthread_mutex_lock(&lock);
    counter += (long)arg;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return 0;
}

int main(void) {
    pthread_t t[100];
    long sum = 0;
    for (long i = 0; i < 100; i++)
        if (pthread_create(&t[i], 0, square, (void *)i)) return 1;
    for (int i = 0; i < 100; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("100 threads: sum of squares %ld\n", sum);

    for (int i = 0; i < 8; i++) pthread_create(&t[i], 0, add, 0);
    for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
    printf("mutex: 8 threads x 20000: %ld\n", counter);

    for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, waiter, 0);
    usleep(20000);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    long woken = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        woken += (long)r;
    }
    printf("condvar broadcast: 4 waiters returned %ld\n", woken);

    pthread_key_create(&key, destructor);
    long others = 0;
    for (long i = 0; i < 5; i++) pthread_create(&t[i], 0, with_key, (void *)(i + 1));
    for (int i = 0; i < 5; i++) {
        void *r;
        pthread_join(t[i], &r);
        others += (long)r;
    }
    printf("thread-specific data: destructors saw %d, tids differ from the pid: %ld\n", destructed, others);

    counter = 0;
    pthread_t d;
    pthread_create(&d, 0, detached, (void *)5);
    pthread_detach(d);
    pthread_mutex_lock(&lock);
    while (counter == 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    printf("detached thread ran: %ld\n", counter);
    printf("sched_yield: %d\n", sched_yield());
    return 0;
}
