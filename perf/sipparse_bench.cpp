// sipparse throughput against libosip2 on a corpus of real-world REGISTER traffic.
//
// One benchmark per (parser, corpus message), registered at start-up from the
// corpus directory ($SIPFRONT_CORPUS, else perf/corpus of the source tree):
//   BM_parse/sipfront/<msg>        index + the fields a registrar reads
//   BM_parse/libosip2/<msg>        osip_message_init/parse/free + the same fields
//   BM_parse/sipfront_<isa>/<msg>  index only, with one scanner variant forced
//   BM_part/<accessor>/<msg>       one accessor alone, on a message indexed once
//                                  (contact_uri: parse_uri on the first Contact's URI)
//
// The two "field" benchmarks do comparable work from the caller's point of view:
// each ends with Call-ID, CSeq number, top Via branch, From/To tags, the first
// Contact's URI and Expires in hand. They differ in how: sipfront indexes header
// lines and parses only those values, into views of the datagram; osip parses every
// header it knows into heap-allocated structures up front and frees them at the
// end. That difference is the point of the comparison, not an unfairness in it.
//
// Every message is parsed from a buffer that stays hot in L1, as in a burst loop
// that has just touched the mbuf; cold-cache costs are not measured here.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include "sipfront/sipparse/message.hpp"
#include "sipfront/sipparse/scan.hpp"
#include "sipfront/sipparse/uri.hpp"
#include "sipfront/sipparse/values.hpp"

#ifndef SIPFRONT_CORPUS_DIR
#error "SIPFRONT_CORPUS_DIR must name the corpus directory (set by perf/meson.build)"
#endif

namespace {

namespace sip = sipfront::sip;
namespace fs = std::filesystem;

struct corpus_message {
  std::string name;   // file stem, e.g. "register_yealink"
  std::string bytes;  // the datagram, CRLF line ends as on the wire
};

// Reads every *.sip file of `dir`, sorted by name. Empty vector and `error` set on failure.
std::vector<corpus_message> load_corpus(const fs::path& dir, std::string& error) {
  std::vector<corpus_message> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    error = "cannot read corpus directory " + dir.string() + ": " + ec.message();
    return out;
  }
  for (const fs::directory_entry& e : it) {
    if (!e.is_regular_file() || e.path().extension() != ".sip") continue;
    const std::uintmax_t size = e.file_size(ec);
    std::string bytes(ec ? 0 : static_cast<std::size_t>(size), '\0');
    std::ifstream in(e.path(), std::ios::binary);
    if (ec || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
      error = "cannot read " + e.path().string();
      return {};
    }
    out.push_back({e.path().stem().string(), std::move(bytes)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (out.empty()) error = "no *.sip files in " + dir.string() + " (set SIPFRONT_CORPUS to the corpus directory)";
  return out;
}

// What a registrar reads from every message, for both parsers.
struct fields {
  std::string_view call_id;
  std::uint32_t cseq = 0;
  std::string_view branch;
  std::string_view from_tag;
  std::string_view to_tag;   // empty in requests outside a dialog
  std::string_view contact;  // first Contact's URI (osip: its parsed host); empty when there is none
  std::uint32_t expires = 0;
  bool has_expires = false;
};

void keep(const fields& f) {
  benchmark::DoNotOptimize(f.call_id.data());
  benchmark::DoNotOptimize(f.cseq);
  benchmark::DoNotOptimize(f.branch.data());
  benchmark::DoNotOptimize(f.from_tag.data());
  benchmark::DoNotOptimize(f.to_tag.data());
  benchmark::DoNotOptimize(f.contact.data());
  benchmark::DoNotOptimize(f.expires);
}

void set_counters(benchmark::State& state, std::size_t msg_bytes) {
  const auto n = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(n);
  state.SetBytesProcessed(n * static_cast<std::int64_t>(msg_bytes));
}

// ---------------------------------------------------------------- sipfront

// Fills `f` from an indexed message; nullptr on success, else what failed.
const char* sipfront_fields(const sip::message& msg, fields& f) noexcept {
  const auto call_id = sip::parse_call_id(msg.value_of(sip::header_id::call_id));
  if (!call_id) return "Call-ID";
  f.call_id = *call_id;

  const auto cseq = sip::parse_cseq(msg.value_of(sip::header_id::cseq));
  if (!cseq) return "CSeq";
  f.cseq = cseq->number;

  const auto via = sip::top_via(msg);
  if (!via || via->branch.empty()) return "Via branch";
  f.branch = via->branch;

  // From and To: only the tags are read, so their URIs are not parsed (lazy, as
  // the dataplane does); the Contact below is fully validated, URI included.
  const auto from = sip::split_name_addr(msg.value_of(sip::header_id::from));
  if (!from) return "From";
  f.from_tag = from->tag();

  const auto to = sip::split_name_addr(msg.value_of(sip::header_id::to));
  if (!to) return "To";
  f.to_tag = to->tag();

  // The first Contact, validated (URI included), parsed in one pass from its line.
  if (const auto contact = sip::first_name_addr(msg, sip::header_id::contact, /*allow_star=*/true)) {
    f.contact = contact->uri;
  } else if (contact.error() != sip::errc::not_present) {
    return "Contact";
  }

  if (const sip::header_entry* h = msg.find(sip::header_id::expires)) {
    const auto expires = sip::parse_delta_seconds(msg.value(*h));
    if (!expires) return "Expires";
    f.expires = *expires;
    f.has_expires = true;
  }
  return nullptr;
}

void bm_sipfront(benchmark::State& state, const corpus_message* m) {
  const std::string_view datagram = m->bytes;
  const sip::scanner& scan = sip::best_scanner();
  sip::message msg;  // reused, as a view living in an mbuf's private area would be
  for (auto _ : state) {
    const sip::errc e = msg.parse(datagram, scan);
    if (e != sip::errc::ok) [[unlikely]] {
      state.SkipWithError(("sipfront: message::parse: " + std::string(sip::to_string(e))).c_str());
      break;
    }
    fields f;
    if (const char* what = sipfront_fields(msg, f)) [[unlikely]] {
      state.SkipWithError((std::string("sipfront: cannot read ") + what).c_str());
      break;
    }
    keep(f);
  }
  set_counters(state, m->bytes.size());
}

void bm_sipfront_index(benchmark::State& state, const corpus_message* m, sip::scan_isa isa) {
  if (!sip::isa_supported(isa)) {
    state.SkipWithError(("this CPU lacks " + std::string(sip::to_string(isa))).c_str());
    return;
  }
  const std::string_view datagram = m->bytes;
  const sip::scanner& scan = sip::scanner_for(isa);
  sip::message msg;
  for (auto _ : state) {
    const sip::errc e = msg.parse(datagram, scan);
    if (e != sip::errc::ok) [[unlikely]] {
      state.SkipWithError(("sipfront: message::parse: " + std::string(sip::to_string(e))).c_str());
      break;
    }
    benchmark::DoNotOptimize(msg);
    benchmark::ClobberMemory();
  }
  set_counters(state, m->bytes.size());
}

// One accessor at a time, on a message indexed once outside the loop: where the
// time of BM_parse/sipfront goes (BM_part/<accessor>/<msg>). The loop body is the
// call alone; a message without that header is skipped.
enum class part { call_id, cseq, top_via, from, to, contact, contact_uri, expires };

constexpr std::string_view to_string(part p) noexcept {
  switch (p) {
    case part::call_id: return "call_id";
    case part::cseq: return "cseq";
    case part::top_via: return "top_via";
    case part::from: return "from";
    case part::to: return "to";
    case part::contact: return "contact";
    case part::contact_uri: return "contact_uri";
    case part::expires: return "expires";
  }
  return "?";
}

void bm_part(benchmark::State& state, const corpus_message* m, part p) {
  sip::message msg;
  if (msg.parse(m->bytes) != sip::errc::ok) {
    state.SkipWithError("sipfront: message::parse failed");
    return;
  }
  const std::string_view call_id = msg.value_of(sip::header_id::call_id);
  const std::string_view cseq = msg.value_of(sip::header_id::cseq);
  const std::string_view from = msg.value_of(sip::header_id::from);
  const std::string_view to = msg.value_of(sip::header_id::to);
  const sip::header_entry* expires = msg.find(sip::header_id::expires);
  if ((p == part::expires && expires == nullptr) ||
      ((p == part::contact || p == part::contact_uri) && msg.find(sip::header_id::contact) == nullptr)) {
    state.SkipWithError("the message has no such header");
    return;
  }
  // The first Contact's URI (contact_uri), split from its line once.
  std::string_view contact_uri;
  if (p == part::contact_uri) {
    const auto na = sip::first_name_addr(msg, sip::header_id::contact, /*allow_star=*/true);
    if (!na || na->star) {
      state.SkipWithError("the first Contact is not a name-addr");
      return;
    }
    contact_uri = na->uri;
  }
  for (auto _ : state) {
    switch (p) {
      case part::call_id: benchmark::DoNotOptimize(sip::parse_call_id(call_id)); break;
      case part::cseq: benchmark::DoNotOptimize(sip::parse_cseq(cseq)); break;
      case part::top_via: benchmark::DoNotOptimize(sip::top_via(msg)); break;
      case part::from: benchmark::DoNotOptimize(sip::split_name_addr(from)); break;
      case part::to: benchmark::DoNotOptimize(sip::split_name_addr(to)); break;
      case part::contact:
        benchmark::DoNotOptimize(sip::first_name_addr(msg, sip::header_id::contact, /*allow_star=*/true));
        break;
      case part::contact_uri: benchmark::DoNotOptimize(sip::parse_uri(contact_uri)); break;
      case part::expires: benchmark::DoNotOptimize(sip::parse_delta_seconds(msg.value(*expires))); break;
    }
  }
  set_counters(state, m->bytes.size());
}

// ---------------------------------------------------------------- libosip2

std::uint32_t to_u32(const char* s) noexcept {
  return s != nullptr ? static_cast<std::uint32_t>(std::strtoul(s, nullptr, 10)) : 0;
}

std::string_view param_value(osip_list_t* params, const char* name) noexcept {
  // osip takes the name as char* but does not write to it.
  osip_generic_param_t* p = nullptr;
  if (osip_uri_param_get_byname(params, const_cast<char*>(name), &p) < 0 || p == nullptr || p->gvalue == nullptr) {
    return {};
  }
  return p->gvalue;
}

// Same fields as sipfront_fields, through osip's API; nullptr on success.
const char* osip_fields(const osip_message_t* msg, fields& f) noexcept {
  const osip_call_id_t* call_id = osip_message_get_call_id(msg);
  if (call_id == nullptr || call_id->number == nullptr) return "Call-ID";
  f.call_id = call_id->number;

  const osip_cseq_t* cseq = osip_message_get_cseq(msg);
  if (cseq == nullptr || cseq->number == nullptr) return "CSeq";
  f.cseq = to_u32(cseq->number);

  osip_via_t* via = nullptr;
  if (osip_message_get_via(msg, 0, &via) < 0 || via == nullptr) return "Via";
  f.branch = param_value(&via->via_params, "branch");
  if (f.branch.empty()) return "Via branch";

  osip_from_t* from = osip_message_get_from(msg);
  if (from == nullptr) return "From";
  f.from_tag = param_value(&from->gen_params, "tag");

  osip_to_t* to = osip_message_get_to(msg);
  if (to == nullptr) return "To";
  f.to_tag = param_value(&to->gen_params, "tag");

  osip_contact_t* contact = nullptr;
  if (osip_message_get_contact(msg, 0, &contact) >= 0 && contact != nullptr) {
    if (contact->url == nullptr) return "Contact";
    f.contact = contact->url->host != nullptr ? contact->url->host : "";
  }

  osip_header_t* expires = nullptr;
  // osip_message_get_expires() is this call behind a macro with C casts.
  if (osip_message_header_get_byname(msg, "expires", 0, &expires) >= 0 && expires != nullptr) {
    f.expires = to_u32(expires->hvalue);
    f.has_expires = true;
  }
  return nullptr;
}

void bm_osip(benchmark::State& state, const corpus_message* m) {
  const char* const data = m->bytes.data();
  const std::size_t size = m->bytes.size();
  for (auto _ : state) {
    osip_message_t* msg = nullptr;
    if (osip_message_init(&msg) != OSIP_SUCCESS) [[unlikely]] {
      state.SkipWithError("libosip2: osip_message_init failed");
      break;
    }
    if (const int rc = osip_message_parse(msg, data, size); rc != OSIP_SUCCESS) [[unlikely]] {
      osip_message_free(msg);
      state.SkipWithError(("libosip2: osip_message_parse returned " + std::to_string(rc)).c_str());
      break;
    }
    fields f;
    const char* what = osip_fields(msg, f);
    keep(f);
    osip_message_free(msg);
    if (what != nullptr) [[unlikely]] {
      state.SkipWithError((std::string("libosip2: cannot read ") + what).c_str());
      break;
    }
  }
  set_counters(state, size);
}

// Both parsers must read the same values from every message, or the comparison
// compares different work. Returns an empty string when they agree.
std::string cross_check(const corpus_message& m) {
  sip::message msg;
  if (const sip::errc e = msg.parse(m.bytes); e != sip::errc::ok) {
    return "sipfront: message::parse: " + std::string(sip::to_string(e));
  }
  fields a;
  if (const char* what = sipfront_fields(msg, a)) return std::string("sipfront: cannot read ") + what;

  osip_message_t* om = nullptr;
  if (osip_message_init(&om) != OSIP_SUCCESS) return "libosip2: osip_message_init failed";
  std::string out;
  fields b;
  if (osip_message_parse(om, m.bytes.data(), m.bytes.size()) != OSIP_SUCCESS) {
    out = "libosip2: osip_message_parse failed";
  } else if (const char* what = osip_fields(om, b)) {
    out = std::string("libosip2: cannot read ") + what;
  } else {
    // osip splits the Call-ID at '@' and keeps only the parsed host of a Contact URI.
    const osip_call_id_t* cid = osip_message_get_call_id(om);
    std::string osip_call_id(b.call_id);
    if (cid->host != nullptr) osip_call_id.append(1, '@').append(cid->host);
    auto differ = [&](const char* field, auto x, auto y) {
      if (out.empty() && x != y) out = std::string("parsers disagree on ") + field;
    };
    differ("Call-ID", a.call_id, std::string_view(osip_call_id));
    differ("CSeq", a.cseq, b.cseq);
    differ("Via branch", a.branch, b.branch);
    differ("From tag", a.from_tag, b.from_tag);
    differ("To tag", a.to_tag, b.to_tag);
    differ("Contact presence", a.contact.empty(), b.contact.empty());
    differ("Contact host", a.contact.find(b.contact) == std::string_view::npos, false);
    differ("Expires", a.has_expires ? a.expires : ~0U, b.has_expires ? b.expires : ~0U);
  }
  osip_message_free(om);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const char* env = std::getenv("SIPFRONT_CORPUS");
  const fs::path dir = (env != nullptr && *env != '\0') ? fs::path(env) : fs::path(SIPFRONT_CORPUS_DIR);
  std::string error;
  // Owned here for the whole run: the registered benchmarks point into it.
  const std::vector<corpus_message> corpus = load_corpus(dir, error);
  if (corpus.empty()) {
    std::fprintf(stderr, "sipparse_bench: %s\n", error.c_str());
    return 1;
  }
  if (parser_init() != OSIP_SUCCESS) {
    std::fprintf(stderr, "sipparse_bench: libosip2 parser_init failed\n");
    return 1;
  }

  benchmark::AddCustomContext("corpus", dir.string());
  // A parse failure also stops that message's benchmarks (SkipWithError); a
  // disagreement only shows here and in the context, so do not miss it.
  for (const corpus_message& m : corpus) {
    if (const std::string why = cross_check(m); !why.empty()) {
      std::fprintf(stderr, "sipparse_bench: WARNING: %s.sip: %s\n", m.name.c_str(), why.c_str());
      benchmark::AddCustomContext("cross_check:" + m.name, why);
    }
  }
  benchmark::AddCustomContext("sipfront_best_scanner", std::string(sip::to_string(sip::best_scanner().isa)));
  for (const corpus_message& m : corpus) {
    benchmark::AddCustomContext("bytes:" + m.name, std::to_string(m.bytes.size()));
  }

  // Grouped by message so sipfront and libosip2 for one message print side by side.
  constexpr sip::scan_isa k_isas[] = {sip::scan_isa::scalar, sip::scan_isa::sse42, sip::scan_isa::avx2};
  for (const corpus_message& m : corpus) {
    benchmark::RegisterBenchmark(("BM_parse/sipfront/" + m.name).c_str(), bm_sipfront, &m);
    benchmark::RegisterBenchmark(("BM_parse/libosip2/" + m.name).c_str(), bm_osip, &m);
  }
  for (const corpus_message& m : corpus) {
    for (const sip::scan_isa isa : k_isas) {
      const std::string name = "BM_parse/sipfront_" + std::string(sip::to_string(isa)) + "/" + m.name;
      benchmark::RegisterBenchmark(name.c_str(), bm_sipfront_index, &m, isa);
    }
  }

  constexpr part k_parts[] = {part::call_id, part::cseq,    part::top_via,     part::from,
                              part::to,      part::contact, part::contact_uri, part::expires};
  for (const corpus_message& m : corpus) {
    for (const part p : k_parts) {
      const std::string name = "BM_part/" + std::string(to_string(p)) + "/" + m.name;
      benchmark::RegisterBenchmark(name.c_str(), bm_part, &m, p);
    }
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
