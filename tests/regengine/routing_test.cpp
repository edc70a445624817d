// Peer-to-peer routing between the core and registered phones: core requests to the
// Contact the front end registered are relayed to the phone's source address,
// Record-Route and loose routing for in-dialog requests, responses back by Via,
// phone requests to the registrar, 404 for a binding that is gone, 483, steering.
// Fake clock, no DPDK.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"
#include "sipfront/regengine/engine.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace sipfront::test {
namespace {

// The phone registers Contact 198.18.1.2:5062 but sends from its NAT's 198.18.1.200:40001.
const reg::endpoint k_phone{ip(198, 18, 1, 200), 40001, 0};
const reg::endpoint k_registrar{ip(198, 18, 2, 2), 5060, 1};
const reg::endpoint k_core_proxy{ip(198, 18, 2, 9), 5060, 1};
constexpr std::string_view k_contact = "sip:alice@198.18.1.2:5062";

std::string register_msg(unsigned cseq = 7, std::string_view branch = "z9hG4bK-p1", std::string_view expires = "600") {
  return make_register({.branch = std::string(branch),
                        .cseq = cseq,
                        .contact = "<" + std::string(k_contact) + ">",
                        .expires = std::string(expires)});
}

struct req_opts {
  std::string method = "INVITE";
  std::string ruri;
  std::string via = "SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK-core-1";
  std::string max_forwards = "70";
  std::string to = "<sip:alice@sipfront.test>";
  std::string call_id = "call-1@core.test";
  unsigned cseq = 1;
  std::string route;         // Route value (empty: none)
  std::string record_route;  // Record-Route value (empty: none)
  std::string from = "<sip:bob@core.test>;tag=b1";
  std::string contact = "<sip:bob@198.18.2.9:5060>";
};

std::string request(const req_opts& o) {
  std::string m = o.method + " " + o.ruri + " SIP/2.0\r\n";
  m += "Via: " + o.via + "\r\n";
  m += "Max-Forwards: " + o.max_forwards + "\r\n";
  if (!o.route.empty()) m += "Route: " + o.route + "\r\n";
  if (!o.record_route.empty()) m += "Record-Route: " + o.record_route + "\r\n";
  m += "From: " + o.from + "\r\n";
  m += "To: " + o.to + "\r\n";
  m += "Call-ID: " + o.call_id + "\r\n";
  m += "CSeq: " + std::to_string(o.cseq) + " " + o.method + "\r\n";
  m += "Contact: " + o.contact + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

// The UAS's answer to a relayed request: its Vias, From, To (+tag), Call-ID, CSeq,
// Record-Route copied (RFC 3261 §8.2.6.2, §12.1.1).
std::string answer_to(std::string_view req_bytes, unsigned code) {
  sip::message req;
  EXPECT_EQ(req.parse(req_bytes), sip::errc::ok);
  std::string r = "SIP/2.0 " + std::to_string(code) + " OK\r\n";
  for (const auto& h : req.headers()) {
    if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
        h.id == sip::header_id::cseq || h.id == sip::header_id::record_route) {
      r += std::string(req.raw_line(h));
    }
  }
  r += "To: " + std::string(req.value_of(sip::header_id::to)) + ";tag=uas9\r\n";
  r += "Content-Length: 0\r\n\r\n";
  return r;
}

class routing_test : public engine_harness {
 protected:
  void SetUp() override {
    cfg_ = p2p_config(k_registrar);
    make_engine();
  }

  std::vector<sent> from_core(std::string_view b) { return feed(b, reg::side::core, k_core_proxy, true); }
  std::vector<sent> from_phone(std::string_view b) { return feed(b, reg::side::access, k_phone, true); }

  // Registers the phone; returns the Contact URI the front end gave the registrar.
  std::string register_phone() {
    const auto fwd = from_phone(register_msg());
    EXPECT_EQ(fwd.size(), 1U);
    if (fwd.size() != 1) return {};
    EXPECT_EQ(from_registrar(registrar_answer(fwd[0].bytes, 200, "Whatever", 3600)).size(), 1U);
    const auto m = parsed(fwd[0].bytes);
    const auto na = sip::parse_name_addr(m.value_of(sip::header_id::contact));
    return na ? std::string(na->uri) : std::string();
  }
  std::vector<sent> from_registrar(std::string_view b) { return feed(b, reg::side::core, k_registrar, true); }

  static std::vector<sip::via> vias(const std::string& msg) {
    const auto m = parsed(msg);
    sip::via_list<8> v;
    EXPECT_EQ(sip::parse_vias(m, v), sip::errc::ok);
    return {v.begin(), v.end()};
  }
};

// ---------------------------------------------------------------- core -> phone

TEST_F(routing_test, core_invite_to_our_contact_goes_to_the_phones_source_with_its_contact_as_request_uri) {
  const std::string ours = register_phone();
  ASSERT_TRUE(ours.starts_with("sip:sf01-")) << ours;
  const std::size_t txns = eng_->live_transactions();  // the REGISTER's, in Timer K
  req_opts o;
  o.ruri = ours;
  o.record_route = "<sip:198.18.2.9;lr>";
  const auto out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone) << "the binding's stored source (NAT), not the Contact's host";
  const std::string& r = out[0].bytes;
  const auto m = parsed(r);
  EXPECT_EQ(sip::validate(m).broken, sip::rule::ok);
  EXPECT_EQ(m.request_uri(), k_contact);
  const auto v = vias(r);
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].host, "198.18.1.1") << "our access address: the phone answers there";
  EXPECT_TRUE(v[0].branch.starts_with("z9hG4bKsf01s")) << v[0].branch;
  EXPECT_EQ(v[1].branch, "z9hG4bK-core-1");
  EXPECT_EQ(header(r, sip::header_id::max_forwards), "69");
  const std::string user = ours.substr(4, ours.find('@') - 4);
  EXPECT_EQ(header(r, sip::header_id::record_route),
            "<sip:" + user + "@198.18.1.1:5060;lr>, <sip:" + user + "@198.18.2.1:5060;lr>, <sip:198.18.2.9;lr>")
      << "ours on top, the phone-side entry first";
  EXPECT_EQ(header(r, sip::header_id::call_id), "call-1@core.test");
  EXPECT_EQ(eng_->counters().routed_to_phone, 1U);
  EXPECT_EQ(eng_->live_transactions(), txns) << "stateless";

  // A retransmission maps to the same branch (and so to identical bytes).
  const auto again = from_core(request(o));
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].bytes, r);
  // A different transaction gets a different branch.
  o.via = "SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK-core-2";
  o.cseq = 2;
  const auto other = from_core(request(o));
  ASSERT_EQ(other.size(), 1U);
  EXPECT_NE(vias(other[0].bytes)[0].branch, v[0].branch);
}

TEST_F(routing_test, cancel_gets_the_branch_of_the_invite_it_cancels) {
  const std::string ours = register_phone();
  req_opts o;
  o.ruri = ours;
  const auto inv = from_core(request(o));
  o.method = "CANCEL";
  const auto can = from_core(request(o));
  ASSERT_EQ(inv.size(), 1U);
  ASSERT_EQ(can.size(), 1U);
  EXPECT_EQ(vias(can[0].bytes)[0].branch, vias(inv[0].bytes)[0].branch);
  EXPECT_EQ(header(can[0].bytes, sip::header_id::record_route), "") << "only initial INVITE-like requests";
}

TEST_F(routing_test, core_via_gets_received_when_it_came_from_elsewhere) {
  const std::string ours = register_phone();
  req_opts o;
  o.ruri = ours;
  o.via = "SIP/2.0/UDP core.test;branch=z9hG4bK-core-1;rport";
  const auto out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  const auto v = vias(out[0].bytes);
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[1].received, "198.18.2.9");
  EXPECT_EQ(v[1].rport, 5060U);
}

TEST_F(routing_test, phones_response_pops_our_via_and_goes_to_the_core) {
  const std::string ours = register_phone();
  req_opts o;
  o.ruri = ours;
  o.via = "SIP/2.0/UDP core.test:5070;branch=z9hG4bK-core-1;rport";  // answer by received/rport
  const auto fwd = from_core(request(o));
  ASSERT_EQ(fwd.size(), 1U);
  const std::string resp = answer_to(fwd[0].bytes, 200);
  sip::message rm = parsed(resp);
  EXPECT_EQ(reg::steer(rm, reg::side::access, 2, 0), 1U) << "our branch names the owner worker";
  EXPECT_EQ(reg::steer(rm, reg::side::access, 4, 3), 1U);
  const auto back = from_phone(resp);
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, (reg::endpoint{k_core_proxy.ip, 5060, 1})) << "received + rport of the core's Via";
  const auto v = vias(back[0].bytes);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].branch, "z9hG4bK-core-1");
  EXPECT_EQ(header(back[0].bytes, sip::header_id::record_route), header(fwd[0].bytes, sip::header_id::record_route));
  EXPECT_EQ(eng_->counters().routed_responses, 1U);
  EXPECT_EQ(eng_->counters().stray_responses, 0U);

  // Without received/rport the sent-by is used.
  o.via = "SIP/2.0/UDP 198.18.2.9:5080;branch=z9hG4bK-core-2";
  o.cseq = 2;
  const auto fwd2 = from_core(request(o));
  ASSERT_EQ(fwd2.size(), 1U);
  const auto back2 = from_phone(answer_to(fwd2[0].bytes, 180));
  ASSERT_EQ(back2.size(), 1U);
  EXPECT_EQ(back2[0].dst, (reg::endpoint{k_core_proxy.ip, 5080, 1}));
}

TEST_F(routing_test, response_with_a_foreign_top_via_is_stray) {
  register_phone();
  const std::string resp =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.2.9;branch=z9hG4bK-x\r\nFrom: <sip:b@c>;tag=1\r\n"
      "To: <sip:a@c>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  EXPECT_TRUE(from_phone(resp).empty());
  EXPECT_EQ(eng_->counters().stray_responses, 1U);
}

TEST_F(routing_test, in_dialog_request_with_our_route_goes_to_the_phone_and_our_routes_are_popped) {
  const std::string ours = register_phone();
  req_opts o;
  o.ruri = ours;
  const auto inv = from_core(request(o));
  ASSERT_EQ(inv.size(), 1U);
  const std::string rr = header(inv[0].bytes, sip::header_id::record_route);
  // The core (UAC) reverses the Record-Route: our core entry first, then the access one.
  const std::string access_rr = rr.substr(0, rr.find(", "));
  const std::string core_rr = rr.substr(rr.find(", ") + 2);
  req_opts bye;
  bye.method = "BYE";
  bye.ruri = std::string(k_contact);  // the phone's Contact from its 200
  bye.to = "<sip:alice@sipfront.test>;tag=uas9";
  bye.cseq = 2;
  bye.via = "SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK-bye-1";
  bye.route = core_rr + ", " + access_rr;
  const auto out = from_core(request(bye));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  const std::string& r = out[0].bytes;
  EXPECT_EQ(parsed(r).request_uri(), k_contact) << "loose routing: the Request-URI stays";
  EXPECT_EQ(parsed(r).find(sip::header_id::route), nullptr) << "both our entries popped";
  EXPECT_EQ(parsed(r).find(sip::header_id::record_route), nullptr) << "no Record-Route in a dialog";
  EXPECT_EQ(header(r, sip::header_id::max_forwards), "69");
  EXPECT_EQ(vias(r).size(), 2U);
  const std::string bye_bytes = request(bye);  // outlives the view
  sip::message bm = parsed(bye_bytes);
  EXPECT_EQ(reg::steer(bm, reg::side::core, 2, 0), 1U) << "the Route names the owner worker";

  // Entries after ours stay, in order.
  bye.route = core_rr + ", " + access_rr + ", <sip:198.18.1.77;lr>";
  bye.via = "SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK-bye-2";
  const auto out2 = from_core(request(bye));
  ASSERT_EQ(out2.size(), 1U);
  EXPECT_EQ(header(out2[0].bytes, sip::header_id::route), "<sip:198.18.1.77;lr>");
}

TEST_F(routing_test, request_uri_that_is_our_contact_wins_over_the_route) {
  const std::string ours = register_phone();
  req_opts o;
  o.ruri = ours;
  o.route = "<sip:198.18.2.1:5060;lr>";  // a preloaded Route to us without a binding
  const auto out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).request_uri(), k_contact);
  EXPECT_EQ(parsed(out[0].bytes).find(sip::header_id::route), nullptr);
}

TEST_F(routing_test, unknown_or_expired_binding_gets_404) {
  const std::string ours = register_phone();
  req_opts o;
  std::string forged = ours;
  forged[forged.find('@') - 1] = forged[forged.find('@') - 1] == '0' ? '1' : '0';
  o.ruri = forged;
  auto out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_core_proxy);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 404);
  EXPECT_EQ(eng_->counters().routed_not_found, 1U);

  o.ruri = "sip:nobody@198.18.2.1:5060";
  out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 404);

  // An ACK is never answered.
  o.method = "ACK";
  EXPECT_TRUE(from_core(request(o)).empty());

  // The phone's Contact lapsed (600 s) although the binding is still there (fail-count).
  o.method = "INVITE";
  o.ruri = ours;
  now_ += 601'000;
  out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 404);
  EXPECT_EQ(eng_->live_bindings(), 1U);

  // Unregistered: gone.
  now_ = 2000;
  SetUp();
  const std::string ours2 = register_phone();
  const auto un = from_phone(register_msg(8, "z9hG4bK-un", "0"));
  ASSERT_EQ(un.size(), 1U);
  from_registrar(registrar_answer(un[0].bytes, 200, "Whatever"));
  ASSERT_EQ(eng_->live_bindings(), 0U);
  o.ruri = ours2;
  out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 404);
}

TEST_F(routing_test, max_forwards_zero_gets_483_and_nothing_is_relayed) {
  const std::string ours = register_phone();
  req_opts o;
  o.ruri = ours;
  o.max_forwards = "0";
  const auto out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_core_proxy);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 483);
  EXPECT_EQ(eng_->counters().routed_to_phone, 0U);
  o.max_forwards = "1";
  const auto last = from_core(request(o));
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0].dst, k_phone);
  EXPECT_EQ(header(last[0].bytes, sip::header_id::max_forwards), "0");

  // Also when validation is not told the front end forwards: never a wrapped 255.
  cfg_.policy.forwarding = false;
  eng_ = std::make_unique<reg::engine>(cfg_);
  o.ruri = register_phone();
  o.max_forwards = "0";
  const auto out2 = from_core(request(o));
  ASSERT_EQ(out2.size(), 1U);
  EXPECT_EQ(out2[0].dst, k_core_proxy);
  EXPECT_EQ(parsed(out2[0].bytes).status_code(), 483);
}

TEST_F(routing_test, requests_for_the_front_end_itself_are_still_answered_locally) {
  register_phone();
  req_opts o;
  o.method = "OPTIONS";
  o.ruri = "sip:198.18.2.1:5060";
  auto out = from_core(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 200);
  o.via = "SIP/2.0/UDP 198.18.1.200:40001;branch=z9hG4bK-ka;rport";
  o.ruri = "sip:198.18.1.1";
  out = from_phone(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_phone);
  EXPECT_EQ(parsed(out[0].bytes).status_code(), 200);
  EXPECT_EQ(eng_->counters().routed_to_core, 0U);
}

// ---------------------------------------------------------------- phone -> core

TEST_F(routing_test, phone_invite_goes_to_the_registrar_with_our_via_and_record_route) {
  // A caller with no binding here (carol never registered through the front end):
  // the phone's source address is the Record-Route's user part.
  register_phone();
  req_opts o;
  o.ruri = "sip:bob@sipfront.test";
  o.via = "SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-ph-1;rport";
  o.from = "<sip:carol@sipfront.test>;tag=a9";
  o.to = "<sip:bob@sipfront.test>";
  o.call_id = "phone-call-1@198.18.1.2";
  const auto out = from_phone(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  const std::string& r = out[0].bytes;
  EXPECT_EQ(sip::validate(parsed(r)).broken, sip::rule::ok);
  EXPECT_EQ(parsed(r).request_uri(), "sip:bob@sipfront.test");
  const auto v = vias(r);
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].host, "198.18.2.1");
  EXPECT_TRUE(v[0].branch.starts_with("z9hG4bKsf01s")) << v[0].branch;
  EXPECT_EQ(v[1].received, "198.18.1.200") << "the phone's NAT address";
  EXPECT_EQ(v[1].rport, 40001U);
  EXPECT_EQ(header(r, sip::header_id::max_forwards), "69");
  EXPECT_EQ(header(r, sip::header_id::from), "<sip:carol@sipfront.test>;tag=a9") << "the dialog is end to end";
  EXPECT_EQ(header(r, sip::header_id::contact), o.contact) << "no binding: the phone's own Contact";
  EXPECT_EQ(header(r, sip::header_id::record_route),
            "<sip:sfp-c61201c8-9c41-0@198.18.2.1:5060;lr>, <sip:sfp-c61201c8-9c41-0@198.18.1.1:5060;lr>")
      << "the core-side entry first; the phone's source address in the user part";
  EXPECT_EQ(eng_->counters().routed_to_core, 1U);

  // The core's answer comes back to the phone's NAT address.
  const std::string resp = answer_to(r, 200);
  const auto back = from_registrar(resp);
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dst, k_phone);
  EXPECT_EQ(vias(back[0].bytes).size(), 1U);

  // The core's BYE in that dialog, routed by our Record-Route (reversed by the core),
  // reaches the phone's NAT address though its Contact says 198.18.1.2:5062.
  req_opts bye;
  bye.method = "BYE";
  bye.ruri = std::string(k_contact);
  bye.to = "<sip:carol@sipfront.test>;tag=a9";
  bye.from = "<sip:bob@sipfront.test>;tag=uas9";
  bye.call_id = o.call_id;
  bye.cseq = 5;
  bye.route = "<sip:sfp-c61201c8-9c41-0@198.18.2.1:5060;lr>, <sip:sfp-c61201c8-9c41-0@198.18.1.1:5060;lr>";
  const auto b = from_core(request(bye));
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].dst, k_phone);
  EXPECT_EQ(parsed(b[0].bytes).find(sip::header_id::route), nullptr);
}

TEST_F(routing_test, registered_phones_invite_names_its_binding_and_goes_to_its_registrar) {
  // Two registrars; the mode's list is {2}, so the binding lives on registrar 2
  // while the default registrar is 1: the phone's calls must follow its binding.
  const reg::endpoint registrar2{ip(198, 18, 2, 3), 5070, 1};
  cfg_.registrars[1] = {registrar2, "other.test"};
  cfg_.n_registrars = 2;
  const unsigned order[] = {2};
  ASSERT_EQ(reg::registrar_list::make(order, cfg_.registrar_order), reg::registrar_errc::ok);
  eng_ = std::make_unique<reg::engine>(cfg_);
  const auto fwd = from_phone(register_msg());
  ASSERT_EQ(fwd.size(), 1U);
  EXPECT_EQ(fwd[0].dst, registrar2);
  ASSERT_EQ(feed(registrar_answer(fwd[0].bytes, 200, "OK", 3600), reg::side::core, registrar2, true).size(), 1U);
  const auto na = sip::parse_name_addr(parsed(fwd[0].bytes).value_of(sip::header_id::contact));
  ASSERT_TRUE(na);
  const std::string user(sip::parse_uri(na->uri)->user);  // the binding's out-leg Call-ID
  ASSERT_TRUE(user.starts_with("sf01-")) << user;

  req_opts o;
  o.ruri = "sip:bob@sipfront.test";
  o.via = "SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-ph-7;rport";
  o.from = "\"Alice\" <sip:alice@SIPFRONT.test>;tag=a9";  // any spelling of the AOR
  o.to = "<sip:bob@sipfront.test>";
  o.call_id = "phone-call-7@198.18.1.2";
  const std::string invite = request(o);
  const auto out = from_phone(invite);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, registrar2) << "the binding's registrar, not the default one";
  const std::string& r = out[0].bytes;
  EXPECT_EQ(header(r, sip::header_id::record_route),
            "<sip:" + user + "@198.18.2.1:5060;lr>, <sip:" + user + "@198.18.1.1:5060;lr>")
      << "the Record-Route names the binding, as for core -> phone dialogs";
  EXPECT_EQ(header(r, sip::header_id::from), o.from) << "the dialog is still end to end";
  EXPECT_EQ(header(r, sip::header_id::contact), "<sip:" + user + "@198.18.2.1:5060>")
      << "the out-leg identity: the Contact the registrar holds for this binding";
  EXPECT_EQ(header(r, sip::header_id::call_id), o.call_id) << "stateless: the phone's Call-ID";
  {
    // The core's in-dialog request to that Contact (no Route) reaches the phone at its
    // NAT address with its registered Contact as Request-URI.
    req_opts reinv;
    reinv.ruri = "sip:" + user + "@198.18.2.1:5060";
    reinv.via = "SIP/2.0/UDP 198.18.2.9:5060;branch=z9hG4bK-core-re";
    reinv.to = o.from;
    reinv.from = "<sip:bob@sipfront.test>;tag=uas9";
    reinv.call_id = o.call_id;
    reinv.cseq = 3;
    const auto ri = from_core(request(reinv));
    ASSERT_EQ(ri.size(), 1U);
    EXPECT_EQ(ri[0].dst, k_phone);
    EXPECT_EQ(parsed(ri[0].bytes).request_uri(), k_contact);
  }
  const std::string reg_bytes = register_msg();
  for (unsigned n : {2U, 3U, 4U, 8U}) {
    EXPECT_EQ(reg::steer(parsed(invite), reg::side::access, n, 0),
              reg::steer(parsed(reg_bytes), reg::side::access, n, 0))
        << "the caller's INVITE meets its REGISTERs' worker, n=" << n;
  }

  // The core's BYE in that dialog names the binding in its Route: steered to its
  // worker (whatever the Call-ID) and sent to the phone's NAT address.
  req_opts bye;
  bye.method = "BYE";
  bye.ruri = std::string(k_contact);
  bye.to = o.from;
  bye.from = "<sip:bob@sipfront.test>;tag=uas9";
  bye.call_id = o.call_id;
  bye.cseq = 5;
  bye.route = "<sip:" + user + "@198.18.2.1:5060;lr>, <sip:" + user + "@198.18.1.1:5060;lr>";
  const std::string bye_bytes = request(bye);
  for (unsigned n : {2U, 4U}) EXPECT_EQ(reg::steer(parsed(bye_bytes), reg::side::core, n, 0), 1U);
  const auto b = from_core(bye_bytes);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(b[0].dst, k_phone);

  // The phone's own in-dialog request (Route = our entries, access side first) goes
  // to the binding's registrar too.
  req_opts ph;
  ph.method = "BYE";
  ph.ruri = "sip:bob@sipfront.test";
  ph.via = "SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-ph-8;rport";
  ph.from = o.from;
  ph.to = "<sip:bob@sipfront.test>;tag=uas9";
  ph.call_id = o.call_id;
  ph.route = "<sip:" + user + "@198.18.1.1:5060;lr>, <sip:" + user + "@198.18.2.1:5060;lr>";
  const auto pb = from_phone(request(ph));
  ASSERT_EQ(pb.size(), 1U);
  EXPECT_EQ(pb[0].dst, registrar2);
  EXPECT_EQ(parsed(pb[0].bytes).find(sip::header_id::route), nullptr);
}

TEST_F(routing_test, the_aor_from_another_address_or_not_registered_gets_the_source_fallback) {
  register_phone();
  req_opts o;
  o.ruri = "sip:bob@sipfront.test";
  o.via = "SIP/2.0/UDP 198.18.1.9:5062;branch=z9hG4bK-ph-9;rport";
  o.from = "<sip:alice@sipfront.test>;tag=a9";
  o.call_id = "phone-call-9@198.18.1.9";
  const reg::endpoint elsewhere{ip(198, 18, 1, 9), 5062, 0};
  auto out = feed(request(o), reg::side::access, elsewhere, true);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, k_registrar);
  EXPECT_EQ(header(out[0].bytes, sip::header_id::record_route),
            "<sip:sfp-c6120109-13c6-0@198.18.2.1:5060;lr>, <sip:sfp-c6120109-13c6-0@198.18.1.1:5060;lr>")
      << "alice's binding is registered from 198.18.1.200:40001, not from here";

  // A binding still waiting for the registrar is not used either.
  eng_ = std::make_unique<reg::engine>(cfg_);
  ASSERT_EQ(from_phone(register_msg()).size(), 1U);  // no answer yet: pending_upstream
  ASSERT_NE(eng_->find_binding("sip:alice@sipfront.test"), nullptr);
  o.via = "SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-ph-10;rport";
  out = from_phone(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_TRUE(header(out[0].bytes, sip::header_id::record_route).starts_with("<sip:sfp-c61201c8-9c41-0@"))
      << header(out[0].bytes, sip::header_id::record_route);
}

TEST_F(routing_test, phone_in_dialog_request_follows_the_route_after_ours) {
  register_phone();
  req_opts o;
  o.method = "BYE";
  o.ruri = "sip:bob@198.18.2.9:5060";
  o.via = "SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-ph-2;rport";
  o.to = "<sip:bob@sipfront.test>;tag=uas9";
  o.route = "<sip:198.18.1.1;lr>, <sip:198.18.2.1;lr>, <sip:198.18.2.50:5090;lr>";
  const auto out = from_phone(request(o));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dst, (reg::endpoint{ip(198, 18, 2, 50), 5090, 1}));
  EXPECT_EQ(header(out[0].bytes, sip::header_id::route), "<sip:198.18.2.50:5090;lr>");
  EXPECT_EQ(parsed(out[0].bytes).find(sip::header_id::record_route), nullptr);
}

TEST(routing_end_to_end, requests_other_than_register_are_not_routed) {
  reg::engine_config cfg;
  cfg.registrars[0] = {k_registrar, {}};
  cfg.n_registrars = 1;
  cfg.max_transactions = 4;
  reg::engine e(cfg);
  reg::output_queue out;
  req_opts o;
  o.ruri = "sip:bob@sipfront.test";
  const std::string req = request(o);
  sip::message m;
  ASSERT_EQ(m.parse(req), sip::errc::ok);
  e.on_message(m, {k_phone, reg::side::access}, 0, out);
  ASSERT_EQ(out.size(), 1U);
  sip::message r;
  ASSERT_EQ(r.parse(out.bytes(out[0])), sip::errc::ok);
  EXPECT_EQ(r.status_code(), 501);
}

// ---------------------------------------------------------------- steering

TEST(routing_steer, core_requests_for_a_binding_go_to_the_worker_in_its_contact) {
  // Bindings on each of 4 workers; requests with many Call-IDs all land on the owner.
  for (unsigned w = 0; w < 4; ++w) {
    reg::engine_config cfg = p2p_config(k_registrar, w, 4);
    cfg.max_transactions = 8;
    cfg.max_bindings = 4;
    cfg.binding_seed = 0;  // from the clock
    reg::engine e(cfg);
    reg::output_queue out;
    const std::string reg_req = register_msg();
    sip::message m;
    ASSERT_EQ(m.parse(reg_req), sip::errc::ok);
    e.on_message(m, {k_phone, reg::side::access}, 0, out);
    ASSERT_EQ(out.size(), 1U);
    sip::message fwd;
    ASSERT_EQ(fwd.parse(out.bytes(out[0])), sip::errc::ok);
    const auto na = sip::parse_name_addr(fwd.value_of(sip::header_id::contact));
    ASSERT_TRUE(na);
    for (int i = 0; i < 50; ++i) {
      req_opts o;
      o.ruri = std::string(na->uri);
      o.call_id = "core-" + std::to_string(i) + "@core.test";
      const std::string req = request(o);
      sip::message cm;
      ASSERT_EQ(cm.parse(req), sip::errc::ok);
      for (unsigned self = 0; self < 4; ++self) EXPECT_EQ(reg::steer(cm, reg::side::core, 4, self), w) << o.call_id;
    }
  }
  // A worker index beyond the running workers (a stale Contact after a restart with
  // fewer workers) falls back to Call-ID steering instead of a ring that does not exist.
  req_opts o;
  o.ruri = "sip:sf07-0-1-0123456789abcdef@198.18.2.1:5060";
  const std::string req = request(o);
  sip::message cm;
  ASSERT_EQ(cm.parse(req), sip::errc::ok);
  EXPECT_LT(reg::steer(cm, reg::side::core, 4, 0), 4U);
  EXPECT_EQ(reg::steer(cm, reg::side::core, 4, 0), reg::steer(cm, reg::side::core, 4, 3));
}

}  // namespace
}  // namespace sipfront::test
