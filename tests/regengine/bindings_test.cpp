// Binding table (pool, handles, indexes, arena) and the local-registrar decision rules.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sipfront/regengine/bindings.hpp"
#include "sipfront/sipparse/sipparse.hpp"

namespace reg = sipfront::reg;
namespace sip = sipfront::sip;

namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

const reg::endpoint k_phone{ip(198, 18, 1, 2), 5062, 0};
constexpr std::string_view k_aor = "sip:alice@sipfront.test";
constexpr std::string_view k_call_id = "reg-1@198.18.1.2";
constexpr std::string_view k_contact = "sip:alice@198.18.1.2:5062";

reg::binding_table_config small_table(std::uint32_t capacity = 8) {
  reg::binding_table_config c;
  c.capacity = capacity;
  c.worker_id = 3;
  c.seed = 42;
  return c;
}

// ---------------------------------------------------------------- table

TEST(binding_table, insert_find_by_every_key) {
  reg::binding_table t(small_table());
  const auto r = t.insert(k_aor, k_call_id, k_phone);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.error, reg::binding_errc::ok);
  reg::binding& b = *r.rec;
  EXPECT_EQ(b.aor(), k_aor);
  EXPECT_EQ(b.call_id(), k_call_id);
  EXPECT_EQ(b.source, k_phone);
  EXPECT_EQ(b.state, reg::binding_state::new_);
  EXPECT_EQ(b.n_contacts(), 0U);
  EXPECT_EQ(t.size(), 1U);

  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), &b);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "<sip:alice@SIPFRONT.test;transport=udp>"), nullptr)
      << "a URI, not a name-addr";
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:alice@SIPFRONT.test;transport=udp"), &b) << "any spelling of the AOR";
  EXPECT_EQ(t.find_by_aor(k_aor), &b);
  EXPECT_EQ(t.find_by_call_id("reg-2@198.18.1.2", k_aor), nullptr);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:bob@sipfront.test"), nullptr);
  EXPECT_EQ(t.find_by_aor("sip:bob@sipfront.test"), nullptr);

  reg::out_call_id_buffer buf{};
  const std::string out(t.out_call_id(b, buf));
  EXPECT_TRUE(out.starts_with("sf03-0-1-")) << out;
  EXPECT_EQ(out.size(), 9U + 16U) << out;
  EXPECT_EQ(t.find_by_out_call_id(out), &b);
  EXPECT_EQ(t.get(t.handle_of(b)), &b);

  reg::out_call_id_fields f;
  ASSERT_TRUE(reg::decode_out_call_id(out, f));
  EXPECT_EQ(f.worker, 3U);
  EXPECT_EQ(f.handle, t.handle_of(b));
  EXPECT_EQ(f.nonce, b.out_nonce());

  reg::out_tag_buffer tag{};
  const std::string_view tg = reg::binding_table::out_from_tag(b, tag);
  EXPECT_EQ(tg.size(), 18U);
  EXPECT_TRUE(tg.starts_with("sf"));
  EXPECT_EQ(out.find(tg.substr(2)), std::string::npos);  // not a copy of the Call-ID's nonce
}

TEST(binding_table, duplicate_aors_and_empty_keys_are_refused) {
  reg::binding_table t(small_table());
  ASSERT_TRUE(t.insert(k_aor, k_call_id, k_phone));
  auto r = t.insert(k_aor, "other@198.18.1.2", k_phone);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error, reg::binding_errc::duplicate_aor);
  r = t.insert("sip:alice@SipFront.test;user=phone", k_call_id, k_phone);  // same AOR and Call-ID, other spelling
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error, reg::binding_errc::duplicate_aor);
  EXPECT_EQ(t.insert("", "x", k_phone).error, reg::binding_errc::empty_key);
  EXPECT_EQ(t.insert("sip:x@y", "", k_phone).error, reg::binding_errc::empty_key);
  EXPECT_EQ(t.size(), 1U);
}

TEST(binding_table, pool_exhaustion_fails_cleanly_and_recovers_after_erase) {
  reg::binding_table t(small_table(4));
  std::vector<reg::binding*> recs;
  for (int i = 0; i < 4; ++i) {
    const auto r = t.insert("sip:u" + std::to_string(i) + "@x", "cid-" + std::to_string(i), k_phone);
    ASSERT_TRUE(r) << i;
    recs.push_back(r.rec);
  }
  const auto full = t.insert("sip:u4@x", "cid-4", k_phone);
  EXPECT_FALSE(full);
  EXPECT_EQ(full.error, reg::binding_errc::table_full);
  EXPECT_EQ(t.size(), 4U);
  EXPECT_EQ(t.find_by_call_id("cid-4", "sip:u4@x"), nullptr);  // nothing half-inserted
  EXPECT_EQ(t.find_by_aor("sip:u4@x"), nullptr);
  // Every existing record is still intact.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(t.find_by_call_id("cid-" + std::to_string(i), "sip:u" + std::to_string(i) + "@x"), recs[i]);
  }

  t.erase(*recs[2]);
  const auto again = t.insert("sip:u4@x", "cid-4", k_phone);
  ASSERT_TRUE(again);
  EXPECT_EQ(again.rec, recs[2]);  // the freed record is reused
  EXPECT_EQ(t.size(), 4U);
}

TEST(binding_table, erase_and_reinsert_invalidate_old_handles_and_out_call_ids) {
  reg::binding_table t(small_table());
  reg::binding& b = *t.insert(k_aor, k_call_id, k_phone).rec;
  const reg::binding_handle h1 = t.handle_of(b);
  reg::out_call_id_buffer buf{};
  const std::string out1(t.out_call_id(b, buf));
  b.state = reg::binding_state::registered;
  b.in_cseq = 7;

  t.erase(b);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), nullptr);
  EXPECT_EQ(t.find_by_aor(k_aor), nullptr);
  EXPECT_EQ(t.get(h1), nullptr);
  EXPECT_EQ(t.find_by_out_call_id(out1), nullptr);
  t.erase(b);  // twice is harmless
  EXPECT_EQ(t.size(), 0U);

  reg::binding& b2 = *t.insert(k_aor, k_call_id, k_phone).rec;
  EXPECT_EQ(&b2, &b);
  const reg::binding_handle h2 = t.handle_of(b2);
  EXPECT_EQ(h2.index, h1.index);
  EXPECT_EQ(h2.generation, h1.generation + 1);
  EXPECT_EQ(b2.state, reg::binding_state::new_);  // reset, not the old record's state
  EXPECT_EQ(b2.in_cseq, 0U);
  EXPECT_EQ(t.get(h1), nullptr);
  EXPECT_EQ(t.get(h2), &b2);
  EXPECT_EQ(t.find_by_out_call_id(out1), nullptr);  // the stale out-leg Call-ID misses the new life
  const std::string out2(t.out_call_id(b2, buf));
  EXPECT_NE(out1, out2);
  EXPECT_EQ(t.find_by_out_call_id(out2), &b2);
}

TEST(binding_table, forged_out_call_ids_miss) {
  reg::binding_table t(small_table());
  reg::binding& b = *t.insert(k_aor, k_call_id, k_phone).rec;
  reg::out_call_id_buffer buf{};
  const std::string good(t.out_call_id(b, buf));
  ASSERT_EQ(t.find_by_out_call_id(good), &b);

  std::string wrong_nonce = good;
  wrong_nonce.back() = wrong_nonce.back() == '0' ? '1' : '0';
  EXPECT_EQ(t.find_by_out_call_id(wrong_nonce), nullptr);
  std::string wrong_worker = good;
  wrong_worker[3] = '4';
  EXPECT_EQ(t.find_by_out_call_id(wrong_worker), nullptr);
  const std::string nonce(good.substr(good.size() - 16));
  EXPECT_EQ(t.find_by_out_call_id("sf03-0-2-" + nonce), nullptr);   // wrong generation
  EXPECT_EQ(t.find_by_out_call_id("sf03-1-1-" + nonce), nullptr);   // free record
  EXPECT_EQ(t.find_by_out_call_id("sf03-ff-1-" + nonce), nullptr);  // index beyond the pool
  EXPECT_EQ(t.find_by_out_call_id("sf03-00-1-" + nonce), nullptr);  // non-canonical spelling
  EXPECT_EQ(t.find_by_out_call_id("sf03-0-1-" + nonce + "0"), nullptr);
  EXPECT_EQ(t.find_by_out_call_id("sf03-0-1-" + nonce.substr(1)), nullptr);
  std::string upper = good;
  for (std::size_t i = 9; i < upper.size(); ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') {
      upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
      break;
    }
  }
  if (upper != good) {
    EXPECT_EQ(t.find_by_out_call_id(upper), nullptr);
  }
  EXPECT_EQ(t.find_by_out_call_id(""), nullptr);
  EXPECT_EQ(t.find_by_out_call_id("sf"), nullptr);
  EXPECT_EQ(t.find_by_out_call_id("reg-1@198.18.1.2"), nullptr);
  EXPECT_EQ(t.find_by_out_call_id("sf03-ffffffffff-1-" + nonce), nullptr);  // index over 32 bits
  EXPECT_EQ(t.get(reg::binding_handle{}), nullptr);
  EXPECT_EQ(t.get(reg::binding_handle{0, 0}), nullptr);
  EXPECT_EQ(t.get(reg::binding_handle{0, 1}), &b);
}

TEST(binding_table, arena_overflow_is_an_error_and_leaves_the_binding_unchanged) {
  reg::binding_table t(small_table());
  const std::string huge_aor = "sip:" + std::string(reg::binding::arena_bytes, 'a') + "@x";
  const auto r = t.insert(huge_aor, k_call_id, k_phone);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error, reg::binding_errc::strings_too_long);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.find_by_call_id(k_call_id, huge_aor), nullptr);

  reg::binding& b = *t.insert(k_aor, k_call_id, k_phone).rec;
  const std::array<reg::contact_spec, 1> one{{{k_contact, 1000}}};
  ASSERT_EQ(b.set_contacts(one), reg::binding_errc::ok);

  // Exactly full fits; one byte more does not.
  const std::size_t room = reg::binding::arena_bytes - k_aor.size() - k_call_id.size();
  const std::string fill(room, 'c');
  const std::string over(room + 1, 'c');
  const std::array<reg::contact_spec, 1> exact{{{fill, 5}}};
  const std::array<reg::contact_spec, 1> too_big{{{over, 5}}};
  EXPECT_EQ(b.set_contacts(too_big), reg::binding_errc::strings_too_long);
  ASSERT_EQ(b.n_contacts(), 1U);  // unchanged
  EXPECT_EQ(b.contact_uri(0), k_contact);
  EXPECT_EQ(b.contact_expires_at(0), 1000U);
  EXPECT_EQ(b.aor(), k_aor);
  EXPECT_EQ(b.call_id(), k_call_id);
  ASSERT_EQ(b.set_contacts(exact), reg::binding_errc::ok);
  EXPECT_EQ(b.contact_uri(0), fill);

  const std::array<reg::contact_spec, reg::max_contacts + 1> five{
      {{"sip:a@x", 1}, {"sip:b@x", 1}, {"sip:c@x", 1}, {"sip:d@x", 1}, {"sip:e@x", 1}}};
  EXPECT_EQ(b.set_contacts(five), reg::binding_errc::too_many_contacts);
  EXPECT_EQ(b.contact_uri(0), fill);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), &b);  // the keys survived every repack
  EXPECT_EQ(t.find_by_aor(k_aor), &b);
}

TEST(binding_table, contacts_keep_their_own_expiries) {
  reg::binding_table t(small_table());
  reg::binding& b = *t.insert(k_aor, k_call_id, k_phone).rec;
  const std::array<reg::contact_spec, 2> two{{{"sip:alice@198.18.1.2:5062", 5000}, {"sip:alice@10.0.0.9", 9000}}};
  ASSERT_EQ(b.set_contacts(two), reg::binding_errc::ok);
  ASSERT_EQ(b.n_contacts(), 2U);
  EXPECT_EQ(b.contact_uri(1), "sip:alice@10.0.0.9");
  EXPECT_EQ(b.contact_expires_at(0), 5000U);
  EXPECT_EQ(b.contact_expires_at(1), 9000U);
  EXPECT_EQ(b.in_expires_at(), 9000U);
  EXPECT_TRUE(b.has_contact("sip:alice@10.0.0.9"));
  EXPECT_FALSE(b.has_contact("sip:alice@10.0.0.8"));
  // Setting from the binding's own views (aliasing its arena) works.
  const std::array<reg::contact_spec, 1> keep{{{b.contact_uri(1), 9500}}};
  ASSERT_EQ(b.set_contacts(keep), reg::binding_errc::ok);
  EXPECT_EQ(b.contact_uri(0), "sip:alice@10.0.0.9");
  EXPECT_EQ(b.in_expires_at(), 9500U);
}

TEST(binding_table, rekey_call_id_moves_the_index_entry) {
  reg::binding_table t(small_table());
  reg::binding& b = *t.insert(k_aor, k_call_id, k_phone).rec;
  ASSERT_TRUE(t.insert("sip:bob@x", "bob-cid", k_phone));
  const std::array<reg::contact_spec, 1> one{{{k_contact, 1}}};
  ASSERT_EQ(b.set_contacts(one), reg::binding_errc::ok);

  EXPECT_EQ(t.rekey_call_id(b, std::string(reg::binding::arena_bytes, 'z')), reg::binding_errc::strings_too_long);
  EXPECT_EQ(t.rekey_call_id(b, ""), reg::binding_errc::empty_key);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), &b);  // unchanged after both failures
  EXPECT_EQ(b.call_id(), k_call_id);
  ASSERT_EQ(t.rekey_call_id(b, "reg-2@198.18.1.2"), reg::binding_errc::ok);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), nullptr);
  EXPECT_EQ(t.find_by_call_id("reg-2@198.18.1.2", k_aor), &b);
  EXPECT_EQ(t.find_by_aor(k_aor), &b);
  EXPECT_EQ(b.contact_uri(0), k_contact);
  EXPECT_EQ(t.size(), 2U);
}

// RFC 3261 §10.2: a multi-line phone (or a PBX) registers several AORs with one
// Call-ID; the in-leg key is (Call-ID, AOR).
TEST(binding_table, several_aors_share_one_call_id) {
  reg::binding_table t(small_table());
  reg::binding& alice = *t.insert(k_aor, k_call_id, k_phone).rec;
  const auto r = t.insert("sip:bob@sipfront.test", k_call_id, k_phone);
  ASSERT_TRUE(r) << reg::to_string(r.error);
  reg::binding& bob = *r.rec;
  reg::binding& carol = *t.insert("sip:carol@sipfront.test", k_call_id, k_phone).rec;
  reg::binding& dave = *t.insert("sip:dave@sipfront.test", "dave-cid", k_phone).rec;
  EXPECT_EQ(t.size(), 4U);
  EXPECT_NE(&alice, &bob);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), &alice);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:bob@sipfront.test"), &bob);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:carol@SIPFRONT.TEST"), &carol);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:dave@sipfront.test"), nullptr) << "dave is on another Call-ID";
  EXPECT_EQ(t.find_by_call_id("dave-cid", "sip:dave@sipfront.test"), &dave);
  EXPECT_EQ(t.find_by_aor("sip:bob@sipfront.test"), &bob);
  // Each has its own out-leg identity.
  reg::out_call_id_buffer b1{};
  reg::out_call_id_buffer b2{};
  const std::string out_alice(t.out_call_id(alice, b1));
  const std::string out_bob(t.out_call_id(bob, b2));
  EXPECT_NE(out_alice, out_bob);
  EXPECT_EQ(t.find_by_out_call_id(out_alice), &alice);
  EXPECT_EQ(t.find_by_out_call_id(out_bob), &bob);

  // Erasing one line leaves the others of its Call-ID.
  t.erase(bob);
  EXPECT_EQ(t.size(), 3U);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:bob@sipfront.test"), nullptr);
  EXPECT_EQ(t.find_by_aor("sip:bob@sipfront.test"), nullptr);
  EXPECT_EQ(t.find_by_out_call_id(out_bob), nullptr);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), &alice);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:carol@sipfront.test"), &carol);

  // Rekeying one line moves it alone; rekeying onto a Call-ID another AOR holds is fine
  // (the phone restarted and all its lines move to its new Call-ID one by one).
  ASSERT_EQ(t.rekey_call_id(alice, "dave-cid"), reg::binding_errc::ok);
  EXPECT_EQ(alice.call_id(), "dave-cid");
  EXPECT_EQ(t.find_by_call_id("dave-cid", k_aor), &alice);
  EXPECT_EQ(t.find_by_call_id("dave-cid", "sip:dave@sipfront.test"), &dave);
  EXPECT_EQ(t.find_by_call_id(k_call_id, k_aor), nullptr);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:carol@sipfront.test"), &carol);
  // The freed record comes back under the shared Call-ID.
  const auto again = t.insert("sip:bob@sipfront.test", k_call_id, k_phone);
  ASSERT_TRUE(again);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:bob@sipfront.test"), again.rec);
  t.erase(carol);
  t.erase(*again.rec);
  EXPECT_EQ(t.find_by_call_id(k_call_id, "sip:bob@sipfront.test"), nullptr);
  EXPECT_EQ(t.size(), 2U);
}

// A PBX registering many extensions with one Call-ID: one chain, every key distinct.
TEST(binding_table, a_pbx_call_id_shared_by_a_full_table) {
  reg::binding_table t(small_table(64));
  std::vector<reg::binding*> recs;
  for (int i = 0; i < 64; ++i) {
    const auto r = t.insert("sip:" + std::to_string(100 + i) + "@pbx.test", "pbx-1", k_phone);
    ASSERT_TRUE(r) << i;
    recs.push_back(r.rec);
  }
  EXPECT_EQ(t.insert("sip:999@pbx.test", "pbx-1", k_phone).error, reg::binding_errc::table_full);
  for (int i = 0; i < 64; i += 2) t.erase(*recs[i]);
  for (int i = 0; i < 64; ++i) {
    reg::binding* b = t.find_by_call_id("pbx-1", "sip:" + std::to_string(100 + i) + "@pbx.test");
    EXPECT_EQ(b, i % 2 == 0 ? nullptr : recs[i]) << i;
  }
  EXPECT_EQ(t.size(), 32U);
}

TEST(binding_table, owner_of_finds_the_record_from_its_timer) {
  reg::binding_table t(small_table());
  (void)t.insert("sip:a@x", "a", k_phone);
  reg::binding& b = *t.insert(k_aor, k_call_id, k_phone).rec;
  EXPECT_EQ(&t.owner_of(b.timer), &b);

  reg::timer_wheel w(0);
  w.arm(b.timer, 100);
  std::vector<reg::binding*> fired;
  w.advance(100, 16, [&](reg::timer_hook& h) { fired.push_back(&t.owner_of(h)); });
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0], &b);

  w.arm(b.timer, 200);
  t.erase(b);  // erasing disarms
  EXPECT_EQ(w.advance(300, 16, [](reg::timer_hook&) {}), 0U);
}

TEST(binding_table, memory_per_binding_within_budget) {
  reg::binding_table t(small_table(1U << 16));
  EXPECT_EQ(sizeof(reg::binding), 480U);
  // 2^16 records, 2^16 buckets per index: 480 + 2 x 8 B.
  EXPECT_EQ(t.memory_bytes(), (std::size_t{1} << 16) * (480 + 16));
  reg::binding_table odd(small_table((1U << 16) + 1));  // worst case: twice the buckets
  EXPECT_LE(odd.memory_bytes() / odd.capacity(), 512U);
}

TEST(binding_table, bad_config_is_refused_before_allocating) {
  reg::binding_table_config c = small_table();
  c.worker_id = 256;  // does not fit the two hex digits of the out-leg Call-ID
  EXPECT_THROW(reg::binding_table{c}, std::invalid_argument);
  c = small_table();
  c.capacity = 0xfffffffeU;
  EXPECT_THROW(reg::binding_table{c}, std::invalid_argument);
}

TEST(binding_table, many_bindings_survive_churn) {
  reg::binding_table t(small_table(512));
  std::set<std::string> live;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 512; ++i) {
      const std::string cid = "c" + std::to_string(round) + "-" + std::to_string(i);
      const auto r = t.insert("sip:" + cid + "@x", cid, k_phone);
      ASSERT_TRUE(r) << cid;
      live.insert(cid);
    }
    EXPECT_EQ(t.insert("sip:extra@x", "extra", k_phone).error, reg::binding_errc::table_full);
    for (const std::string& cid : live) {
      reg::binding* b = t.find_by_call_id(cid, "sip:" + cid + "@x");
      ASSERT_NE(b, nullptr) << cid;
      ASSERT_EQ(t.find_by_aor("sip:" + cid + "@x"), b);
      reg::out_call_id_buffer buf{};
      ASSERT_EQ(t.find_by_out_call_id(t.out_call_id(*b, buf)), b);
      t.erase(*b);
    }
    live.clear();
    EXPECT_EQ(t.size(), 0U);
  }
}

// ---------------------------------------------------------------- decisions

struct reg_msg {
  std::string call_id{k_call_id};
  unsigned cseq = 2;
  std::string to{"<sip:alice@sipfront.test>"};
  std::vector<std::string> contacts{"<sip:alice@198.18.1.2:5062>"};
  std::string expires = "120";  // empty: no Expires header
  std::string method = "REGISTER";
  std::string cseq_method = "REGISTER";
};

std::string build(const reg_msg& m) {
  std::string s = m.method + " sip:sipfront.test SIP/2.0\r\n";
  s += "Via: SIP/2.0/UDP 198.18.1.2:5062;branch=z9hG4bK-1;rport\r\n";
  s += "Max-Forwards: 70\r\n";
  s += "From: <sip:alice@sipfront.test>;tag=a1\r\n";
  s += "To: " + m.to + "\r\n";
  if (!m.call_id.empty()) s += "Call-ID: " + m.call_id + "\r\n";
  s += "CSeq: " + std::to_string(m.cseq) + " " + m.cseq_method + "\r\n";
  for (const std::string& c : m.contacts) s += "Contact: " + c + "\r\n";
  if (!m.expires.empty()) s += "Expires: " + m.expires + "\r\n";
  s += "Content-Length: 0\r\n\r\n";
  return s;
}

class decide_test : public ::testing::Test {
 protected:
  static constexpr std::uint64_t k_now = 1'000'000;

  void SetUp() override {
    policy_.in_expires_min = 60;
    policy_.in_expires_max = 3600;
    policy_.in_expires_default = 3600;
    policy_.out_expires = 3600;
    policy_.fail_count = 3;
    // A registered binding: the registrar granted 3600 s at k_now, the phone refreshes every 120 s.
    reg::binding& b = *table_.insert(k_aor, k_call_id, k_phone).rec;
    const std::array<reg::contact_spec, 1> one{{{k_contact, k_now + 120'000}}};
    ASSERT_EQ(b.set_contacts(one), reg::binding_errc::ok);
    b.state = reg::binding_state::registered;
    b.in_cseq = 1;
    b.in_expires = 120;
    b.out_expires = 3600;
    b.out_expires_at_ms = k_now + 3'600'000;
    b_ = &b;
  }

  reg::register_decision decide(const reg_msg& m, const reg::binding* existing, reg::endpoint src = k_phone,
                                std::uint64_t now = k_now) {
    bytes_.push_back(build(m));
    msgs_.emplace_back();
    EXPECT_EQ(msgs_.back().parse(bytes_.back()), sip::errc::ok) << bytes_.back();
    return reg::decide_register(msgs_.back(), src, existing, now, policy_);
  }
  reg::register_decision decide(const reg_msg& m) { return decide(m, b_); }

  static void expect(const reg::register_decision& d, reg::register_action a, reg::register_rule r) {
    EXPECT_EQ(d.action, a) << reg::to_string(d.action) << " / " << reg::to_string(d.rule);
    EXPECT_EQ(d.rule, r) << reg::to_string(d.rule);
  }

  reg::binding_table table_{small_table()};
  reg::binding* b_ = nullptr;
  reg::registrar_policy policy_;
  std::deque<std::string> bytes_;  // the messages' views point into these: no reallocation
  std::deque<sip::message> msgs_;
};

using reg::register_action;
using reg::register_rule;

TEST_F(decide_test, refresh_inside_out_leg_lifetime_is_absorbed) {
  const auto d = decide({});
  expect(d, register_action::absorb, register_rule::refresh_absorbed);
  EXPECT_EQ(d.in_expires, 120U);
  EXPECT_FALSE(d.clamped);
  EXPECT_EQ(d.cseq, 2U);
  EXPECT_EQ(d.call_id, k_call_id);
  EXPECT_EQ(d.aor, k_aor);
  ASSERT_EQ(d.contacts.size(), 1U);
  EXPECT_EQ(d.contacts[0].uri, k_contact);
  EXPECT_EQ(d.contacts[0].expires, 120U);
}

TEST_F(decide_test, refreshing_state_still_absorbs) {
  b_->state = reg::binding_state::refreshing;
  expect(decide({}), register_action::absorb, register_rule::refresh_absorbed);
}

TEST_F(decide_test, refresh_outliving_the_out_leg_is_forwarded) {
  // 120 s requested, 100 s of out-leg lifetime left.
  const std::uint64_t now = b_->out_expires_at_ms - 100'000;
  expect(decide({}, b_, k_phone, now), register_action::forward_upstream, register_rule::out_leg_expiring);
  // Exactly at the boundary it still fits.
  expect(decide({.cseq = 3}, b_, k_phone, b_->out_expires_at_ms - 120'000), register_action::absorb,
         register_rule::refresh_absorbed);
}

TEST_F(decide_test, unregister_by_expires_header_zero) {
  const auto d = decide({.expires = "0"});
  expect(d, register_action::forward_upstream, register_rule::unregister);
  EXPECT_EQ(d.in_expires, 0U);
}

TEST_F(decide_test, unregister_by_all_contacts_expires_zero) {
  expect(decide({.contacts = {"<sip:alice@198.18.1.2:5062>;expires=0"}}), register_action::forward_upstream,
         register_rule::unregister);
}

TEST_F(decide_test, one_contact_expires_zero_among_others_is_a_contact_change) {
  const std::array<reg::contact_spec, 2> two{{{k_contact, k_now + 120'000}, {"sip:alice@10.0.0.9", k_now + 120'000}}};
  ASSERT_EQ(b_->set_contacts(two), reg::binding_errc::ok);
  const auto d = decide({.contacts = {"<sip:alice@198.18.1.2:5062>", "<sip:alice@10.0.0.9>;expires=0"}});
  expect(d, register_action::forward_upstream, register_rule::contacts_changed);
  ASSERT_EQ(d.contacts.size(), 2U);
  EXPECT_EQ(d.contacts[1].expires, 0U);
  // The same two, both live, in the other order: absorbed.
  expect(decide({.cseq = 3, .contacts = {"<sip:alice@10.0.0.9>", "<sip:alice@198.18.1.2:5062>"}}),
         register_action::absorb, register_rule::refresh_absorbed);
}

TEST_F(decide_test, star_with_expires_zero_unregisters_all) {
  expect(decide({.contacts = {"*"}, .expires = "0"}), register_action::forward_upstream, register_rule::unregister_all);
}

TEST_F(decide_test, star_without_expires_zero_is_400) {
  expect(decide({.contacts = {"*"}, .expires = "60"}), register_action::reject_400,
         register_rule::star_without_expires_zero);
  expect(decide({.contacts = {"*"}, .expires = ""}), register_action::reject_400,
         register_rule::star_without_expires_zero);
}

TEST_F(decide_test, star_with_other_contacts_is_400) {
  expect(decide({.contacts = {"*", "<sip:alice@198.18.1.2:5062>"}, .expires = "0"}), register_action::reject_400,
         register_rule::star_with_other_contacts);
  expect(decide({.contacts = {"<sip:alice@198.18.1.2:5062>, *"}, .expires = "0"}), register_action::reject_400,
         register_rule::star_with_other_contacts);
}

TEST_F(decide_test, changed_contact_is_forwarded) {
  expect(decide({.contacts = {"<sip:alice@198.18.1.3:5062>"}}), register_action::forward_upstream,
         register_rule::contacts_changed);
  expect(decide({.contacts = {"<sip:alice@198.18.1.2:5062>", "<sip:alice@10.0.0.9>"}}),
         register_action::forward_upstream, register_rule::contacts_changed);
}

TEST_F(decide_test, new_call_id_for_existing_aor_is_forwarded) {
  expect(decide({.call_id = "reg-2@198.18.1.2"}), register_action::forward_upstream, register_rule::new_call_id);
}

TEST_F(decide_test, another_aors_binding_with_the_same_call_id_is_not_this_requests) {
  // A multi-line phone: bob's line REGISTERs with alice's Call-ID. Passed alice's
  // binding, the decision is bob's own: a new binding, never alice's absorption.
  expect(decide({.to = "<sip:bob@sipfront.test>"}), register_action::forward_upstream, register_rule::new_binding);
  expect(decide({.to = "<sip:bob@sipfront.test>", .contacts = {}, .expires = ""}), register_action::forward_upstream,
         register_rule::query_unknown);
  // bob's own binding, same Call-ID as alice's: bob's refreshes absorb like anyone's.
  reg::binding& bob = *table_.insert("sip:bob@sipfront.test", k_call_id, k_phone).rec;
  const std::array<reg::contact_spec, 1> one{{{k_contact, k_now + 120'000}}};
  ASSERT_EQ(bob.set_contacts(one), reg::binding_errc::ok);
  bob.state = reg::binding_state::registered;
  bob.in_cseq = 5;
  bob.out_expires_at_ms = k_now + 3'600'000;
  expect(decide({.cseq = 6, .to = "<sip:bob@sipfront.test>"}, &bob), register_action::absorb,
         register_rule::refresh_absorbed);
  expect(decide({.cseq = 5, .to = "<sip:bob@sipfront.test>"}, &bob), register_action::forward_upstream,
         register_rule::cseq_not_increasing);
}

TEST_F(decide_test, cseq_not_greater_is_forwarded) {
  expect(decide({.cseq = 1}), register_action::forward_upstream, register_rule::cseq_not_increasing);
  expect(decide({.cseq = 0}), register_action::forward_upstream, register_rule::cseq_not_increasing);
  expect(decide({.cseq = 2}), register_action::absorb, register_rule::refresh_absorbed);
}

TEST_F(decide_test, different_source_is_forwarded) {
  reg::endpoint other_port = k_phone;
  other_port.port = 5063;
  reg::endpoint other_ip = k_phone;
  other_ip.ip = ip(198, 18, 1, 9);
  reg::endpoint other_nic = k_phone;
  other_nic.port_id = 1;
  for (const reg::endpoint& src : {other_port, other_ip, other_nic}) {
    expect(decide({}, b_, src), register_action::forward_upstream, register_rule::source_changed);
  }
}

TEST_F(decide_test, no_binding_is_forwarded) {
  const auto d = decide({}, nullptr);
  expect(d, register_action::forward_upstream, register_rule::new_binding);
  EXPECT_EQ(d.in_expires, 120U);  // what to grant the phone when the registrar accepts
  ASSERT_EQ(d.contacts.size(), 1U);
}

TEST_F(decide_test, binding_not_registered_is_forwarded) {
  for (const auto s : {reg::binding_state::new_, reg::binding_state::pending_upstream,
                       reg::binding_state::unregistering, reg::binding_state::failed}) {
    b_->state = s;
    expect(decide({}), register_action::forward_upstream, register_rule::not_registered);
  }
}

TEST_F(decide_test, missed_refreshes_reach_fail_count) {
  EXPECT_FALSE(reg::note_missed_refresh(*b_, policy_));
  EXPECT_FALSE(reg::note_missed_refresh(*b_, policy_));
  expect(decide({}), register_action::absorb, register_rule::refresh_absorbed);  // 2 < K = 3
  EXPECT_TRUE(reg::note_missed_refresh(*b_, policy_));
  EXPECT_EQ(b_->missed_refreshes, 3U);
  expect(decide({}), register_action::forward_upstream, register_rule::missed_refreshes);
}

TEST_F(decide_test, expires_below_min_is_423_with_min_expires) {
  const auto d = decide({.expires = "30"});
  expect(d, register_action::reject_423, register_rule::interval_too_brief);
  EXPECT_EQ(d.min_expires, 60U);
  expect(decide({.contacts = {"<sip:alice@198.18.1.2:5062>;expires=59"}}), register_action::reject_423,
         register_rule::interval_too_brief);
  // The minimum itself is fine, and so is 0 (un-REGISTER is never too brief).
  expect(decide({.expires = "60"}), register_action::absorb, register_rule::refresh_absorbed);
  expect(decide({.expires = "0"}), register_action::forward_upstream, register_rule::unregister);
  // 423 applies to new bindings too.
  expect(decide({.expires = "1"}, nullptr), register_action::reject_423, register_rule::interval_too_brief);
}

TEST_F(decide_test, expires_above_max_is_clamped) {
  const auto d = decide({.expires = "7200"}, nullptr);
  expect(d, register_action::forward_upstream, register_rule::new_binding);
  EXPECT_TRUE(d.clamped);
  EXPECT_EQ(d.in_expires, 3600U);
  EXPECT_EQ(d.contacts[0].expires, 3600U);
  // Beyond 2^32-1 counts as 2^32-1 (RFC 3261 §20.19), then clamped.
  const auto big = decide({.expires = "99999999999"}, nullptr);
  EXPECT_TRUE(big.clamped);
  EXPECT_EQ(big.in_expires, 3600U);
  const auto exact = decide({.expires = "3600"}, nullptr);
  EXPECT_FALSE(exact.clamped);
  EXPECT_EQ(exact.in_expires, 3600U);
}

TEST_F(decide_test, contact_param_overrides_header_and_default_applies) {
  const auto d = decide({.contacts = {"<sip:alice@198.18.1.2:5062>;expires=300"}, .expires = "120"}, nullptr);
  EXPECT_EQ(d.contacts[0].expires, 300U);
  EXPECT_EQ(d.in_expires, 300U);
  policy_.in_expires_default = 900;
  const auto dflt = decide({.expires = ""}, nullptr);
  EXPECT_EQ(dflt.in_expires, 900U);
  // Malformed Expires counts as the default (RFC 3261 §20.19), not as an error.
  const auto bad = decide({.expires = "abc"}, nullptr);
  EXPECT_EQ(bad.action, register_action::forward_upstream);
  EXPECT_EQ(bad.in_expires, 900U);
}

TEST_F(decide_test, query_without_contact) {
  const auto d = decide({.contacts = {}});
  expect(d, register_action::query, register_rule::query_binding);
  expect(decide({.contacts = {}}, nullptr), register_action::forward_upstream, register_rule::query_unknown);
  b_->state = reg::binding_state::pending_upstream;
  expect(decide({.contacts = {}}), register_action::forward_upstream, register_rule::query_unknown);
}

TEST_F(decide_test, too_many_contacts_pass_through) {
  const auto d = decide({.contacts = {"<sip:a@x>", "<sip:b@x>", "<sip:c@x>", "<sip:d@x>", "<sip:e@x>"}});
  expect(d, register_action::forward_upstream, register_rule::too_many_contacts);
  EXPECT_TRUE(d.contacts.empty());
  // Four is fine (and a contact change here).
  expect(decide({.contacts = {"<sip:a@x>", "<sip:b@x>", "<sip:c@x>", "<sip:d@x>"}}), register_action::forward_upstream,
         register_rule::contacts_changed);
}

TEST_F(decide_test, malformed_requests_are_400) {
  expect(decide({.method = "OPTIONS", .cseq_method = "OPTIONS"}), register_action::reject_400,
         register_rule::not_register);
  expect(decide({.call_id = ""}), register_action::reject_400, register_rule::bad_call_id);
  expect(decide({.cseq_method = "INVITE"}), register_action::reject_400, register_rule::bad_cseq);
  expect(decide({.to = "<sip:alice@sipfront.test"}), register_action::reject_400, register_rule::bad_to);
  expect(decide({.contacts = {"<sip:alice@198.18.1.2:5062"}}), register_action::reject_400, register_rule::bad_contact);
}

TEST(register_rules, every_rule_and_action_has_a_distinct_name) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < reg::register_rule_count; ++i) {
    const std::string_view n = reg::to_string(static_cast<reg::register_rule>(i));
    EXPECT_NE(n, "unknown") << i;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), reg::register_rule_count);
  EXPECT_EQ(reg::to_string(register_action::absorb), "absorb");
  EXPECT_EQ(reg::to_string(register_action::reject_423), "reject_423");
  EXPECT_EQ(reg::to_string(reg::binding_errc::strings_too_long), "strings_too_long");
  EXPECT_EQ(reg::to_string(reg::binding_state::pending_upstream), "pending_upstream");
}

}  // namespace
