// The dynamic registrars' resolver (rules in dns.hpp): one c-ares channel whose
// sockets are watched through ARES_OPT_SOCK_STATE_CB and polled with a zero
// timeout, so nothing here waits.
#include "sipfront/ctrl/dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace sipfront::ctrl {

std::string_view to_string(dns_outcome o) noexcept {
  switch (o) {
    case dns_outcome::pending: return "pending";
    case dns_outcome::answer: return "answer";
    case dns_outcome::nxdomain: return "NXDOMAIN";
    case dns_outcome::no_data: return "no A record";
    case dns_outcome::servfail: return "server failure";
    case dns_outcome::timeout: return "timeout";
    case dns_outcome::unusable: return "no usable address";
    case dns_outcome::error: return "resolver error";
  }
  return "unknown";
}

namespace {

constexpr int k_class_in = 1;  // RFC 1035 3.2.4
constexpr int k_type_a = 1;    // RFC 1035 3.2.2

dns_outcome outcome_of(int status) noexcept {
  switch (status) {
    case ARES_SUCCESS: return dns_outcome::answer;
    case ARES_ENOTFOUND: return dns_outcome::nxdomain;
    case ARES_ENODATA: return dns_outcome::no_data;
    // c-ares tries the next server on SERVFAIL, NOTIMP and REFUSED; when every
    // server failed so, or the port was unreachable, the query ends ECONNREFUSED.
    case ARES_ECONNREFUSED:
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
    case ARES_EFORMERR:
    case ARES_EBADRESP:
    case ARES_ENOTIMP: return dns_outcome::servfail;
    case ARES_ETIMEOUT: return dns_outcome::timeout;
    default: return dns_outcome::error;
  }
}

struct watched_socket {
  ares_socket_t fd = ARES_SOCKET_BAD;
  bool read = false;
  bool write = false;
};

}  // namespace

struct registrar_resolver::impl {
  struct query_ctx {
    impl* self = nullptr;
    std::size_t i = 0;  // states[i]
  };

  resolver_config cfg;
  address_filter usable;
  std::vector<dns_state> states;
  std::vector<query_ctx> ctx;  // one per state, stable addresses (sized once)
  std::vector<watched_socket> sockets;
  std::vector<pollfd> pfds;  // scratch for poll(2)
  ares_channel channel = nullptr;
  bool library = false;
  std::uint64_t now = 0;
  bool changed = false;

  ~impl() {
    // Outstanding queries' callbacks run here with ARES_EDESTRUCTION (ignored).
    if (channel != nullptr) ares_destroy(channel);
    if (library) ares_library_cleanup();
  }

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto& socks = static_cast<impl*>(data)->sockets;
    const auto it = std::find_if(socks.begin(), socks.end(), [fd](const watched_socket& s) { return s.fd == fd; });
    if (readable == 0 && writable == 0) {
      if (it != socks.end()) socks.erase(it);
      return;
    }
    watched_socket& s = it != socks.end() ? *it : socks.emplace_back();
    s = watched_socket{.fd = fd, .read = readable != 0, .write = writable != 0};
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
    const auto* q = static_cast<const query_ctx*>(arg);
    q->self->finish(q->i, status, abuf, alen);
  }

  void start(std::size_t i) {
    dns_state& st = states[i];
    st.in_flight = true;  // before ares_query: its callback may run inside it
    ++st.queries;
    ares_query(channel, st.name.host.c_str(), k_class_in, k_type_a, on_answer, &ctx[i]);
  }

  void finish(std::size_t i, int status, const unsigned char* abuf, int alen) {
    dns_state& st = states[i];
    st.in_flight = false;
    dns_outcome out = outcome_of(status);
    std::array<std::uint32_t, dns_state::max_addresses> addrs{};
    std::size_t n = 0;
    std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
    if (out == dns_outcome::answer) {
      std::array<ares_addrttl, dns_state::max_addresses> recs{};
      int nrecs = static_cast<int>(recs.size());
      const int rc = ares_parse_a_reply(abuf, alen, nullptr, recs.data(), &nrecs);
      if (rc != ARES_SUCCESS) {
        out = rc == ARES_ENODATA ? dns_outcome::no_data : dns_outcome::servfail;
      } else {
        for (int k = 0; k < nrecs; ++k) {
          const std::uint32_t ip = ntohl(recs[static_cast<std::size_t>(k)].ipaddr.s_addr);
          if (usable && !usable(ip)) continue;
          if (std::find(addrs.begin(), addrs.begin() + static_cast<std::ptrdiff_t>(n), ip) !=
              addrs.begin() + static_cast<std::ptrdiff_t>(n)) {
            continue;
          }
          addrs[n++] = ip;
          ttl = std::min(ttl, static_cast<std::uint32_t>(std::max(recs[static_cast<std::size_t>(k)].ttl, 0)));
        }
        if (nrecs == 0)
          out = dns_outcome::no_data;
        else if (n == 0)
          out = dns_outcome::unusable;
      }
    }
    st.last = out;
    if (out != dns_outcome::answer) {
      ++st.failures;
      st.next_query_ms = now + std::uint64_t{cfg.retry_s} * 1000;
      if (st.resolved && now >= st.valid_until_ms) {
        st.resolved = false;
        st.ip = 0;
        ++st.generation;
        changed = true;
      }
      return;
    }
    ++st.answers;
    st.ttl_s = std::clamp(ttl, cfg.min_ttl_s, cfg.max_ttl_s);
    st.valid_until_ms = now + std::uint64_t{st.ttl_s} * 1000;
    st.next_query_ms = st.valid_until_ms;
    st.addresses = addrs;
    st.n_addresses = n;
    const bool keep = st.resolved && std::find(addrs.begin(), addrs.begin() + static_cast<std::ptrdiff_t>(n), st.ip) !=
                                         addrs.begin() + static_cast<std::ptrdiff_t>(n);
    if (!keep) {
      st.resolved = true;
      st.ip = addrs[0];
      ++st.generation;
      changed = true;
    }
  }

  void process_sockets() {
    pfds.clear();
    for (const watched_socket& s : sockets) {
      pfds.push_back(pollfd{
          .fd = s.fd, .events = static_cast<short>((s.read ? POLLIN : 0) | (s.write ? POLLOUT : 0)), .revents = 0});
    }
    if (!pfds.empty() && ::poll(pfds.data(), pfds.size(), 0) > 0) {
      for (const pollfd& p : pfds) {
        if (p.revents == 0) continue;
        const bool rd = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool wr = (p.revents & POLLOUT) != 0;
        ares_process_fd(channel, rd ? p.fd : ARES_SOCKET_BAD, wr ? p.fd : ARES_SOCKET_BAD);
      }
    }
    // No socket ready: still lets c-ares retransmit or time out queries.
    ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
};

registrar_resolver::registrar_resolver(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
registrar_resolver::~registrar_resolver() = default;

std::unique_ptr<registrar_resolver> registrar_resolver::create(const resolver_config& cfg, std::vector<dns_name> names,
                                                               std::string& error, address_filter usable) {
  auto p = std::make_unique<impl>();
  p->cfg = cfg;
  p->usable = std::move(usable);
  if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
    error = std::string("c-ares: ") + ares_strerror(rc);
    return nullptr;
  }
  p->library = true;
  ares_options opts{};
  opts.timeout = static_cast<int>(std::max<std::uint32_t>(cfg.query_timeout_ms, 1));
  opts.tries = static_cast<int>(std::max(cfg.tries, 1U));
  opts.sock_state_cb = impl::on_sock_state;
  opts.sock_state_cb_data = p.get();
  const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (const int rc = ares_init_options(&p->channel, &opts, mask); rc != ARES_SUCCESS) {
    p->channel = nullptr;
    error = std::string("c-ares: ") + ares_strerror(rc);
    return nullptr;
  }
  if (!cfg.servers.empty()) {
    std::vector<ares_addr_port_node> nodes(cfg.servers.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      nodes[i].next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      nodes[i].family = AF_INET;
      nodes[i].addr.addr4.s_addr = htonl(cfg.servers[i].ip);
      nodes[i].udp_port = cfg.servers[i].port;
      nodes[i].tcp_port = cfg.servers[i].port;
    }
    if (const int rc = ares_set_servers_ports(p->channel, nodes.data()); rc != ARES_SUCCESS) {
      error = std::string("c-ares: DNS servers: ") + ares_strerror(rc);
      return nullptr;
    }
  }
  p->states.resize(names.size());
  p->ctx.resize(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    p->states[i].name = std::move(names[i]);
    p->ctx[i] = impl::query_ctx{.self = p.get(), .i = i};
  }
  return std::unique_ptr<registrar_resolver>(new registrar_resolver(std::move(p)));
}

bool registrar_resolver::poll(std::uint64_t now_ms) {
  impl& s = *impl_;
  s.now = now_ms;
  for (std::size_t i = 0; i < s.states.size(); ++i) {
    if (!s.states[i].in_flight && now_ms >= s.states[i].next_query_ms) s.start(i);
  }
  if (busy()) s.process_sockets();
  return std::exchange(s.changed, false);
}

std::uint64_t registrar_resolver::next_due_ms() const noexcept {
  std::uint64_t due = std::numeric_limits<std::uint64_t>::max();
  for (const dns_state& st : impl_->states) {
    if (!st.in_flight) due = std::min(due, st.next_query_ms);
  }
  return due;
}

bool registrar_resolver::busy() const noexcept {
  return std::any_of(impl_->states.begin(), impl_->states.end(), [](const dns_state& st) { return st.in_flight; });
}

const std::vector<dns_state>& registrar_resolver::states() const noexcept { return impl_->states; }

}  // namespace sipfront::ctrl
