// Test helper: the frames of a pcap file, read with libpcap.
#ifndef PXEPROXY_TESTS_PCAP_FRAMES_H_
#define PXEPROXY_TESTS_PCAP_FRAMES_H_

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

namespace testing_util {

struct Frame {
  double time = 0;
  std::vector<uint8_t> bytes;
};

inline std::vector<Frame> ReadPcap(const std::string& path, std::string* err) {
  char errbuf[PCAP_ERRBUF_SIZE];
  std::vector<Frame> out;
  pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
  if (p == nullptr) {
    *err = errbuf;
    return out;
  }
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    out.push_back({hdr->ts.tv_sec + hdr->ts.tv_usec / 1e6,
                   std::vector<uint8_t>(data, data + hdr->caplen)});
  }
  pcap_close(p);
  return out;
}

#ifdef PXEPROXY_SOURCE_DIR
inline std::string SourceDir() { return PXEPROXY_SOURCE_DIR; }
#endif

}  // namespace testing_util

#endif  // PXEPROXY_TESTS_PCAP_FRAMES_H_
