// Digest answers (RFC 2617 §3.2.2, RFC 7616 §3.4): HA1 = H(user:realm:password)
// (-sess: H(H(user:realm:password):nonce:cnonce)), HA2 = H(method:digest-uri),
// response = H(HA1:nonce:nc:cnonce:qop:HA2) with qop=auth, H(HA1:nonce:HA2)
// without qop (RFC 2069). Hashes are lower-case hex of EVP digests.
#include "sipfront/regengine/digest.hpp"

#include <openssl/evp.h>

#include <array>
#include <new>

#include "sipfront/sipparse/builder.hpp"
#include "sipfront/sipparse/chars.hpp"

namespace sipfront::reg {

namespace {

constexpr std::size_t k_max_hash = 32;  // SHA-256
constexpr std::string_view k_nc = "00000001";
// Longest realm / nonce / opaque / username echoed: a challenge with more is refused.
constexpr std::size_t k_max_value = 512;

bool is_sha256(digest_algorithm a) noexcept {
  return a == digest_algorithm::sha256 || a == digest_algorithm::sha256_sess;
}
bool is_sess(digest_algorithm a) noexcept {
  return a == digest_algorithm::md5_sess || a == digest_algorithm::sha256_sess;
}

// A value that goes back inside a quoted-string as it came: no escapes (they would
// have to be undone for the hash and redone for the echo), no quotes, no controls.
bool echoable(std::string_view v) noexcept {
  if (v.size() > k_max_value) return false;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"' || u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

// qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT (RFC 2617 §3.2.1).
bool offers_auth(std::string_view list) noexcept {
  std::size_t i = 0;
  while (i <= list.size()) {
    std::size_t j = list.find(',', i);
    if (j == std::string_view::npos) j = list.size();
    std::string_view tok = list.substr(i, j - i);
    while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
    if (sip::chars::iequals(tok, "auth")) return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

std::string_view to_string(digest_errc e) noexcept {
  switch (e) {
    case digest_errc::ok: return "ok";
    case digest_errc::not_digest: return "not_digest";
    case digest_errc::missing_realm: return "missing_realm";
    case digest_errc::missing_nonce: return "missing_nonce";
    case digest_errc::unknown_algorithm: return "unknown_algorithm";
    case digest_errc::unsupported_qop: return "unsupported_qop";
    case digest_errc::sess_without_qop: return "sess_without_qop";
    case digest_errc::bad_value: return "bad_value";
    case digest_errc::no_space: return "no_space";
    case digest_errc::crypto_failed: return "crypto_failed";
  }
  return "unknown";
}

digest_errc parse_digest_challenge(const sip::auth_value& value, digest_challenge& out) noexcept {
  out = digest_challenge{};
  if (!value.is_digest()) return digest_errc::not_digest;
  bool have_realm = false;
  bool have_nonce = false;
  bool have_qop = false;
  for (const sip::auth_param& p : value.params) {
    if (sip::chars::iequals(p.name, "realm")) {
      out.realm = p.value;
      have_realm = true;
    } else if (sip::chars::iequals(p.name, "nonce")) {
      out.nonce = p.value;
      have_nonce = !p.value.empty();
    } else if (sip::chars::iequals(p.name, "opaque")) {
      out.opaque = p.value;
      out.has_opaque = true;
    } else if (sip::chars::iequals(p.name, "stale")) {
      out.stale = sip::chars::iequals(p.value, "true");
    } else if (sip::chars::iequals(p.name, "algorithm")) {
      if (sip::chars::iequals(p.value, "MD5")) {
        out.algorithm = digest_algorithm::md5;
      } else if (sip::chars::iequals(p.value, "MD5-sess")) {
        out.algorithm = digest_algorithm::md5_sess;
      } else if (sip::chars::iequals(p.value, "SHA-256")) {
        out.algorithm = digest_algorithm::sha256;
      } else if (sip::chars::iequals(p.value, "SHA-256-sess")) {
        out.algorithm = digest_algorithm::sha256_sess;
      } else {
        return digest_errc::unknown_algorithm;
      }
    } else if (sip::chars::iequals(p.name, "qop")) {
      have_qop = true;
      out.qop_auth = offers_auth(p.value);
    }
  }
  if (!have_realm) return digest_errc::missing_realm;
  if (!have_nonce) return digest_errc::missing_nonce;
  if (have_qop && !out.qop_auth) return digest_errc::unsupported_qop;
  if (!have_qop && is_sess(out.algorithm)) return digest_errc::sess_without_qop;
  if (!echoable(out.realm) || !echoable(out.nonce) || (out.has_opaque && !echoable(out.opaque))) {
    return digest_errc::bad_value;
  }
  return digest_errc::ok;
}

// ---------------------------------------------------------------- digest_client

struct digest_client::state {
  EVP_MD* md5 = nullptr;
  EVP_MD* sha256 = nullptr;
  EVP_MD_CTX* md5_ctx = nullptr;  // one context per algorithm: each is always re-initialised with the same EVP_MD
  EVP_MD_CTX* sha256_ctx = nullptr;
};

digest_client::digest_client() noexcept : s_(new (std::nothrow) state) {
  if (s_ == nullptr) return;
  // Fetched once (OpenSSL 3 providers): EVP_md5()/EVP_sha256() would fetch again on every init.
  s_->md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  s_->sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  s_->md5_ctx = EVP_MD_CTX_new();
  s_->sha256_ctx = EVP_MD_CTX_new();
}

digest_client::~digest_client() {
  if (s_ == nullptr) return;
  EVP_MD_CTX_free(s_->md5_ctx);
  EVP_MD_CTX_free(s_->sha256_ctx);
  EVP_MD_free(s_->md5);
  EVP_MD_free(s_->sha256);
  delete s_;
}

std::size_t digest_client::hex_size(digest_algorithm alg) noexcept { return is_sha256(alg) ? 64 : 32; }

std::string_view digest_client::algorithm_name(digest_algorithm alg) noexcept {
  switch (alg) {
    case digest_algorithm::md5: return "MD5";
    case digest_algorithm::md5_sess: return "MD5-sess";
    case digest_algorithm::sha256: return "SHA-256";
    case digest_algorithm::sha256_sess: return "SHA-256-sess";
  }
  return "MD5";
}

bool digest_client::hash_hex(digest_algorithm alg, std::span<const std::string_view> parts,
                             std::span<char> hex_out) noexcept {
  if (s_ == nullptr) return false;
  const bool sha = is_sha256(alg);
  EVP_MD* md = sha ? s_->sha256 : s_->md5;
  EVP_MD_CTX* ctx = sha ? s_->sha256_ctx : s_->md5_ctx;
  if (md == nullptr || ctx == nullptr || hex_out.size() < hex_size(alg)) return false;
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0 && EVP_DigestUpdate(ctx, ":", 1) != 1) return false;
    if (!parts[i].empty() && EVP_DigestUpdate(ctx, parts[i].data(), parts[i].size()) != 1) return false;
  }
  std::array<unsigned char, k_max_hash> raw{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, raw.data(), &n) != 1 || std::size_t{n} * 2 != hex_size(alg)) return false;
  for (std::size_t i = 0; i < n; ++i) {
    hex_out[2 * i] = "0123456789abcdef"[raw[i] >> 4];
    hex_out[2 * i + 1] = "0123456789abcdef"[raw[i] & 15U];
  }
  return true;
}

digest_errc digest_client::answer(const digest_challenge& ch, const digest_credentials& cred, const digest_request& req,
                                  std::span<char> out, std::size_t& len) noexcept {
  len = 0;
  if (!echoable(cred.username) || !echoable(req.uri) || !echoable(ch.realm) || !echoable(ch.nonce) ||
      (ch.has_opaque && !echoable(ch.opaque))) {
    return digest_errc::bad_value;
  }
  if (!ch.qop_auth && is_sess(ch.algorithm)) return digest_errc::sess_without_qop;
  const bool needs_cnonce = ch.qop_auth;  // (a -sess algorithm has qop here)
  if (needs_cnonce && (req.cnonce.empty() || !echoable(req.cnonce))) return digest_errc::bad_value;

  const std::size_t hs = hex_size(ch.algorithm);
  std::array<char, 2 * k_max_hash> ha1{};
  std::array<char, 2 * k_max_hash> ha2{};
  std::array<char, 2 * k_max_hash> resp{};
  {
    const std::array<std::string_view, 3> p{cred.username, ch.realm, cred.password};
    if (!hash_hex(ch.algorithm, p, ha1)) return digest_errc::crypto_failed;
  }
  if (is_sess(ch.algorithm)) {
    const std::array<std::string_view, 3> p{std::string_view(ha1.data(), hs), ch.nonce, req.cnonce};
    std::array<char, 2 * k_max_hash> sess{};
    if (!hash_hex(ch.algorithm, p, sess)) return digest_errc::crypto_failed;
    ha1 = sess;
  }
  {
    const std::array<std::string_view, 2> p{req.method, req.uri};
    if (!hash_hex(ch.algorithm, p, ha2)) return digest_errc::crypto_failed;
  }
  if (ch.qop_auth) {
    const std::array<std::string_view, 6> p{std::string_view(ha1.data(), hs), ch.nonce, k_nc, req.cnonce, "auth",
                                            std::string_view(ha2.data(), hs)};
    if (!hash_hex(ch.algorithm, p, resp)) return digest_errc::crypto_failed;
  } else {
    const std::array<std::string_view, 3> p{std::string_view(ha1.data(), hs), ch.nonce,
                                            std::string_view(ha2.data(), hs)};
    if (!hash_hex(ch.algorithm, p, resp)) return digest_errc::crypto_failed;
  }

  sip::writer w(out);
  w.put("Digest username=\"").put(cred.username).put("\", realm=\"").put(ch.realm);
  w.put("\", nonce=\"").put(ch.nonce).put("\", uri=\"").put(req.uri);
  w.put("\", response=\"").put(std::string_view(resp.data(), hs)).put("\", algorithm=");
  w.put(algorithm_name(ch.algorithm));
  if (needs_cnonce) w.put(", cnonce=\"").put(req.cnonce).put('"');
  if (ch.has_opaque) w.put(", opaque=\"").put(ch.opaque).put('"');
  if (ch.qop_auth) w.put(", qop=auth, nc=").put(k_nc);
  if (w.overflowed()) return digest_errc::no_space;
  len = w.size();
  return digest_errc::ok;
}

}  // namespace sipfront::reg
