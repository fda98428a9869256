/* service.c - a small daemon for docs/ci.md's recipe "checking a service":
 * it never returns from main, it is stopped with SIGTERM.  It answers
 * one-line requests on a UNIX-domain socket; `service --client SOCKET
 * REQUEST...` sends requests and prints the answers.
 *   remember WORD   kept in a cache that is never trimmed (reachable, and
 *                   growing: a leak check while it runs says so)
 *   stats           answers from a buffer it forgets to free: one
 *                   definite 64-byte leak per request
 *   anything else   echoed
 * No handler for SIGTERM: under libmpwrap.so the report is written when
 * the signal arrives, then the process dies of it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct entry {
	struct entry *next;
	char word[32];
};
static struct entry *cache;
static size_t ncache;

static char *handle(const char *req)
{
	if (strncmp(req, "remember ", 9) == 0) {
		struct entry *e = calloc(1, sizeof *e);
		snprintf(e->word, sizeof e->word, "%s", req + 9);
		e->next = cache;
		cache = e;
		ncache++;
		return strdup("ok");
	}
	if (strcmp(req, "stats") == 0) {
		char *buf = malloc(64); /* the bug: never freed */
		snprintf(buf, 64, "%zu words", ncache);
		return strdup(buf);
	}
	return strdup(req);
}

static int open_socket(const char *path, int serve)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (serve) {
		/* bound under a temporary name and renamed once listening: a
		 * client that waits for the socket to exist never connects
		 * between bind and listen (ECONNREFUSED) */
		char tmp[sizeof a.sun_path];
		if ((size_t)snprintf(tmp, sizeof tmp, "%s.new", path) >= sizeof tmp)
			return -1;
		struct sockaddr_un t = { .sun_family = AF_UNIX };
		memcpy(t.sun_path, tmp, sizeof tmp);
		unlink(tmp);
		if (bind(fd, (struct sockaddr *)&t, sizeof t) != 0 || listen(fd, 8) != 0 ||
		    rename(tmp, path) != 0)
			return -1;
	} else if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		return -1;
	}
	return fd;
}

static int client(const char *path, int n, char **reqs)
{
	for (int i = 0; i < n; i++) {
		char answer[256];
		int fd = open_socket(path, 0);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		dprintf(fd, "%s\n", reqs[i]);
		ssize_t got = read(fd, answer, sizeof answer - 1);
		answer[got > 0 ? got : 0] = '\0';
		printf("%s -> %s", reqs[i], answer);
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "--client") == 0)
		return client(argv[2], argc - 3, argv + 3);
	if (argc != 2) {
		fprintf(stderr, "usage: service SOCKET | service --client SOCKET REQUEST...\n");
		return 2;
	}
	int lfd = open_socket(argv[1], 1);
	if (lfd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		char req[128];
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, req, sizeof req - 1);
		req[n > 0 ? n : 0] = '\0';
		req[strcspn(req, "\n")] = '\0';
		char *answer = handle(req);
		dprintf(fd, "%s\n", answer);
		free(answer);
		close(fd);
	}
}
