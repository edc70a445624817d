#include "sipfront/dataplane/counters.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "sipfront/sipparse/validate.hpp"

namespace sipfront::dp {

void counter_table::add(std::string name, std::vector<std::optional<std::uint64_t>> cells, bool detail) {
  cells.resize(columns.size());
  rows.push_back(row{std::move(name), std::move(cells), detail});
}

std::string format_table(const counter_table& t) {
  constexpr std::string_view total_heading = "total";
  std::vector<const counter_table::row*> shown;
  for (const auto& r : t.rows) {
    if (r.detail && std::none_of(r.cells.begin(), r.cells.end(), [](const auto& c) { return c && *c != 0; })) {
      continue;
    }
    shown.push_back(&r);
  }
  std::size_t name_w = 7;  // "counter"
  for (const auto* r : shown) name_w = std::max(name_w, r->name.size());
  std::vector<std::size_t> w(t.columns.size() + 1, 0);
  for (std::size_t c = 0; c < t.columns.size(); ++c) w[c] = t.columns[c].size();
  w.back() = total_heading.size();
  std::vector<std::string> line(t.columns.size() + 1);
  auto cell_text = [](const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : std::string("-"); };
  for (const auto* r : shown) {
    if (r->cells.empty()) continue;
    std::uint64_t sum = 0;
    for (std::size_t c = 0; c < r->cells.size(); ++c) {
      w[c] = std::max(w[c], cell_text(r->cells[c]).size());
      sum += r->cells[c].value_or(0);
    }
    w.back() = std::max(w.back(), std::to_string(sum).size());
  }
  std::string out;
  auto pad_left = [&out](std::string_view s, std::size_t width) {
    out.append(width > s.size() ? width - s.size() : 0, ' ');
    out.append(s);
  };
  auto pad_right = [&out](std::string_view s, std::size_t width) {
    out.append(s);
    out.append(width > s.size() ? width - s.size() : 0, ' ');
  };
  pad_right("counter", name_w);
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    out.append("  ");
    pad_left(t.columns[c], w[c]);
  }
  out.append("  ");
  pad_left(total_heading, w.back());
  out.push_back('\n');
  for (const auto* r : shown) {
    if (r->cells.empty()) {
      out.append("[").append(r->name).append("]\n");
      continue;
    }
    pad_right(r->name, name_w);
    std::uint64_t sum = 0;
    bool any = false;
    for (std::size_t c = 0; c < r->cells.size(); ++c) {
      out.append("  ");
      pad_left(cell_text(r->cells[c]), w[c]);
      sum += r->cells[c].value_or(0);
      any = any || r->cells[c].has_value();
    }
    out.append("  ");
    pad_left(any ? std::to_string(sum) : "-", w.back());
    out.push_back('\n');
  }
  return out;
}

namespace {

std::uint64_t relaxed(const std::uint64_t& v) noexcept { return __atomic_load_n(&v, __ATOMIC_RELAXED); }

}  // namespace

counter_table make_counter_table(const counter_sources& src) {
  counter_table t;
  const std::size_t nw = src.workers.size();
  for (std::size_t i = 0; i < nw; ++i) {
    const unsigned lc = i < src.worker_lcores.size() ? src.worker_lcores[i] : 0;
    t.columns.push_back("w" + std::to_string(i) + "@lc" + std::to_string(lc));
  }
  t.columns.push_back("ctrl@lc" + std::to_string(src.control_lcore));
  const control_counters* cc = src.control;

  using cells = std::vector<std::optional<std::uint64_t>>;
  // A row from a worker counter, with the control lcore's matching counter if any.
  auto worker_row = [&](const char* name, counter worker_counters::*m, const counter* ctl = nullptr,
                        bool detail = false) {
    cells c;
    for (const auto* w : src.workers) c.emplace_back((w->*m).load());
    c.push_back(ctl ? std::optional<std::uint64_t>(ctl->load()) : std::nullopt);
    t.add(name, std::move(c), detail);
  };
  auto control_row = [&](const char* name, const counter& ctl, bool detail = false) {
    cells c(nw);
    c.push_back(cc ? std::optional<std::uint64_t>(ctl.load()) : std::nullopt);
    t.add(name, std::move(c), detail);
  };
  auto engine_row = [&](std::string name, auto get, bool detail) {
    cells c;
    for (std::size_t i = 0; i < nw; ++i) {
      const reg::engine_counters* e = i < src.engines.size() ? src.engines[i] : nullptr;
      c.push_back(e ? std::optional<std::uint64_t>(relaxed(get(*e))) : std::nullopt);
    }
    c.emplace_back(std::nullopt);
    t.add(std::move(name), std::move(c), detail);
  };
  auto section = [&](const char* name) { t.rows.push_back(counter_table::row{name, {}, false}); };

  const control_counters zero{};
  const control_counters& c = cc ? *cc : zero;
  section("traffic");
  worker_row("rx.packets", &worker_counters::rx_packets, &c.rx_packets);
  worker_row("rx.bytes", &worker_counters::rx_bytes, &c.rx_bytes);
  worker_row("tx.packets", &worker_counters::tx_packets, &c.tx_packets);
  worker_row("tx.bytes", &worker_counters::tx_bytes, &c.tx_bytes);
  worker_row("tx.drops", &worker_counters::tx_drops, &c.tx_drops);
  worker_row("tx.no_route", &worker_counters::no_route);
  worker_row("mbuf.exhausted", &worker_counters::no_mbuf, &c.no_mbuf);
  section("sip");
  worker_row("sip.register", &worker_counters::sip_register);
  worker_row("sip.other_request", &worker_counters::sip_other_request);
  worker_row("sip.response", &worker_counters::sip_response);
  worker_row("sip.parse_errors", &worker_counters::sip_parse_errors);
  worker_row("sip.keepalives", &worker_counters::sip_keepalives, nullptr, true);
  section("steering");
  worker_row("steer.out", &worker_counters::steered_out);
  worker_row("steer.in", &worker_counters::steered_in);
  worker_row("steer.ring_full_drops", &worker_counters::ring_full, &c.ring_full);
  worker_row("frag.received", &worker_counters::fragments);
  worker_row("frag.forwarded", &worker_counters::frag_forwarded);
  worker_row("frag.reassembled", &worker_counters::reassembled);
  worker_row("frag.linearized", &worker_counters::linearized);
  section("slow path");
  worker_row("arp.replies", &worker_counters::arp_replies, &c.arp_replies_sent);
  worker_row("arp.miss", &worker_counters::arp_miss);
  worker_row("to_control", &worker_counters::to_control);
  worker_row("to_control.ring_full", &worker_counters::control_ring_full);
  control_row("ctrl.forwarded_to_workers", c.forwarded_to_workers);
  control_row("arp.learned", c.arp_learned);
  control_row("arp.requests_sent", c.arp_requests_sent);
  control_row("arp.snapshots", c.arp_snapshots);
  control_row("arp.pending_sent", c.pending_sent);
  control_row("arp.pending_expired", c.pending_expired);
  control_row("arp.pending_overflow", c.pending_overflow, true);
  control_row("icmp.echo_replies", c.icmp_echo_replies);
  control_row("icmp.bad_checksum", c.icmp_bad_checksum, true);
  section("drops (l2/l3/l4)");
  for (std::size_t r = 0; r < drop_reason_count; ++r) {
    cells cl;
    for (const auto* w : src.workers) cl.emplace_back(w->drops[r].load());
    cl.emplace_back(std::nullopt);
    t.add("drop." + std::string(to_string(static_cast<drop_reason>(r))), std::move(cl), true);
  }
  section("engine");
  struct engine_field {
    const char* name;
    std::uint64_t reg::engine_counters::*field;
    bool detail;
  };
  static constexpr engine_field engine_fields[] = {
      {"eng.register_in", &reg::engine_counters::register_in, false},
      {"eng.other_request_in", &reg::engine_counters::other_request_in, false},
      {"eng.response_in", &reg::engine_counters::response_in, false},
      {"eng.forwarded_upstream", &reg::engine_counters::forwarded_upstream, false},
      {"eng.relayed_downstream", &reg::engine_counters::relayed_downstream, false},
      {"eng.local_responses", &reg::engine_counters::local_responses, false},
      {"eng.register_absorbed", &reg::engine_counters::register_absorbed, true},
      {"eng.register_forwarded", &reg::engine_counters::register_forwarded, true},
      {"eng.register_rejected_423", &reg::engine_counters::register_rejected_423, true},
      {"eng.register_rejected", &reg::engine_counters::register_rejected, true},
      {"eng.upstream_refreshes", &reg::engine_counters::upstream_refreshes, true},
      {"eng.fail_count_deregs", &reg::engine_counters::fail_count_deregs, true},
      {"eng.deregs_lapsed", &reg::engine_counters::deregs_lapsed, true},
      {"eng.bindings_full", &reg::engine_counters::bindings_full, true},
      {"eng.spike_rejected", &reg::engine_counters::spike_rejected, true},
      {"eng.spike_deferred", &reg::engine_counters::spike_deferred, true},
      {"eng.registrar_failovers", &reg::engine_counters::registrar_failovers, true},
      {"eng.registrar_unavailable", &reg::engine_counters::registrar_unavailable, true},
      {"eng.secondary_kept", &reg::engine_counters::secondary_kept, true},
      {"eng.auth_challenges_answered", &reg::engine_counters::auth_challenges_answered, true},
      {"eng.auth_no_credentials", &reg::engine_counters::auth_no_credentials, true},
      {"eng.auth_unsupported", &reg::engine_counters::auth_unsupported, true},
      {"eng.auth_refused", &reg::engine_counters::auth_refused, true},
      {"eng.probes_sent", &reg::engine_counters::probes_sent, true},
      {"eng.probes_answered", &reg::engine_counters::probes_answered, true},
      {"eng.probe_timeouts", &reg::engine_counters::probe_timeouts, true},
      {"eng.fallback_registrations", &reg::engine_counters::fallback_registrations, true},
      {"eng.fallback_expired", &reg::engine_counters::fallback_expired, true},
      {"eng.regsync_sent", &reg::engine_counters::regsync_sent, true},
      {"eng.retrans_absorbed", &reg::engine_counters::retrans_absorbed, true},
      {"eng.retrans_answered", &reg::engine_counters::retrans_answered, true},
      {"eng.timer_e_retrans", &reg::engine_counters::timer_e_retrans, true},
      {"eng.timer_f_timeouts", &reg::engine_counters::timer_f_timeouts, true},
      {"eng.stray_responses", &reg::engine_counters::stray_responses, true},
      {"eng.duplicate_responses", &reg::engine_counters::duplicate_responses, true},
      {"eng.transactions_full", &reg::engine_counters::transactions_full, true},
      {"eng.no_registrar", &reg::engine_counters::no_registrar, true},
      {"eng.malformed_requests", &reg::engine_counters::malformed_requests, true},
      {"eng.malformed_responses", &reg::engine_counters::malformed_responses, true},
      {"eng.unanswerable", &reg::engine_counters::unanswerable, true},
      {"eng.output_full", &reg::engine_counters::output_full, true},
  };
  for (const engine_field& f : engine_fields) {
    engine_row(
        f.name, [m = f.field](const reg::engine_counters& e) -> const std::uint64_t& { return e.*m; }, f.detail);
  }
  for (std::size_t r = 1; r < sip::rule_count; ++r) {
    engine_row(
        "rule." + std::string(sip::to_string(static_cast<sip::rule>(r))),
        [r](const reg::engine_counters& e) -> const std::uint64_t& { return e.by_rule[r]; }, true);
  }
  return t;
}

}  // namespace sipfront::dp
