/*
 * bench_sock_floor.c - the floor of `posmark-hq card` answered over serve's admin socket: a
 * process linked with libc alone that connects to the socket, sends one request line and reads
 * the reply to its end. bench/hq_card_front.sh times it as it times the command (a fresh process
 * each call, exec to exit), so the front program's figure stands beside what starting any
 * process and one round trip to serve cost on the same machine at the same moment. The request
 * carries a key no serve has: serve answers OTHER at once, without the database (the lookup's
 * own cost is in the command's figure, not in the floor). Nothing of posmark is linked.
 *   bench_sock_floor SOCKET     exit 0 after reading a reply, 1 on any failure
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "card1 1 0000000000000000000000000000000000000000000000000000000000000000 1\n";
	char buf[256];
	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: bench_sock_floor SOCKET\n");
		return 1;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		perror("bench_sock_floor");
		return 1;
	}
	ssize_t n, total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	if (total <= 0)
		return 1;
	fwrite(buf, 1, (size_t)(total < (ssize_t)sizeof(buf) ? total : 0), stdout);
	return 0;
}
