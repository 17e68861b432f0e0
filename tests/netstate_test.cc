// The network-state helpers Decide's refusals rest on: the routing table
// (longest prefix, lowest metric, multipath), reverse path, martian
// addresses, and the reply size a request allows (RFC 2131, RFC 2132 9.10).
#include "proxydhcp/netstate.h"

#include "gtest/gtest.h"
#include "proxydhcp/decide.h"
#include "wire/addr.h"
#include "wire/dhcp_message.h"

namespace proxydhcp {
namespace {

wire::Ipv4 Ip(const char* s) { return wire::ParseIpv4(s).value(); }

TEST(RouteTable, LongestPrefixThenLowestMetric) {
  RouteTable t({{0, 0, {1}, true, 100},
                {Ip("10.0.0.0"), 8, {2}, true, 10},
                {Ip("10.1.0.0"), 16, {3}, true, 50},
                {Ip("10.1.0.0"), 16, {4}, true, 20},
                {Ip("10.1.2.3"), 32, {5}}});
  EXPECT_EQ(t.Lookup(Ip("8.8.8.8"))->oifs, std::vector<int>{1});
  EXPECT_EQ(t.Lookup(Ip("10.9.9.9"))->oifs, std::vector<int>{2});
  EXPECT_EQ(t.Lookup(Ip("10.1.9.9"))->oifs, std::vector<int>{4});
  EXPECT_EQ(t.Lookup(Ip("10.1.2.3"))->oifs, std::vector<int>{5});
  EXPECT_EQ(RouteTable(std::vector<Route>{}).Lookup(Ip("10.1.2.3")), nullptr);
  EXPECT_EQ(t.size(), 4u);
}

TEST(ReversePath, MultipathAcceptsAnyNextHop) {
  RouteTable t({{0, 0, {1, 2}}});
  EXPECT_TRUE(ReversePathOk(t, Ip("1.2.3.4"), 2, ReversePath::kStrict));
  EXPECT_FALSE(ReversePathOk(t, Ip("1.2.3.4"), 3, ReversePath::kStrict));
  EXPECT_TRUE(ReversePathOk(t, Ip("1.2.3.4"), 3, ReversePath::kLoose));
}

TEST(Martian, Classes) {
  for (const char* a :
       {"0.0.0.0", "0.255.0.1", "127.0.0.1", "127.255.255.254", "224.0.0.1",
        "239.1.1.1", "240.0.0.0", "255.255.255.255"}) {
    EXPECT_TRUE(IsMartian(Ip(a))) << a;
  }
  for (const char* a : {"10.0.0.1", "169.254.1.1", "192.168.0.255",
                        "223.255.255.254", "1.0.0.0"}) {
    EXPECT_FALSE(IsMartian(Ip(a))) << a;
  }
}

TEST(MaxReplyIpSize, Rfc2131) {
  wire::DhcpMessage m;
  EXPECT_EQ(MaxReplyIpSize(m, 1500), 576u);
  m.options.SetU16(wire::kOptMaxMessageSize, 300);  // below the legal minimum
  EXPECT_EQ(MaxReplyIpSize(m, 1500), 576u);
  m.options.SetU16(wire::kOptMaxMessageSize, 1400);
  EXPECT_EQ(MaxReplyIpSize(m, 1500), 1400u);
  m.options.SetU16(wire::kOptMaxMessageSize, 9000);
  EXPECT_EQ(MaxReplyIpSize(m, 1500), 1500u);
}

}  // namespace
}  // namespace proxydhcp
