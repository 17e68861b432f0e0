#include "proxydhcp/respond.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace proxydhcp {
namespace {

const MacRule* FindMacRule(const ResponderConfig& config,
                           const wire::MacAddr& mac) {
  for (const MacRule& rule : config.mac_rules) {
    if (std::equal(rule.prefix.begin(), rule.prefix.begin() + rule.prefix_len,
                   mac.begin())) {
      return &rule;
    }
  }
  return nullptr;
}

const std::string* FindIn(const std::map<uint16_t, std::string>& m,
                          uint16_t arch) {
  auto it = m.find(arch);
  return it == m.end() ? nullptr : &it->second;
}

// PXE: the rule's file for this arch, the rule's file, --boot_file=ARCH=,
// then the per-class flags (--boot_file_bios...). An empty name: not
// answered.
std::variant<std::string, IgnoreReason> PxeBootFile(
    uint16_t arch, const MacRule* rule, const ResponderConfig& config) {
  if (rule != nullptr) {
    if (const std::string* f = FindIn(rule->arch_boot_files, arch)) {
      if (f->empty()) return IgnoreReason::kNoBootFileForArch;
      return *f;
    }
  }
  const std::string* by_code = FindIn(config.arch_boot_files, arch);
  const BootArch cls = BootArchOf(arch);
  if (by_code == nullptr && cls == BootArch::kUnsupported) {
    return IgnoreReason::kUnsupportedArch;
  }
  if (rule != nullptr && rule->boot_file) return *rule->boot_file;
  std::string file;
  if (by_code != nullptr) {
    file = *by_code;
  } else if (auto it = config.boot_files.find(cls);
             it != config.boot_files.end()) {
    file = it->second;
  }
  if (file.empty()) return IgnoreReason::kNoBootFileForArch;
  return file;
}

// HTTP Boot: one URL per arch, so that an ARM or IA32 client is never handed
// an x64 binary; --http_boot_url=URL alone is x64's (arch 16).
std::string HttpBootUrl(uint16_t arch, const MacRule* rule,
                        const ResponderConfig& config) {
  if (rule != nullptr) {
    if (const std::string* u = FindIn(rule->http_boot_urls, arch)) return *u;
  }
  if (const std::string* u = FindIn(config.http_boot_urls, arch)) return *u;
  return arch == wire::kArchHttpX64 ? config.http_boot_url : std::string();
}

bool IsHttpUrl(const std::string& url) {
  return absl::StartsWithIgnoreCase(url, "http://") ||
         absl::StartsWithIgnoreCase(url, "https://");
}

// The file for this client, or the reason there is none.
std::variant<std::string, IgnoreReason> ChooseBootFile(
    const ClientInfo& client, const MacRule* rule, wire::Ipv4 server_ip,
    const ResponderConfig& config) {
  if (client.kind == ClientKind::kIpxe) {
    std::string menu = config.menu_url;
    if (menu.empty()) {
      // The embedded menu lives in our own TFTP server, whatever siaddr says.
      menu = absl::StrCat("tftp://", wire::FormatIpv4(server_ip), "/",
                          config.embedded_menu_name);
    }
    // An iPXE built without HTTP cannot fetch an http:// menu: give it a full
    // iPXE for its arch, which comes back able to (option 175 feature 0x13).
    if (!(IsHttpUrl(menu) && client.ipxe_has_175 && !client.ipxe_http)) {
      return menu;
    }
  }
  if (client.kind == ClientKind::kHttpBoot) {
    std::string url = HttpBootUrl(client.arch, rule, config);
    if (url.empty()) return IgnoreReason::kNoHttpBootUrl;
    return url;
  }
  return PxeBootFile(client.arch, rule, config);
}

// Option 43 with PXE_DISCOVERY_CONTROL = 8: "use the boot file in the offer,
// skip boot-server discovery" (PXE 2.1 spec, table 2-1).
const std::vector<uint8_t> kDiscoveryControlBootFile = {6, 1, 8, 255};

// Option 43 for a Raspberry Pi's bootloader: it boots only when 43 names the
// PXE menu item "Raspberry Pi Boot" (rpi-eeprom PXE_OPTION43's default). The
// bytes are Tinkerbell smee's (and dnsmasq's pxe-service=0,"Raspberry Pi
// Boot"): 6 = 8, 9 = menu item type 0 "Raspberry Pi Boot", 10 = prompt,
// timeout 0, "PXE" (README "Every architecture, and Raspberry Pis").
std::vector<uint8_t> RaspberryPiOption43() {
  static const char kMenu[] = "Raspberry Pi Boot";
  std::vector<uint8_t> v = {6, 1, 8, 9, static_cast<uint8_t>(3 + 17), 0, 0, 17};
  v.insert(v.end(), kMenu, kMenu + 17);
  const uint8_t prompt[] = {10, 4, 0, 'P', 'X', 'E', 255};
  v.insert(v.end(), std::begin(prompt), std::end(prompt));
  return v;
}

// Option 43 echoing the boot item (43.71) a 4011 request asked for (PXE 2.1
// section 2.2.5): type and layer, 4 bytes; anything else is not echoed.
std::optional<std::vector<uint8_t>> BootItem(const wire::DhcpMessage& req) {
  auto vendor = req.options.Get(wire::kOptVendorSpecific);
  if (!vendor) return std::nullopt;
  auto subs = wire::ParseSubOptions(*vendor);
  if (!subs || !subs->count(71) || subs->at(71).size() != 4)
    return std::nullopt;
  std::vector<uint8_t> v = {71, 4};
  v.insert(v.end(), subs->at(71).begin(), subs->at(71).end());
  v.push_back(255);
  return v;
}

}  // namespace

const char* UefiStrategyName(UefiStrategy s) {
  return s == UefiStrategy::kBinl ? "binl" : "bypass";
}

const char* IgnoreReasonName(IgnoreReason r) {
  switch (r) {
    case IgnoreReason::kMalformed:
      return "malformed";
    case IgnoreReason::kNotAddressedToUs:
      return "not_addressed_to_us";
    case IgnoreReason::kVlanTagged:
      return "vlan_tagged";
    case IgnoreReason::kNotBootRequest:
      return "not_bootrequest";
    case IgnoreReason::kNoMessageType:
      return "no_message_type";
    case IgnoreReason::kNotPxeClient:
      return "not_pxe_client";
    case IgnoreReason::kRequestOnPort67:
      return "request_on_port_67";
    case IgnoreReason::kUnhandledMessageType:
      return "unhandled_message_type";
    case IgnoreReason::kUnsupportedArch:
      return "unsupported_arch";
    case IgnoreReason::kNoBootFileForArch:
      return "no_boot_file_for_arch";
    case IgnoreReason::kNoHttpBootUrl:
      return "no_http_boot_url";
    case IgnoreReason::kNoServerAddress:
      return "no_server_address";
    case IgnoreReason::kBadChecksum:
      return "bad_checksum";
    case IgnoreReason::kBadSource:
      return "bad_source";
    case IgnoreReason::kBadRelayAddress:
      return "bad_relay_address";
    case IgnoreReason::kReversePath:
      return "reverse_path";
    case IgnoreReason::kReplyTooLarge:
      return "reply_too_large";
    case IgnoreReason::kRaspberryPi:
      return "raspberry_pi";
  }
  return "unknown";
}

std::vector<IgnoreReason> AllIgnoreReasons() {
  return {IgnoreReason::kMalformed,       IgnoreReason::kNotAddressedToUs,
          IgnoreReason::kVlanTagged,      IgnoreReason::kNotBootRequest,
          IgnoreReason::kNoMessageType,   IgnoreReason::kNotPxeClient,
          IgnoreReason::kRequestOnPort67, IgnoreReason::kUnhandledMessageType,
          IgnoreReason::kUnsupportedArch, IgnoreReason::kNoBootFileForArch,
          IgnoreReason::kNoHttpBootUrl,   IgnoreReason::kNoServerAddress,
          IgnoreReason::kBadChecksum,     IgnoreReason::kBadSource,
          IgnoreReason::kBadRelayAddress, IgnoreReason::kReversePath,
          IgnoreReason::kReplyTooLarge,   IgnoreReason::kRaspberryPi};
}

namespace {

// Which message types a proxy answers on each port.
std::optional<IgnoreReason> CheckMessageType(uint8_t type,
                                             const RequestContext& ctx) {
  if (ctx.dst_port != kPxeBinlPort) {
    // A REQUEST on 67 is addressed to the real server, never to a proxy.
    if (type == wire::kRequest) return IgnoreReason::kRequestOnPort67;
    if (type != wire::kDiscover) return IgnoreReason::kUnhandledMessageType;
  } else if (type != wire::kRequest && type != wire::kInform) {
    return IgnoreReason::kUnhandledMessageType;
  }
  return std::nullopt;
}

// Relay agent information goes back to the relay (RFC 3046 section 2.2),
// and to a snooping switch that inserted it with giaddr 0 (RFC 3046 2.1:
// it strips 82 from the reply and may drop a reply without it).
void EchoRelayAgent(const wire::DhcpMessage& req, wire::DhcpOptions* o) {
  if (auto agent = req.options.Get(wire::kOptRelayAgent)) {
    o->Set(wire::kOptRelayAgent, {agent->begin(), agent->end()});
  }
}

// op, xid, chaddr... copied; yiaddr 0 is what makes EDK2 and iPXE treat an
// offer as a proxy offer; on 4011 the ACK repeats the client's own address
// (PXE 2.1, docs/protocol.md "Port 4011").
void FillHeader(const wire::DhcpMessage& req, bool binl, wire::Ipv4 siaddr,
                const std::string& boot_file, wire::DhcpMessage* m) {
  m->op = wire::kBootReply;
  m->htype = req.htype;
  m->hlen = req.hlen;
  m->xid = req.xid;
  m->flags = req.flags;
  m->giaddr = req.giaddr;
  m->chaddr = req.chaddr;
  m->yiaddr = binl ? req.ciaddr : 0;
  m->ciaddr = binl ? req.ciaddr : 0;  // RFC 2131 table 3: ciaddr or 0
  m->siaddr = siaddr;
  // file holds at most 127 bytes plus its NUL; a longer URL goes in 67 only.
  if (boot_file.size() <= 127) m->file = boot_file;
}

// Broadcast on the interface, unicast to a relay, or back to a 4011 client.
void SetDestination(const wire::DhcpMessage& req, const RequestContext& ctx,
                    bool binl, Reply* r) {
  r->src_ip = ctx.server_ip;
  if (binl) {
    // To the request's source ip:port (EDK2 sends from 4011, others from 68);
    // iPXE accepts a proxy ACK only from source port 4011.
    r->src_port = kPxeBinlPort;
    r->dst_port = ctx.src_port;
    r->dst_ip = ctx.src_ip != 0 ? ctx.src_ip : wire::kIpv4Broadcast;
    r->broadcast = ctx.src_ip == 0;
  } else if (req.giaddr != 0) {
    r->src_port = kDhcpServerPort;
    r->dst_ip = req.giaddr;
    r->dst_port = kDhcpServerPort;
    r->broadcast = false;
  } else {
    r->src_port = kDhcpServerPort;
    r->dst_ip = wire::kIpv4Broadcast;
    r->dst_port = kDhcpClientPort;
    r->broadcast = true;
  }
}

// No boot file: the Pi fetches bootcode.bin (Pi 3) or <serial>/start4.elf
// (Pi 4/5) from siaddr's TFTP root by itself.
Reply RaspberryPiReply(const wire::DhcpMessage& req, const RequestContext& ctx,
                       const ClientInfo& client, bool binl,
                       const ResponderConfig& config) {
  Reply reply;
  reply.client = client;
  FillHeader(req, binl, config.tftp_server.value_or(ctx.server_ip), "",
             &reply.message);
  wire::DhcpOptions& o = reply.message.options;
  o.SetU8(wire::kOptMessageType, binl ? wire::kAck : wire::kOffer);
  o.SetIpv4(wire::kOptServerId, ctx.server_ip);
  o.SetString(wire::kOptVendorClass, "PXEClient");
  o.Set(wire::kOptVendorSpecific, RaspberryPiOption43());
  if (client.guid) o.Set(wire::kOptClientGuid, *client.guid);
  EchoRelayAgent(req, &o);
  SetDestination(req, ctx, binl, &reply);
  return reply;
}

// A client that DISCOVERs again (new xid) within the window, having reached
// neither 4011 nor TFTP after its last offer, turned that offer down: the
// other strategy. One that reached either keeps what worked.
UefiStrategy AdaptStrategy(UefiStrategy configured,
                           const wire::DhcpMessage& req,
                           const UefiRecall& recall, bool* switched) {
  *switched = false;
  if (recall.history == nullptr || recall.window_ms <= 0) return configured;
  const UefiHistoryEntry* e = recall.history->Find(req.mac());
  if (e == nullptr) return configured;
  if (e->xid == req.xid) return e->offered;  // a retransmission
  if (!e->reached && recall.now_ms - e->offered_ms <= recall.window_ms) {
    *switched = true;
    return e->offered == UefiStrategy::kBinl ? UefiStrategy::kBypass
                                             : UefiStrategy::kBinl;
  }
  return e->reached || e->worked ? e->offered : configured;
}

// The options of an offer or ACK to a PXE, HTTP Boot or iPXE client.
// `uefi_bypass`: a UEFI offer that carries the discovery-control 43 (the
// bypass strategy) rather than sending the client to 4011.
void SetOptions(const wire::DhcpMessage& req, const RequestContext& ctx,
                bool binl, bool uefi_bypass, const ResponderConfig& config,
                Reply* reply) {
  wire::DhcpOptions& o = reply->message.options;
  o.SetU8(wire::kOptMessageType, binl ? wire::kAck : wire::kOffer);
  o.SetIpv4(wire::kOptServerId, ctx.server_ip);
  o.SetString(wire::kOptVendorClass, reply->client.kind == ClientKind::kHttpBoot
                                         ? "HTTPClient"
                                         : "PXEClient");
  // NUL-terminated: EDK2 otherwise writes a NUL over the next option's code
  // byte in its cached offer (PxeBcParseDhcp4Packet), and old ROMs read past
  // the end (dnsmasq rfc2131.c: "Some PXE ROMs have bugs").
  std::vector<uint8_t> file67(reply->boot_file.begin(), reply->boot_file.end());
  file67.push_back(0);
  o.Set(wire::kOptBootfileName, std::move(file67));
  if (reply->client.guid) o.Set(wire::kOptClientGuid, *reply->client.guid);
  if (binl) {
    if (auto item = BootItem(req)) o.Set(wire::kOptVendorSpecific, *item);
  } else if (reply->client.kind == ClientKind::kPxe) {
    // BIOS: 43 = {6: 8}. UEFI: none by default, since old EDK2 drops the first
    // proxy offer that carries discovery sub-options (edk2#6944).
    if (!IsUefiArch(reply->client.arch) || uefi_bypass) {
      o.Set(wire::kOptVendorSpecific, kDiscoveryControlBootFile);
    }
  }
  EchoRelayAgent(req, &o);
  // Never a 43 menu for iPXE: it would enter its PXE menu code instead.
  if (reply->client.kind == ClientKind::kIpxe && config.ipxe_priority != 0) {
    o.Set(wire::kOptIpxeEncap,
          {wire::kIpxePriority, 1, static_cast<uint8_t>(config.ipxe_priority)});
  }
}

}  // namespace

Decision Respond(const wire::DhcpMessage& req, const RequestContext& ctx,
                 const ResponderConfig& config, const UefiRecall& recall) {
  if (req.op != wire::kBootRequest)
    return Ignore{IgnoreReason::kNotBootRequest};
  std::optional<uint8_t> type = req.message_type();
  if (!type) return Ignore{IgnoreReason::kNoMessageType};
  std::optional<ClientInfo> client = Classify(req, config.classify);
  if (!client) return Ignore{IgnoreReason::kNotPxeClient};
  if (auto reason = CheckMessageType(*type, ctx)) return Ignore{*reason};
  if (ctx.server_ip == 0) return Ignore{IgnoreReason::kNoServerAddress};

  const bool binl = ctx.dst_port == kPxeBinlPort;
  if (client->kind == ClientKind::kPxe && client->arch == wire::kArchBios &&
      IsRaspberryPiMac(req.mac())) {
    if (!config.raspberry_pi) return Ignore{IgnoreReason::kRaspberryPi};
    return RaspberryPiReply(req, ctx, *client, binl, config);
  }
  const MacRule* rule = FindMacRule(config, req.mac());
  auto chosen = ChooseBootFile(*client, rule, ctx.server_ip, config);
  if (auto* reason = std::get_if<IgnoreReason>(&chosen)) {
    return Ignore{*reason};
  }
  UefiStrategy strategy =
      rule && rule->uefi_strategy ? *rule->uefi_strategy : config.uefi_strategy;
  const bool uefi_pxe =
      client->kind == ClientKind::kPxe && IsUefiArch(client->arch);

  Reply reply;
  if (uefi_pxe && !binl) {
    strategy = AdaptStrategy(strategy, req, recall, &reply.uefi_switched);
    reply.uefi_strategy = strategy;
  }
  reply.client = *client;
  reply.boot_file = std::get<std::string>(chosen);
  // Always set siaddr: EDK2 falls back to it, iPXE's next-server is siaddr
  // only, and iPXE drops a proxy reply whose siaddr is 0 (docs/protocol.md
  // "siaddr").
  // A UEFI offer without 43 sends EDK2 to siaddr:4011 (PxeBcRetryBinlOffer
  // prefers siaddr), so there siaddr must be us; the ACK names the TFTP host.
  const bool expects_binl =
      !binl && uefi_pxe && strategy == UefiStrategy::kBinl;
  FillHeader(
      req, binl,
      expects_binl ? ctx.server_ip : config.tftp_server.value_or(ctx.server_ip),
      reply.boot_file, &reply.message);

  SetOptions(req, ctx, binl, uefi_pxe && strategy == UefiStrategy::kBypass,
             config, &reply);
  SetDestination(req, ctx, binl, &reply);
  return reply;
}

}  // namespace proxydhcp
