// Shared by the regengine engine tests: addresses, a phone's REGISTER, the engine
// settings they start from, the registrar's answer to a forwarded request, and a
// fixture that feeds datagrams to one engine under a fake clock and collects what
// it sends. No DPDK.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/regengine/engine.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace sipfront::test {

namespace reg = sipfront::reg;
namespace sip = sipfront::sip;

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

/// The AOR of `user` in the test domain: sip:<user>@sipfront.test.
inline std::string aor_of(std::string_view user) { return "sip:" + std::string(user) + "@sipfront.test"; }

/// A phone's REGISTER from 198.18.1.2:5062; each field is the variable part of one line.
struct register_opts {
  std::string ruri = "sip:sipfront.test";
  std::string branch = "z9hG4bK-p1";
  std::string via_params = ";rport";  ///< after the branch
  std::string user = "alice";         ///< From and To: <sip:<user>@sipfront.test>
  std::string from_tag = "a1";
  std::string call_id = "reg-1@198.18.1.2";
  unsigned cseq = 1;
  std::string contact = {};     ///< the Contact value; empty: no Contact line
  std::string extra = {};       ///< header lines after Contact
  std::string expires = "600";  ///< empty: no Expires line
};

inline std::string make_register(const register_opts& o) {
  std::string m = "REGISTER " + o.ruri + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 198.18.1.2:5062;branch=" + o.branch + o.via_params + "\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <" + aor_of(o.user) + ">;tag=" + o.from_tag + "\r\n";
  m += "To: <" + aor_of(o.user) + ">\r\n";
  m += "Call-ID: " + o.call_id + "\r\n";
  m += "CSeq: " + std::to_string(o.cseq) + " REGISTER\r\n";
  if (!o.contact.empty()) m += "Contact: " + o.contact + "\r\n";
  m += o.extra;
  if (!o.expires.empty()) m += "Expires: " + o.expires + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

/// The REGISTER of one phone per user, as the many-phone tests send it: branch
/// z9hG4bK-<user>-<cseq>, From tag t-<user>, Call-ID <user>-1@198.18.1.2, Contact
/// <sip:<user>@198.18.1.2:5062>.
inline register_opts user_register(const std::string& user, unsigned cseq) {
  return register_opts{.branch = "z9hG4bK-" + user + "-" + std::to_string(cseq),
                       .user = user,
                       .from_tag = "t-" + user,
                       .call_id = user + "-1@198.18.1.2",
                       .cseq = cseq,
                       .contact = "<sip:" + user + "@198.18.1.2:5062>"};
}

/// The front end as the engine tests run it: worker `worker` of `n_workers`, its
/// access side 198.18.1.1:5060 on port 0, its core side 198.18.2.1:5060 on port 1,
/// room for 64 transactions. The mode is left at its default (end-to-end).
inline reg::engine_config front_end_config(unsigned worker = 1, unsigned n_workers = 2) {
  reg::engine_config cfg;
  cfg.worker_id = worker;
  cfg.n_workers = n_workers;
  cfg.access_local = {ip(198, 18, 1, 1), 5060, 0};
  cfg.core_local = {ip(198, 18, 2, 1), 5060, 1};
  cfg.max_transactions = 64;
  return cfg;
}

/// front_end_config() in peer-to-peer mode with one registrar, `registrar` for
/// sipfront.test, 16 bindings, binding seed 42 and the local registrar's policy
/// spelled out: phones may ask for 60..3600 s (3600 when they say nothing), the
/// out-leg asks for 3600 s, 3 missed refreshes deregister upstream.
inline reg::engine_config p2p_config(reg::endpoint registrar, unsigned worker = 1, unsigned n_workers = 2) {
  reg::engine_config cfg = front_end_config(worker, n_workers);
  cfg.registrars[0] = {registrar, "sipfront.test"};
  cfg.n_registrars = 1;
  cfg.mode = reg::passthrough_mode::peer_to_peer;
  cfg.registrar.in_expires_min = 60;
  cfg.registrar.in_expires_max = 3600;
  cfg.registrar.in_expires_default = 3600;
  cfg.registrar.out_expires = 3600;
  cfg.registrar.fail_count = 3;
  cfg.max_bindings = 16;
  cfg.binding_seed = 42;
  return cfg;
}

/// p2p_config() with two registrars, `one` for one.test (the default) and `two`
/// for two.test.
inline reg::engine_config p2p_two_registrars_config(reg::endpoint one, reg::endpoint two) {
  reg::engine_config cfg = p2p_config(one);
  cfg.registrars[0] = {one, "one.test"};
  cfg.registrars[1] = {two, "two.test"};
  cfg.n_registrars = 2;
  cfg.default_registrar = 0;
  return cfg;
}

/// The registrar's answer to a request the front end forwarded: its Via, From,
/// Call-ID and CSeq lines copied, its To with a tag, and for `granted` >= 0 its
/// Contact with that expiry; `extra` header lines go before Content-Length.
inline std::string registrar_answer(std::string_view forwarded, unsigned code, std::string_view reason,
                                    int granted = -1, std::string_view extra = "") {
  sip::message req;
  EXPECT_EQ(req.parse(forwarded), sip::errc::ok);
  std::string r = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  for (const auto& h : req.headers()) {
    if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
        h.id == sip::header_id::cseq) {
      r += std::string(req.raw_line(h));
    }
  }
  r += "To: " + std::string(req.value_of(sip::header_id::to)) + ";tag=reg77\r\n";
  if (granted >= 0) {
    r += "Contact: " + std::string(req.value_of(sip::header_id::contact)) + ";expires=" + std::to_string(granted) +
         "\r\n";
  }
  r += std::string(extra) + "Content-Length: 0\r\n\r\n";
  return r;
}

/// One datagram the engine sent.
struct sent {
  reg::endpoint dst;
  std::string bytes;
};

/// Several workers' engines as the dataplane runs them: each datagram goes to the
/// engine reg::steer() picks, at time 0, and is kept alive like an mbuf would be.
class steered_delivery {
 public:
  explicit steered_delivery(std::vector<std::unique_ptr<reg::engine>>& engines) : engines_(engines) {}
  /// Delivers `bytes`, received from `src` on side `from`; returns the engine it
  /// went to and leaves what that engine sent in `sent_out`.
  unsigned operator()(std::string bytes, reg::side from, reg::endpoint src, std::vector<std::string>& sent_out) {
    keep_.push_back(std::move(bytes));
    sip::message m;
    EXPECT_EQ(m.parse(keep_.back()), sip::errc::ok);
    const unsigned owner = reg::steer(m, from, static_cast<unsigned>(engines_.size()), 0);
    reg::output_queue out;
    engines_[owner]->on_message(m, {src, from}, 0, out);
    sent_out.clear();
    for (std::size_t i = 0; i < out.size(); ++i) sent_out.emplace_back(out.bytes(out[i]));
    return owner;
  }

 private:
  std::vector<std::unique_ptr<reg::engine>>& engines_;
  std::vector<std::string> keep_;
};

/// One engine, fed datagrams at `now_`; each test file sets `cfg_` and builds `eng_`.
class engine_harness : public ::testing::Test {
 protected:
  /// Hands `bytes` to the engine as received from `src` on side `from`; with
  /// `expect_parsed`, the datagram must parse cleanly.
  std::vector<sent> feed(std::string_view bytes, reg::side from, reg::endpoint src, bool expect_parsed = false) {
    msgs_.emplace_back(bytes);  // keep the datagram alive like an mbuf would
    sip::message m;
    const sip::errc e = m.parse(msgs_.back());
    if (expect_parsed) {
      EXPECT_EQ(e, sip::errc::ok);
    }
    out_.clear();
    eng_->on_message(m, reg::packet_meta{src, from}, now_, out_);
    return drain();
  }
  /// Runs the engine's timers at time `t`.
  std::vector<sent> advance_to(std::uint64_t t) {
    out_.clear();
    now_ = t;
    eng_->on_tick(now_, out_, 1000);
    return drain();
  }
  std::vector<sent> drain() {
    std::vector<sent> v;
    for (std::size_t i = 0; i < out_.size(); ++i) v.push_back({out_[i].dst, std::string(out_.bytes(out_[i]))});
    return v;
  }
  /// A view of `s`, which must outlive it.
  static sip::message parsed(const std::string& s) {
    sip::message m;
    EXPECT_EQ(m.parse(s), sip::errc::ok) << s;
    return m;
  }
  static std::string header(const std::string& msg, sip::header_id id) { return std::string(parsed(msg).value_of(id)); }
  static unsigned code(const std::string& msg) { return parsed(msg).status_code(); }
  void make_engine() { eng_ = std::make_unique<reg::engine>(cfg_); }

  reg::engine_config cfg_;
  std::unique_ptr<reg::engine> eng_;
  reg::output_queue out_;
  std::vector<std::string> msgs_;
  std::uint64_t now_ = 1000;
};

}  // namespace sipfront::test
