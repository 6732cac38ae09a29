// An ordinary program to probe: it calls greet() once a second. `npm run build` compiles it to
// dist/greeter; run `./dist/greeter World` and watch `sudo npm start` report each call.

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// noinline keeps greet() a real function with its own symbol, which is what a uprobe attaches to.
__attribute__((noinline)) void greet(const char *name, int times)
{
	printf("Hello, %s! (%d)\n", name, times);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "world";
	int count = argc > 2 ? atoi(argv[2]) : 0; // 0: forever

	for (int i = 1; count == 0 || i <= count; i++) {
		greet(name, i);
		if (count == 0 || i < count)
			sleep(1);
	}
	return 0;
}
