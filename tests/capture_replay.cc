// Test tool: injects the frames of a pcap file on an interface, in order,
// with a fixed gap (for the diagnose mode's live test in a namespace).
// Usage: capture_replay IFACE FILE [GAP_MS]
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s IFACE FILE [GAP_MS]\n", argv[0]);
    return 2;
  }
  const int gap_ms = argc > 3 ? std::atoi(argv[3]) : 2;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* in = pcap_open_offline(argv[2], err);
  if (in == nullptr) {
    std::fprintf(stderr, "%s: %s\n", argv[2], err);
    return 1;
  }
  pcap_t* out = pcap_open_live(argv[1], 65535, 0, 100, err);
  if (out == nullptr) {
    std::fprintf(stderr, "%s: %s\n", argv[1], err);
    return 1;
  }
  pcap_pkthdr* hdr;
  const u_char* data;
  int sent = 0;
  while (pcap_next_ex(in, &hdr, &data) == 1) {
    if (hdr->caplen != hdr->len) continue;  // snapped: cannot be replayed
    if (pcap_inject(out, data, hdr->caplen) < 0) {
      std::fprintf(stderr, "inject: %s\n", pcap_geterr(out));
      return 1;
    }
    ++sent;
    usleep(gap_ms * 1000);
  }
  std::printf("replayed %d frames from %s\n", sent, argv[2]);
  pcap_close(out);
  pcap_close(in);
  return 0;
}
