// The /metrics endpoint (--metrics_address): libmicrohttpd serves the
// Prometheus text exposition of metrics::Metrics from its own thread.
//
// Two steps, like privdrop.h: Listen binds the socket while the process may
// still be root (a port below 1024 needs it), Start begins serving after the
// privilege drop, because capabilities are per thread and a thread started
// before the drop would keep root's.
#ifndef PXEPROXY_METRICS_HTTP_H_
#define PXEPROXY_METRICS_HTTP_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "metrics/pxeproxy_metrics.h"
#include "wire/addr.h"

struct MHD_Daemon;

namespace metrics {

class HttpExporter {
 public:
  static absl::StatusOr<std::unique_ptr<HttpExporter>> Listen(
      wire::Ipv4 ip, uint16_t port, const Metrics* metrics);
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  absl::Status Start();
  uint16_t port() const { return port_; }

 private:
  HttpExporter(int fd, uint16_t port, const Metrics* metrics)
      : fd_(fd), port_(port), metrics_(metrics) {}

  int fd_;
  uint16_t port_;
  const Metrics* metrics_;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace metrics

#endif  // PXEPROXY_METRICS_HTTP_H_
