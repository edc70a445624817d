// HTTP digest authentication, client side (RFC 2617, RFC 7616 over SIP, RFC 3261
// §22): answering a registrar's WWW-Authenticate / Proxy-Authenticate challenge to
// one of the front end's own REGISTERs with configured credentials.
//
// The hashes go through OpenSSL EVP. A digest_client fetches MD5 and SHA-256 once
// and keeps one EVP_MD_CTX per algorithm, so answering a challenge does not fetch
// algorithms or create contexts. It is a cold path all the same (one challenge per
// out-leg refresh period of a challenged binding, at most): OpenSSL may allocate
// inside EVP_DigestInit_ex2 for its provider context, which is not controlled here.
// No exceptions; errors are values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfront/sipparse/values.hpp"

namespace sipfront::reg {

enum class digest_algorithm : std::uint8_t { md5, md5_sess, sha256, sha256_sess };

/// Why a challenge cannot be answered (ok: it can).
enum class digest_errc : std::uint8_t {
  ok,
  not_digest,         ///< another scheme (Basic, ...)
  missing_realm,      ///< no realm parameter
  missing_nonce,      ///< no (or an empty) nonce parameter
  unknown_algorithm,  ///< an algorithm other than MD5, MD5-sess, SHA-256, SHA-256-sess
  unsupported_qop,    ///< qop offered, but not "auth" (only auth-int, or unknown tokens)
  sess_without_qop,   ///< a -sess algorithm without qop: its cnonce could not be sent
  bad_value,          ///< a value the answer could not echo safely (backslash escapes, CR/LF, too long)
  no_space,           ///< the caller's buffer is too small
  crypto_failed,      ///< OpenSSL refused (algorithm not available, e.g. MD5 in a FIPS-only build)
};

std::string_view to_string(digest_errc e) noexcept;

/// A Digest challenge, read from a parsed WWW-Authenticate / Proxy-Authenticate value.
/// Views point into that value (i.e. into the message).
struct digest_challenge {
  std::string_view realm;
  std::string_view nonce;
  std::string_view opaque;  ///< echoed when `has_opaque`
  bool has_opaque = false;
  digest_algorithm algorithm = digest_algorithm::md5;
  bool qop_auth = false;  ///< qop offered and includes "auth": answer with qop=auth, cnonce, nc
  bool stale = false;     ///< stale=true: the previous answer's nonce expired, the credentials were fine
};

/// Reads the Digest parameters of `value`. Refuses (with the reason) what cannot be
/// answered: see digest_errc. Parameter names are case-insensitive; `stale` and
/// `algorithm` values too (RFC 7616 §3.3).
digest_errc parse_digest_challenge(const sip::auth_value& value, digest_challenge& out) noexcept;

struct digest_credentials {
  std::string_view username;
  std::string_view password;
};

/// What the answer is for: the request's method and digest-uri (the Request-URI as
/// sent), and the client nonce (used when the challenge has qop or a -sess algorithm;
/// no quotes or backslashes, e.g. hex).
struct digest_request {
  std::string_view method;
  std::string_view uri;
  std::string_view cnonce;
};

/// Answers digest challenges. One per engine (single-threaded); movable only by
/// reconstruction (it owns OpenSSL contexts).
class digest_client {
 public:
  digest_client() noexcept;
  ~digest_client();
  digest_client(const digest_client&) = delete;
  digest_client& operator=(const digest_client&) = delete;

  /// The header value (without the header name) of an Authorization /
  /// Proxy-Authorization answering `ch`: username, realm, nonce, uri, response,
  /// algorithm, then cnonce, qop=auth and nc=00000001 when the challenge offered
  /// qop, and opaque when it had one. Written to the start of `out`; `len` is set
  /// to its size on ok. nc is always 00000001: the front end answers each
  /// challenge once with a fresh cnonce and never reuses a nonce.
  digest_errc answer(const digest_challenge& ch, const digest_credentials& cred, const digest_request& req,
                     std::span<char> out, std::size_t& len) noexcept;

  /// Hex digest (lower case) of `parts` joined by ':' into `hex_out`, which must hold
  /// 2 x the digest size (32 for MD5, 64 for SHA-256). False when OpenSSL fails.
  /// Exposed for tests; answer() uses it.
  bool hash_hex(digest_algorithm alg, std::span<const std::string_view> parts, std::span<char> hex_out) noexcept;

  /// Hex characters of one hash of `alg` (32 or 64).
  static std::size_t hex_size(digest_algorithm alg) noexcept;
  static std::string_view algorithm_name(digest_algorithm alg) noexcept;

 private:
  struct state;
  state* s_ = nullptr;  // OpenSSL objects, kept out of this header
};

}  // namespace sipfront::reg
