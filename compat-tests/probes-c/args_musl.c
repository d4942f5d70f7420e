/* argv and the environment as a musl program sees them (sorted environment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc: %d\n", argc);
    const char *base = strrchr(argv[0], '/');
    printf("argv[0] basename: %s\n", base ? base + 1 : argv[0]);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]: \"%s\"\n", i, argv[i]);
    printf("argv[argc] is NULL: %s\n", argv[argc] == NULL ? "true" : "false");

    int n = 0;
    while (environ[n])
        n++;
    char **env = malloc(sizeof(char *) * (n + 1));
    memcpy(env, environ, sizeof(char *) * (n + 1));
    qsort(env, n, sizeof(char *), cmp);
    printf("env count: %d\n", n);
    for (int i = 0; i < n; i++)
        printf("env %s\n", env[i]);
    const char *x = getenv("UNIFY_PROBE_X");
    printf("getenv UNIFY_PROBE_X: %s\n", x ? x : "(null)");
    const char *m = getenv("UNIFY_PROBE_MISSING");
    printf("getenv UNIFY_PROBE_MISSING: %s\n", m ? m : "(null)");
    free(env);
    return 0;
}
