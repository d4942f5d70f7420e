/* Prints what a run gave the program: its arguments, X from the environment, its
 * working directory; exits 3. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char cwd[256];
	for (int i = 1; i < argc; i++)
		printf("arg %s\n", argv[i]);
	const char *x = getenv("X");
	printf("X=%s\ncwd=%s\n", x ? x : "(unset)", getcwd(cwd, sizeof cwd) ? cwd : "?");
	return 3;
}
