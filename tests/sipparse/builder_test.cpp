// Tests of the message builder: every output is parsed and validated again, so
// what is checked is the message a peer would receive, not only the bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sipfront/sipparse/sipparse.hpp"

namespace sip = sipfront::sip;
using namespace std::string_view_literals;

namespace {

constexpr std::string_view k_register =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: Bob <sip:bob@example.com>;tag=a73kszlfl\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@198.18.1.2\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:bob@198.18.1.2:5060;transport=udp>;expires=3600"
    ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1\r\n"
    "Authorization: Digest username=\"bob\", realm=\"example.com\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", "
    "uri=\"sip:example.com\", response=\"dfe56131d1958046689d83306477ecc0\", algorithm=MD5\r\n"
    "Supported: path, outbound\r\n"
    "User-Agent: softphone/1.2\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

constexpr std::string_view k_ok_two_via_lines =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1\r\n"
    "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7;rport=5060;received=198.18.1.2\r\n"
    "From: Bob <sip:bob@example.com>;tag=a73kszlfl\r\n"
    "To: Bob <sip:bob@example.com>;tag=37GkEhwl6\r\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@198.18.1.2\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:bob@198.18.1.2:5060>;expires=3600\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// A request carrying a body, folded lines, compact names and odd spacing.
constexpr std::string_view k_folded =
    "MESSAGE sip:alice@example.com SIP/2.0\r\n"
    "v: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-f1 ,\r\n"
    "   SIP/2.0/TCP 198.18.1.3;branch=z9hG4bK-f2, SIP/2.0/UDP 198.18.1.4;branch=z9hG4bK-f3\r\n"
    "Max-Forwards:   70\r\n"
    "f: \"Bob \\\"B\\\"\" <sip:bob@example.com>;tag=1\r\n"
    "t: <sip:alice@example.com>\r\n"
    "i: folded-1@198.18.1.2\r\n"
    "CSeq: 7 MESSAGE\r\n"
    "Subject: I know you're there,\r\n"
    "         pull up a chair\r\n"
    "X-Custom  :\tsome\r\n"
    "\tvalue\r\n"
    "c: text/plain\r\n"
    "l: 5\r\n"
    "\r\n"
    "hello";

constexpr std::size_t k_big = 70000;  // more than any datagram

// The view points into `bytes`, which must outlive it; a temporary string would dangle.
sip::message parsed(std::string&& bytes) = delete;
sip::message parsed(std::string_view bytes) {
  sip::message m;
  EXPECT_EQ(m.parse(bytes), sip::errc::ok) << bytes;
  return m;
}

// Writes `m` with `e` into a fresh string; an error is reported and yields "".
std::string write(const sip::message& m, const sip::message_edit& e) {
  std::string out(k_big, '\0');
  const auto r = sip::write_message(m, e, out);
  EXPECT_TRUE(r.ok()) << sip::to_string(r.error());
  out.resize(r.ok() ? *r : 0);
  return out;
}

std::string respond(const sip::message& req, std::uint16_t code, std::string_view reason, std::string_view tag,
                    std::span<const std::string_view> extra = {}) {
  std::string out(k_big, '\0');
  const auto r = sip::write_response(req, code, reason, tag, extra, out);
  EXPECT_TRUE(r.ok()) << sip::to_string(r.error());
  out.resize(r.ok() ? *r : 0);
  return out;
}

using header_list = std::vector<std::pair<std::string, std::string>>;

// (name as written, value) of every header line but Content-Length, in order.
header_list headers_of(const sip::message& m) {
  header_list out;
  for (const auto& h : m.headers()) {
    if (h.id != sip::header_id::content_length) out.emplace_back(m.name(h), m.value(h));
  }
  return out;
}

std::vector<std::string> via_entries(const sip::message& m) {
  std::vector<std::string> out;
  sip::list_iterator it(m, sip::header_id::via);
  std::string_view e;
  while (it.next(e)) out.emplace_back(e);
  EXPECT_FALSE(it.failed());
  return out;
}

// The message a peer gets: parses, passes validation, and its Content-Length is
// the last header and matches the body.
void expect_sound(const sip::message& m) {
  EXPECT_EQ(m.parse_error(), sip::errc::ok);
  const auto v = sip::validate(m);
  EXPECT_TRUE(v.ok()) << sip::to_string(v.broken) << " " << v.culprit;
  ASSERT_EQ(m.count(sip::header_id::content_length), 1U);
  EXPECT_EQ(m.headers().back().id, sip::header_id::content_length);
  EXPECT_EQ(*sip::parse_content_length(m.value_of(sip::header_id::content_length)), m.body().size());
}

// For every buffer size below `needed`: errc::too_large and not one byte written
// past the span (the bytes after it are a guard region that must keep its fill).
template <class Write>
void expect_too_large_below(std::size_t needed, Write write_into) {
  constexpr std::size_t guard = 64;
  constexpr char fill = '\x5a';
  std::vector<char> buf(needed + guard);
  for (std::size_t n = 0; n < needed; ++n) {
    std::fill(buf.begin(), buf.end(), fill);
    const sip::result<std::size_t> r = write_into(std::span<char>(buf.data(), n));
    ASSERT_FALSE(r.ok()) << "size " << n;
    EXPECT_EQ(r.error(), sip::errc::too_large) << "size " << n;
    ASSERT_TRUE(std::all_of(buf.begin() + static_cast<std::ptrdiff_t>(n), buf.end(), [](char c) { return c == fill; }))
        << "wrote past a buffer of " << n;
  }
  std::fill(buf.begin(), buf.end(), fill);
  const sip::result<std::size_t> r = write_into(std::span<char>(buf.data(), needed));
  ASSERT_TRUE(r.ok()) << sip::to_string(r.error());
  EXPECT_EQ(*r, needed);
  EXPECT_TRUE(
      std::all_of(buf.begin() + static_cast<std::ptrdiff_t>(needed), buf.end(), [](char c) { return c == fill; }));
}

// ---------------------------------------------------------------- writer

TEST(builder_writer, appends_pieces_and_decimal_integers) {
  std::array<char, 128> buf{};
  sip::writer w(buf);
  w.put("CSeq").put(':').put(' ').put_uint(0).put(' ').put_uint(18446744073709551615ULL).crlf();
  w.header("Expires", "3600");
  EXPECT_FALSE(w.overflowed());
  EXPECT_EQ(w.view(), "CSeq: 0 18446744073709551615\r\nExpires: 3600\r\n");
  EXPECT_EQ(w.size(), w.view().size());
}

TEST(builder_writer, overflow_is_sticky_and_never_leaves_a_partial_piece) {
  std::array<char, 8> buf{};
  sip::writer w(std::span<char>(buf.data(), 6));
  w.put("abcd").put("efg");  // does not fit: nothing of it is written
  EXPECT_TRUE(w.overflowed());
  EXPECT_EQ(w.view(), "abcd");
  w.put('x').put("").put_uint(1);  // would fit, but the output already has a hole
  EXPECT_EQ(w.view(), "abcd");
  EXPECT_EQ(buf[4], '\0');

  std::array<char, 1> one{};
  sip::writer c(one);
  c.put('a').put('b');
  EXPECT_TRUE(c.overflowed());
  EXPECT_EQ(c.view(), "a");

  sip::writer none(std::span<char>{});
  none.put("");
  EXPECT_FALSE(none.overflowed());
  none.put_uint(7);
  EXPECT_TRUE(none.overflowed());
  EXPECT_EQ(none.size(), 0U);
}

// ---------------------------------------------------------------- default_reason

TEST(builder_default_reason, standard_phrases) {
  EXPECT_EQ(sip::default_reason(100), "Trying");
  EXPECT_EQ(sip::default_reason(180), "Ringing");
  EXPECT_EQ(sip::default_reason(181), "Call Is Being Forwarded");
  EXPECT_EQ(sip::default_reason(182), "Queued");
  EXPECT_EQ(sip::default_reason(183), "Session Progress");
  EXPECT_EQ(sip::default_reason(200), "OK");
  EXPECT_EQ(sip::default_reason(202), "Accepted");
  EXPECT_EQ(sip::default_reason(302), "Moved Temporarily");
  EXPECT_EQ(sip::default_reason(380), "Alternative Service");
  EXPECT_EQ(sip::default_reason(400), "Bad Request");
  EXPECT_EQ(sip::default_reason(401), "Unauthorized");
  EXPECT_EQ(sip::default_reason(403), "Forbidden");
  EXPECT_EQ(sip::default_reason(407), "Proxy Authentication Required");
  EXPECT_EQ(sip::default_reason(408), "Request Timeout");
  EXPECT_EQ(sip::default_reason(414), "Request-URI Too Long");
  EXPECT_EQ(sip::default_reason(416), "Unsupported URI Scheme");
  EXPECT_EQ(sip::default_reason(420), "Bad Extension");
  EXPECT_EQ(sip::default_reason(421), "Extension Required");
  EXPECT_EQ(sip::default_reason(423), "Interval Too Brief");
  EXPECT_EQ(sip::default_reason(429), "Provide Referrer Identity");
  EXPECT_EQ(sip::default_reason(439), "First Hop Lacks Outbound Support");
  EXPECT_EQ(sip::default_reason(469), "Bad Info Package");
  EXPECT_EQ(sip::default_reason(470), "Consent Needed");
  EXPECT_EQ(sip::default_reason(480), "Temporarily Unavailable");
  EXPECT_EQ(sip::default_reason(481), "Call/Transaction Does Not Exist");
  EXPECT_EQ(sip::default_reason(483), "Too Many Hops");
  EXPECT_EQ(sip::default_reason(493), "Undecipherable");
  EXPECT_EQ(sip::default_reason(500), "Server Internal Error");
  EXPECT_EQ(sip::default_reason(503), "Service Unavailable");
  EXPECT_EQ(sip::default_reason(504), "Server Time-out");
  EXPECT_EQ(sip::default_reason(505), "Version Not Supported");
  EXPECT_EQ(sip::default_reason(513), "Message Too Large");
  EXPECT_EQ(sip::default_reason(600), "Busy Everywhere");
  EXPECT_EQ(sip::default_reason(603), "Decline");
  EXPECT_EQ(sip::default_reason(604), "Does Not Exist Anywhere");
  EXPECT_EQ(sip::default_reason(606), "Not Acceptable");
  for (const std::uint16_t code : std::array<std::uint16_t, 10>{0, 99, 101, 201, 299, 499, 599, 699, 700, 65535}) {
    EXPECT_EQ(sip::default_reason(code), "Unknown") << code;
  }
}

// ---------------------------------------------------------------- write_message

TEST(builder_write_message, empty_edit_of_a_canonical_message_is_byte_identical) {
  for (std::string_view in : {k_register, k_ok_two_via_lines}) {
    const sip::message m = parsed(in);
    EXPECT_EQ(write(m, {}), in);
  }
}

TEST(builder_write_message, forwards_register_with_pushed_via_decremented_max_forwards_and_new_request_uri) {
  const sip::message in = parsed(k_register);
  sip::message_edit e;
  e.push_via("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1")
      .replace(sip::header_id::max_forwards, "69")
      .set_request_uri("sip:bob@198.18.1.2:5060;transport=udp");
  const std::string bytes = write(in, e);
  const sip::message out = parsed(bytes);
  expect_sound(out);

  EXPECT_EQ(out.start_line(), "REGISTER sip:bob@198.18.1.2:5060;transport=udp SIP/2.0");
  EXPECT_EQ(out.request_uri(), "sip:bob@198.18.1.2:5060;transport=udp");
  EXPECT_EQ(out.method(), sip::method::register_);
  EXPECT_THAT(via_entries(out), ::testing::ElementsAre("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1",
                                                       "SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7;rport"));
  EXPECT_EQ(out.count(sip::header_id::max_forwards), 1U);
  EXPECT_EQ(*sip::parse_max_forwards(out.value_of(sip::header_id::max_forwards)), 69);

  // Everything else is unchanged and in place: the expected list is the original
  // with the pushed Via in front and Max-Forwards' value swapped.
  header_list want = headers_of(in);
  want.insert(want.begin(), {"Via", "SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1"});
  want[2] = {"Max-Forwards", "69"};
  EXPECT_EQ(headers_of(out), want);
  EXPECT_EQ(out.body(), "");
}

TEST(builder_write_message, pop_via_drops_the_first_of_two_via_lines) {
  const sip::message in = parsed(k_ok_two_via_lines);
  const std::string bytes = write(in, sip::message_edit{}.pop_via());
  std::string want(k_ok_two_via_lines);
  want.erase(want.find("Via: SIP/2.0/UDP 203.0.113.1"),
             "Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1\r\n"sv.size());
  EXPECT_EQ(bytes, want);
  const sip::message out = parsed(bytes);
  expect_sound(out);
  EXPECT_THAT(
      via_entries(out),
      ::testing::ElementsAre("SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7;rport=5060;received=198.18.1.2"));
  EXPECT_EQ(out.status_code(), 200);
}

TEST(builder_write_message, pop_via_removes_only_the_first_entry_of_a_comma_separated_line) {
  constexpr std::string_view in_bytes =
      "SIP/2.0 200 OK\r\n"
      "Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1 , SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7\r\n"
      "Via: SIP/2.0/TCP 198.18.1.9;branch=z9hG4bK-third\r\n"
      "From: <sip:bob@example.com>;tag=a73kszlfl\r\n"
      "To: <sip:bob@example.com>;tag=37GkEhwl6\r\n"
      "Call-ID: 1j9FpLxk3uxtm8tn@198.18.1.2\r\n"
      "CSeq: 2 REGISTER\r\n"
      "Content-Length: 0\r\n"
      "\r\n";
  const sip::message in = parsed(in_bytes);
  const std::string out_bytes = write(in, sip::message_edit{}.pop_via());
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_THAT(via_entries(out), ::testing::ElementsAre("SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7",
                                                       "SIP/2.0/TCP 198.18.1.9;branch=z9hG4bK-third"));
  EXPECT_EQ(out.count(sip::header_id::via), 2U);
  EXPECT_EQ(out.headers()[0].id, sip::header_id::via);
  EXPECT_EQ(out.headers()[1].id, sip::header_id::via);
}

TEST(builder_write_message, set_top_via_rewrites_only_the_first_entry_under_a_pushed_via) {
  constexpr std::string_view in_bytes =
      "REGISTER sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-phone;rport , SIP/2.0/UDP 198.18.1.9;branch=z9hG4bK-2\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:bob@example.com>;tag=a73kszlfl\r\n"
      "To: <sip:bob@example.com>\r\n"
      "Call-ID: 1j9FpLxk3uxtm8tn@198.18.1.2\r\n"
      "CSeq: 2 REGISTER\r\n"
      "Content-Length: 0\r\n"
      "\r\n";
  const sip::message in = parsed(in_bytes);
  const std::string out_bytes =
      write(in, sip::message_edit{}
                    .push_via("SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bKsf00.1")
                    .set_top_via("SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-phone;received=198.18.1.2;rport=5060"));
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_THAT(via_entries(out),
              ::testing::ElementsAre("SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bKsf00.1",
                                     "SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-phone;received=198.18.1.2;rport=5060",
                                     "SIP/2.0/UDP 198.18.1.9;branch=z9hG4bK-2"));
  std::array<char, 1024> buf{};
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.pop_via().set_top_via("SIP/2.0/UDP x"), buf).error(),
            sip::errc::bad_value);
}

TEST(builder_write_message, pop_via_of_a_folded_compact_line_keeps_the_rest_and_the_name) {
  const sip::message in = parsed(k_folded);
  const std::string bytes = write(in, sip::message_edit{}.pop_via());
  const sip::message out = parsed(bytes);
  expect_sound(out);
  EXPECT_THAT(via_entries(out), ::testing::ElementsAre("SIP/2.0/TCP 198.18.1.3;branch=z9hG4bK-f2",
                                                       "SIP/2.0/UDP 198.18.1.4;branch=z9hG4bK-f3"));
  EXPECT_EQ(out.name(out.headers()[0]), "v");
  // Popping all three, one at a time, leaves no Via; a fourth pop has nothing to pop.
  std::string twice = write(out, sip::message_edit{}.pop_via());
  const sip::message out2 = parsed(twice);
  const std::string thrice = write(out2, sip::message_edit{}.pop_via());
  const sip::message out3 = parsed(thrice);
  EXPECT_EQ(out3.count(sip::header_id::via), 0U);
  std::array<char, 1024> buf{};
  EXPECT_EQ(sip::write_message(out3, sip::message_edit{}.pop_via(), buf).error(), sip::errc::not_present);
}

TEST(builder_write_message, replaced_or_removed_via_is_not_popped_twice) {
  const sip::message in = parsed(k_ok_two_via_lines);
  const std::string out_bytes = write(
      in, sip::message_edit{}.pop_via().replace(sip::header_id::via, "SIP/2.0/UDP x.example.com;branch=z9hG4bK-r"));
  const sip::message out = parsed(out_bytes);
  EXPECT_THAT(via_entries(out), ::testing::ElementsAre("SIP/2.0/UDP x.example.com;branch=z9hG4bK-r"));
}

TEST(builder_write_message, pop_via_of_a_via_line_that_does_not_split_is_bad_via) {
  // parse() indexes lines without reading Via values, so these reach the builder.
  for (std::string_view top : {"Via: SIP/2.0/UDP 203.0.113.1;x=\"open, SIP/2.0/UDP 198.18.1.2\r\n"sv,
                               "Via: , SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-2\r\n"sv,
                               "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-2,\r\n"sv, "Via:\r\n"sv}) {
    const std::string in_bytes = "SIP/2.0 200 OK\r\n" + std::string(top) +
                                 "From: <sip:bob@example.com>;tag=1\r\n"
                                 "To: <sip:bob@example.com>;tag=2\r\n"
                                 "Call-ID: c@h\r\n"
                                 "CSeq: 2 REGISTER\r\n"
                                 "\r\n";
    const sip::message in = parsed(in_bytes);
    std::array<char, 1024> buf{};
    EXPECT_EQ(sip::write_message(in, sip::message_edit{}.pop_via(), buf).error(), sip::errc::bad_via) << top;
  }
}

TEST(builder_write_message, remove_drops_every_line_with_the_id) {
  const sip::message in = parsed(k_register);
  const std::string out_bytes = write(in, sip::message_edit{}.remove(sip::header_id::authorization));
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_EQ(out.count(sip::header_id::authorization), 0U);
  header_list want = headers_of(in);
  std::erase_if(want, [](const auto& h) { return h.first == "Authorization"; });
  EXPECT_EQ(headers_of(out), want);

  constexpr std::string_view two_routes =
      "OPTIONS sip:example.com SIP/2.0\r\n"
      "Route: <sip:p1.example.com;lr>\r\n"
      "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-o\r\n"
      "Route: <sip:p2.example.com;lr>, <sip:p3.example.com;lr>\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:bob@example.com>;tag=1\r\n"
      "To: <sip:example.com>\r\n"
      "Call-ID: o@h\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "\r\n";
  const std::string r_bytes = write(parsed(two_routes), sip::message_edit{}.remove(sip::header_id::route));
  const sip::message r = parsed(r_bytes);
  expect_sound(r);
  EXPECT_EQ(r.count(sip::header_id::route), 0U);
  EXPECT_EQ(r.headers().size(), 7U);  // Via, Max-Forwards, From, To, Call-ID, CSeq, Content-Length
}

TEST(builder_write_message, replace_merges_every_line_at_the_first_ones_place_and_last_edit_wins) {
  constexpr std::string_view in_bytes =
      "OPTIONS sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-o\r\n"
      "Supported: path\r\n"
      "Max-Forwards: 70\r\n"
      "supported: outbound\r\n"
      "User-Agent: softphone/1.2\r\n"
      "From: <sip:bob@example.com>;tag=1\r\n"
      "To: <sip:example.com>\r\n"
      "Call-ID: o@h\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "\r\n";
  const sip::message in = parsed(in_bytes);
  sip::message_edit e;
  e.replace(sip::header_id::supported, "gruu")
      .replace(sip::header_id::user_agent, "other/1.0")
      .remove(sip::header_id::user_agent)
      .replace(sip::header_id::supported, "path, outbound, gruu")
      .remove(sip::header_id::call_id)
      .replace(sip::header_id::call_id, "new@h");
  const std::string out_bytes = write(in, e);
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_EQ(headers_of(out), (header_list{{"Via", "SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-o"},
                                          {"Supported", "path, outbound, gruu"},
                                          {"Max-Forwards", "70"},
                                          {"From", "<sip:bob@example.com>;tag=1"},
                                          {"To", "<sip:example.com>"},
                                          {"Call-ID", "new@h"},
                                          {"CSeq", "1 OPTIONS"}}));
}

TEST(builder_write_message, replacing_an_absent_header_adds_it) {
  // RFC 3261 §16.6 step 3: a proxy adds Max-Forwards to an RFC 2543 request lacking it.
  constexpr std::string_view in_bytes =
      "OPTIONS sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-o\r\n"
      "From: <sip:bob@example.com>;tag=1\r\n"
      "To: <sip:example.com>\r\n"
      "Call-ID: o@h\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "\r\n";
  const std::string bytes =
      write(parsed(in_bytes), sip::message_edit{}.add("X-First", "1").replace(sip::header_id::max_forwards, "70"));
  const sip::message out = parsed(bytes);
  expect_sound(out);
  const header_list h = headers_of(out);
  ASSERT_EQ(h.size(), 7U);
  EXPECT_EQ(h[5], (std::pair<std::string, std::string>{"X-First", "1"}));
  EXPECT_EQ(h[6], (std::pair<std::string, std::string>{"Max-Forwards", "70"}));
}

TEST(builder_write_message, added_headers_go_after_the_originals_and_before_content_length) {
  const sip::message in = parsed(k_ok_two_via_lines);
  sip::message_edit e;
  e.add("Retry-After", "120 (maintenance);duration=3600")
      .add("Min-Expires", "600")
      .add("WWW-Authenticate",
           "Digest realm=\"example.com\", qop=\"auth\", nonce=\"5c1a2b3c4d5e6f708192a3b4c5d6e7f8\", "
           "opaque=\"\", stale=FALSE, algorithm=MD5");
  const std::string bytes = write(in, e);
  const sip::message out = parsed(bytes);
  expect_sound(out);
  const auto hs = out.headers();
  ASSERT_EQ(hs.size(), in.headers().size() + 3);
  EXPECT_EQ(hs[hs.size() - 4].id, sip::header_id::retry_after);
  EXPECT_EQ(hs[hs.size() - 3].id, sip::header_id::min_expires);
  EXPECT_EQ(hs[hs.size() - 2].id, sip::header_id::www_authenticate);
  EXPECT_EQ(hs[hs.size() - 1].id, sip::header_id::content_length);
  const auto ra = sip::parse_retry_after(out.value_of(sip::header_id::retry_after));
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(ra->seconds, 120U);
  EXPECT_EQ(ra->comment, "maintenance");
  EXPECT_EQ(*sip::parse_delta_seconds(out.value_of(sip::header_id::min_expires)), 600U);
  const auto ch = sip::parse_auth(out.value_of(sip::header_id::www_authenticate));
  ASSERT_TRUE(ch.ok());
  EXPECT_TRUE(ch->is_digest());
  EXPECT_EQ(ch->find("nonce").value_or(""), "5c1a2b3c4d5e6f708192a3b4c5d6e7f8");
  // The original lines are untouched: the output starts with the original up to Content-Length.
  EXPECT_TRUE(bytes.starts_with(k_ok_two_via_lines.substr(0, k_ok_two_via_lines.find("Content-Length"))));
}

TEST(builder_write_message, set_body_rewrites_content_length) {
  const sip::message in = parsed(k_register);
  constexpr std::string_view body = "v=0\r\no=- 1 1 IN IP4 198.18.1.2\r\ns=-\r\n";
  const std::string bytes = write(in, sip::message_edit{}.set_body(body).add("Content-Type", "application/sdp"));
  const sip::message out = parsed(bytes);
  expect_sound(out);
  EXPECT_EQ(out.body(), body);
  EXPECT_EQ(out.value_of(sip::header_id::content_length), std::to_string(body.size()));
  EXPECT_TRUE(bytes.ends_with(std::string("\r\n\r\n").append(body)));

  // And back to no body at all.
  const std::string empty_bytes = write(out, sip::message_edit{}.set_body(""));
  const sip::message empty = parsed(empty_bytes);
  expect_sound(empty);
  EXPECT_EQ(empty.body(), "");
  EXPECT_EQ(empty.value_of(sip::header_id::content_length), "0");
}

TEST(builder_write_message, folded_lines_compact_names_and_odd_spacing_are_copied_verbatim) {
  const sip::message in = parsed(k_folded);
  const std::string bytes = write(in, {});
  // Everything but the compact Content-Length is copied as is; it comes back canonical.
  const std::string_view head = k_folded.substr(0, k_folded.find("l: 5\r\n"));
  EXPECT_EQ(bytes, std::string(head) + "Content-Length: 5\r\n\r\nhello");
  const sip::message out = parsed(bytes);
  expect_sound(out);
  EXPECT_EQ(headers_of(out), headers_of(in));
  EXPECT_EQ(out.value_of(sip::header_id::subject), "I know you're there,\r\n         pull up a chair");
}

TEST(builder_write_message, only_the_message_proper_is_copied_and_content_length_is_added_when_missing) {
  // Octets after Content-Length are not part of the message (RFC 4475 dblreq).
  constexpr std::string_view trailing =
      "OPTIONS sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-o\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:bob@example.com>;tag=1\r\n"
      "To: <sip:example.com>\r\n"
      "Call-ID: o@h\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "Content-Length: 2\r\n"
      "\r\n"
      "okGARBAGE";
  const std::string a_bytes = write(parsed(trailing), {});
  const sip::message a = parsed(a_bytes);
  expect_sound(a);
  EXPECT_EQ(a.body(), "ok");
  EXPECT_EQ(a.datagram_size(), a.bytes().size());

  // Without Content-Length the body runs to the datagram's end; the copy states its length.
  std::string no_cl(trailing);
  no_cl.erase(no_cl.find("Content-Length: 2\r\n"), "Content-Length: 2\r\n"sv.size());
  const std::string b_bytes = write(parsed(no_cl), {});
  const sip::message b = parsed(b_bytes);
  expect_sound(b);
  EXPECT_EQ(b.body(), "okGARBAGE");
}

TEST(builder_write_message, invalid_edits_are_bad_value) {
  const sip::message in = parsed(k_register);
  std::array<char, 2048> buf{};
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.replace(sip::header_id::other, "x"), buf).error(),
            sip::errc::bad_value);
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.remove(sip::header_id::other), buf).error(),
            sip::errc::bad_value);
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.replace(sip::header_id::content_length, "0"), buf).error(),
            sip::errc::bad_value);
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.remove(sip::header_id::content_length), buf).error(),
            sip::errc::bad_value);
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.add("l", "0"), buf).error(), sip::errc::bad_value);
  EXPECT_EQ(sip::write_message(in, sip::message_edit{}.add("", "0"), buf).error(), sip::errc::bad_value);
}

TEST(builder_write_message, edit_overflow_is_too_many_entries) {
  const sip::message in = parsed(k_register);
  sip::message_edit full;
  for (std::size_t i = 0; i < sip::message_edit::max_edits; ++i) full.add("X-N", "1");
  EXPECT_FALSE(full.overflowed());
  const std::string out_bytes = write(in, full);
  const sip::message out = parsed(out_bytes);
  EXPECT_EQ(out.headers().size(), in.headers().size() + sip::message_edit::max_edits);

  sip::message_edit over = full;
  over.remove(sip::header_id::authorization);
  EXPECT_TRUE(over.overflowed());
  over.push_via("SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-x");  // not an op: cannot clear the flag
  EXPECT_TRUE(over.overflowed());
  std::array<char, 4096> buf{};
  const auto r = sip::write_message(in, over, buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), sip::errc::too_many_entries);
}

TEST(builder_write_message, a_message_whose_parse_failed_is_refused) {
  std::string broken(k_register);
  broken.replace(broken.find("Max-Forwards: 70"), "Max-Forwards: 70"sv.size(), "Max-Forwards 70");
  sip::message m;
  ASSERT_EQ(m.parse(broken), sip::errc::bad_header_line);
  std::array<char, 4096> buf{};
  EXPECT_EQ(sip::write_message(m, {}, buf).error(), sip::errc::bad_header_line);
  EXPECT_EQ(sip::write_message(sip::message{}, {}, buf).error(), sip::errc::empty);
}

TEST(builder_write_message, set_request_uri_leaves_a_response_alone) {
  const sip::message in = parsed(k_ok_two_via_lines);
  EXPECT_EQ(write(in, sip::message_edit{}.set_request_uri("sip:x@example.com")), k_ok_two_via_lines);
}

TEST(builder_write_message, every_buffer_shorter_than_the_message_is_too_large) {
  const sip::message in = parsed(k_folded);
  sip::message_edit e;
  e.push_via("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-front-1")
      .pop_via()
      .replace(sip::header_id::max_forwards, "69")
      .add("X-Added", "yes")
      .set_request_uri("sip:alice@198.18.1.7")
      .set_body("hello, world");
  const std::string full = write(in, e);
  ASSERT_FALSE(full.empty());
  expect_sound(parsed(full));
  expect_too_large_below(full.size(), [&](std::span<char> out) { return sip::write_message(in, e, out); });
}

// ---------------------------------------------------------------- write_response

TEST(builder_write_response, bad_request_copies_the_transaction_headers_and_adds_a_to_tag) {
  const sip::message req = parsed(k_register);
  const std::string bytes = respond(req, 400, "", "srv-1");
  EXPECT_EQ(bytes,
            "SIP/2.0 400 Bad Request\r\n"
            "Via: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7;rport\r\n"
            "From: Bob <sip:bob@example.com>;tag=a73kszlfl\r\n"
            "To: Bob <sip:bob@example.com>;tag=srv-1\r\n"
            "Call-ID: 1j9FpLxk3uxtm8tn@198.18.1.2\r\n"
            "CSeq: 2 REGISTER\r\n"
            "Content-Length: 0\r\n"
            "\r\n");
  const sip::message out = parsed(bytes);
  expect_sound(out);
  EXPECT_TRUE(out.is_response());
  EXPECT_EQ(out.status_code(), 400);
  EXPECT_EQ(out.reason(), "Bad Request");
}

TEST(builder_write_response, interval_too_brief_carries_min_expires) {
  const sip::message req = parsed(k_register);
  const std::array<std::string_view, 1> extra{"Min-Expires: 3600"};
  const std::string out_bytes = respond(req, 423, "", "t423", extra);
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_EQ(out.status_code(), 423);
  EXPECT_EQ(out.reason(), "Interval Too Brief");
  EXPECT_EQ(*sip::parse_delta_seconds(out.value_of(sip::header_id::min_expires)), 3600U);
  EXPECT_EQ(sip::parse_name_addr(out.value_of(sip::header_id::to))->tag(), "t423");
}

TEST(builder_write_response, service_unavailable_carries_retry_after_and_a_custom_reason) {
  const sip::message req = parsed(k_register);
  const std::array<std::string_view, 2> extra{"Retry-After: 30", "Server: sipfront"};
  const std::string out_bytes = respond(req, 503, "Overloaded", "t503", extra);
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_EQ(out.status_code(), 503);
  EXPECT_EQ(out.reason(), "Overloaded");
  EXPECT_EQ(sip::parse_retry_after(out.value_of(sip::header_id::retry_after))->seconds, 30U);
  const auto hs = out.headers();
  ASSERT_EQ(hs.size(), 8U);
  EXPECT_EQ(hs[5].id, sip::header_id::retry_after);
  EXPECT_EQ(hs[6].id, sip::header_id::server);
}

TEST(builder_write_response, to_tag_is_added_only_when_missing_and_given) {
  const sip::message with_tag = parsed(k_ok_two_via_lines);  // its To already has a tag
  const std::string kept = respond(with_tag, 200, "", "mine");
  EXPECT_EQ(sip::parse_name_addr(parsed(kept).value_of(sip::header_id::to))->tag(), "37GkEhwl6");

  const sip::message req = parsed(k_register);
  const std::string untagged_bytes = respond(req, 100, "", "");
  const sip::message untagged = parsed(untagged_bytes);
  expect_sound(untagged);
  EXPECT_EQ(untagged.value_of(sip::header_id::to), "Bob <sip:bob@example.com>");
  EXPECT_EQ(untagged.reason(), "Trying");

  // A compact, addr-spec-form To: the tag becomes a header parameter; the name stays.
  constexpr std::string_view compact =
      "REGISTER sip:example.com SIP/2.0\r\n"
      "v: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bK-c\r\n"
      "Max-Forwards: 70\r\n"
      "f: sip:bob@example.com;tag=1\r\n"
      "t: sip:bob@example.com\r\n"
      "i: c@h\r\n"
      "CSeq: 1 REGISTER\r\n"
      "\r\n";
  const std::string out_bytes = respond(parsed(compact), 401, "", "x");
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  const sip::header_entry* to_line = out.find(sip::header_id::to);
  ASSERT_NE(to_line, nullptr);
  EXPECT_EQ(out.name(*to_line), "t");
  const auto to = sip::parse_name_addr(out.value_of(sip::header_id::to));
  EXPECT_EQ(to->uri, "sip:bob@example.com");
  EXPECT_EQ(to->tag(), "x");
}

TEST(builder_write_response, every_via_is_kept_in_order) {
  const sip::message req = parsed(k_folded);
  const std::string bytes = respond(req, 200, "", "t");
  const sip::message out = parsed(bytes);
  expect_sound(out);
  EXPECT_THAT(via_entries(out), ::testing::ElementsAreArray(via_entries(req)));
  // The folded Via line is copied as written.
  EXPECT_NE(bytes.find("v: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-f1 ,\r\n   SIP/2.0/TCP"), std::string::npos);

  std::string two_lines(k_register);
  two_lines.insert(two_lines.find("Max-Forwards"), "Via: SIP/2.0/TCP 198.18.1.1;branch=z9hG4bK-2nd\r\n");
  const std::string out2_bytes = respond(parsed(two_lines), 200, "", "t");
  const sip::message out2 = parsed(out2_bytes);
  expect_sound(out2);
  EXPECT_THAT(via_entries(out2), ::testing::ElementsAre("SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bKnashds7;rport",
                                                        "SIP/2.0/TCP 198.18.1.1;branch=z9hG4bK-2nd"));
}

TEST(builder_write_response, answers_a_request_whose_parse_failed) {
  std::string broken(k_register);
  broken.replace(broken.find("Max-Forwards: 70"), "Max-Forwards: 70"sv.size(), "Max-Forwards 70");
  sip::message req;
  ASSERT_EQ(req.parse(broken), sip::errc::bad_header_line);
  ASSERT_TRUE(sip::can_answer(req));
  const auto v = sip::validate(req);
  const std::string out_bytes = respond(req, v.status_code(req.kind()), v.reason(), "t");
  const sip::message out = parsed(out_bytes);
  expect_sound(out);
  EXPECT_EQ(out.status_code(), 400);
  EXPECT_EQ(out.reason(), "Bad Request - Malformed Header Line");
}

TEST(builder_write_response, rejects_codes_out_of_range_and_reasons_that_would_forge_lines) {
  const sip::message req = parsed(k_register);
  std::array<char, 2048> buf{};
  EXPECT_EQ(sip::write_response(req, 99, "", "t", {}, buf).error(), sip::errc::bad_status_code);
  EXPECT_EQ(sip::write_response(req, 700, "", "t", {}, buf).error(), sip::errc::bad_status_code);
  EXPECT_EQ(sip::write_response(req, 400, "Bad\r\nX-Evil: 1", "t", {}, buf).error(), sip::errc::bad_reason);
  EXPECT_EQ(sip::write_response(req, 400, "Bad\nRequest", "t", {}, buf).error(), sip::errc::bad_reason);
  EXPECT_TRUE(sip::write_response(req, 699, "", "t", {}, buf).ok());
  const auto r = sip::write_response(req, 480, "Tempor\xC3\xA4r\tnicht verf\xC3\xBCgbar", "t", {}, buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(parsed(std::string_view(buf.data(), *r)).reason(), "Tempor\xC3\xA4r\tnicht verf\xC3\xBCgbar");
  const std::string unknown = respond(req, 699, "", "t");
  EXPECT_EQ(parsed(unknown).reason(), "Unknown");
}

TEST(builder_write_response, every_buffer_shorter_than_the_response_is_too_large) {
  const sip::message req = parsed(k_folded);
  const std::array<std::string_view, 2> extra{"Retry-After: 30", "Min-Expires: 60"};
  const std::string full = respond(req, 503, "", "tag-1", extra);
  ASSERT_FALSE(full.empty());
  expect_too_large_below(full.size(),
                         [&](std::span<char> out) { return sip::write_response(req, 503, "", "tag-1", extra, out); });
}

// ---------------------------------------------------------------- RFC 4475 round trip

// The torture messages live in tests/data/rfc4475 in the repository; until they
// are copied there, read them from the shared test data next to the repository.
std::filesystem::path rfc4475_dir() {
  for (const char* dir : {"../data/rfc4475", "tests/data/rfc4475", "../../../shared/testdata/rfc4475",
                          "../shared/testdata/rfc4475", "/work/shared/testdata/rfc4475"}) {
    if (std::filesystem::exists(std::filesystem::path(dir) / "MANIFEST.tsv")) return dir;
  }
  return {};
}

std::string slurp(const std::filesystem::path& p) {
  // Sized read: GCC 12 flags istreambuf_iterator with a false -Wnull-dereference.
  std::ifstream f(p, std::ios::binary | std::ios::ate);
  if (!f) return {};
  std::string s(static_cast<std::size_t>(f.tellg()), '\0');
  f.seekg(0);
  f.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

// Copying with an empty edit changes nothing a reader sees: same start line, same
// header lines (names as written, values) in order, same body; only Content-Length
// moves to the end and takes its canonical form.
TEST(builder_rfc4475, empty_edit_round_trips_every_message_that_parses) {
  const std::filesystem::path dir = rfc4475_dir();
  ASSERT_FALSE(dir.empty()) << "RFC 4475 corpus not found";
  std::istringstream manifest(slurp(dir / "MANIFEST.tsv"));
  std::string line;
  int valid = 0;
  int round_tripped = 0;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::string name;
    std::string section;
    std::string cls;
    std::getline(cols, name, '\t');
    std::getline(cols, section, '\t');
    std::getline(cols, cls, '\t');
    SCOPED_TRACE(name);
    const std::string bytes = slurp(dir / (name + ".dat"));
    ASSERT_FALSE(bytes.empty());
    sip::message in;
    const sip::errc e = in.parse(bytes);
    if (cls == "valid") {
      ++valid;
      ASSERT_EQ(e, sip::errc::ok);
    }
    if (e != sip::errc::ok) continue;

    const std::string copy = write(in, {});
    sip::message out;
    ASSERT_EQ(out.parse(copy), sip::errc::ok) << copy;
    EXPECT_EQ(out.start_line(), in.start_line());
    EXPECT_EQ(headers_of(out), headers_of(in));
    EXPECT_EQ(out.body(), in.body());
    EXPECT_EQ(out.headers().back().id, sip::header_id::content_length);
    EXPECT_EQ(out.value_of(sip::header_id::content_length), std::to_string(in.body().size()));
    // Same verdict, except where the copy mends the framing: several Content-Length
    // lines (RFC 4475 mcl01) collapse into the one the builder writes.
    if (in.count(sip::header_id::content_length) <= 1) {
      EXPECT_EQ(sip::validate(out).broken, sip::validate(in).broken);
    }
    ++round_tripped;
  }
  EXPECT_EQ(valid, 13);
  EXPECT_GE(round_tripped, valid);
}

}  // namespace
