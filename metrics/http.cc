#include "metrics/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace metrics {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

MHD_Result Reply(MHD_Connection* connection, unsigned status,
                 const std::string& body, const char* type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  }
  MHD_Result r = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return r;
}

MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url,
                  const char* method, const char* /*version*/,
                  const char* /*upload_data*/, size_t* upload_data_size,
                  void** /*con_cls*/) {
  const Metrics* metrics = static_cast<const Metrics*>(cls);
  const std::string m = method;
  if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD) {
    return Reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n",
                 "text/plain");
  }
  if (*upload_data_size != 0) return MHD_NO;  // a GET with a body
  const std::string path = url;
  if (path == "/metrics") {
    return Reply(connection, MHD_HTTP_OK, metrics->Render(), kContentType);
  }
  if (path == "/") {
    return Reply(connection, MHD_HTTP_OK,
                 "pxeproxy: the metrics are at /metrics\n", "text/plain");
  }
  return Reply(connection, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n",
               "text/plain");
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpExporter>> HttpExporter::Listen(
    wire::Ipv4 ip, uint16_t port, const Metrics* metrics) {
  const std::string where =
      absl::StrCat("--metrics_address=", wire::FormatIpv4(ip), ":", port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat(where, ": socket: ", strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      listen(fd, 16) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat(where, ": cannot listen: ", strerror(e)));
  }
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return std::unique_ptr<HttpExporter>(
      new HttpExporter(fd, ntohs(sa.sin_port), metrics));
}

absl::Status HttpExporter::Start() {
  // One thread polls every connection; a scraper is one client every few
  // seconds, so a few connections are plenty, and an idle one is closed.
  daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, nullptr, nullptr,
      &Handle, const_cast<Metrics*>(metrics_), MHD_OPTION_LISTEN_SOCKET, fd_,
      MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 8u,
      MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (daemon_ == nullptr) {
    return absl::InternalError(
        "libmicrohttpd did not start on the metrics "
        "socket");
  }
  return absl::OkStatus();
}

HttpExporter::~HttpExporter() {
  if (daemon_ != nullptr)
    MHD_stop_daemon(daemon_);  // closes fd_ too
  else
    close(fd_);
}

}  // namespace metrics
