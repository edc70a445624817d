// Shared by the regengine engine tests: addresses, the registrar's answer to a
// forwarded request, and a fixture that feeds datagrams to one engine under a
// fake clock and collects what it sends. No DPDK.
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

  reg::engine_config cfg_;
  std::unique_ptr<reg::engine> eng_;
  reg::output_queue out_;
  std::vector<std::string> msgs_;
  std::uint64_t now_ = 1000;
};

}  // namespace sipfront::test
