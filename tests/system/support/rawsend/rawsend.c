/*
 * rawsend IFNAME HEXFRAME [COUNT]: sends a whole Ethernet frame, given in hex, out of IFNAME with an
 * AF_PACKET socket, as a tenant with CAP_NET_RAW can from inside its container. The port security tests
 * use it to forge source MACs, source addresses and ARP. Built static by the test, run inside the container.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rawsend IFNAME HEXFRAME [COUNT]\n");
    return 2;
  }
  size_t hexlen = strlen(argv[2]);
  if (hexlen % 2 != 0 || hexlen / 2 < 14 || hexlen / 2 > 1514) {
    fprintf(stderr, "rawsend: a frame is 14 to 1514 bytes, in hex\n");
    return 2;
  }
  unsigned char frame[1514];
  size_t len = hexlen / 2;
  for (size_t i = 0; i < len; i++) {
    unsigned int byte;
    if (sscanf(argv[2] + 2 * i, "%2x", &byte) != 1) {
      fprintf(stderr, "rawsend: not hex at %zu\n", 2 * i);
      return 2;
    }
    frame[i] = (unsigned char)byte;
  }
  int count = argc > 3 ? atoi(argv[3]) : 1;
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    perror("rawsend: socket");
    return 1;
  }
  struct sockaddr_ll to = {0};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = (int)if_nametoindex(argv[1]);
  to.sll_halen = ETH_ALEN;
  memcpy(to.sll_addr, frame, ETH_ALEN);
  if (to.sll_ifindex == 0) {
    perror("rawsend: interface");
    return 1;
  }
  for (int i = 0; i < count; i++) {
    if (sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
      perror("rawsend: sendto");
      return 1;
    }
    usleep(10000);
  }
  close(fd);
  return 0;
}
