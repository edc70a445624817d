// Hierarchical timer wheel: placement, cascading and the jump to the next event.
//
// Invariants (c = now_), which make skipping ticks safe:
// - level 0, slot s holds only timers expiring at the one tick in (c, c+255] that is
//   congruent to s mod 256; slot c & 255 is empty, except while a cascade at c is
//   unfinished (cascade_pending_), when it still holds the timers of c;
// - level L >= 1, slot s holds only timers whose deadline lies in the 2^(8L)-tick
//   block that starts at the next tick > c with (tick >> 8L) & 255 == s, which is
//   when that slot cascades (level 3 also holds parked far deadlines, which are
//   re-placed there);
// - due_ holds only timers whose deadline is <= c;
// - cascading_ holds timers of slots whose cascade tick is c, as in the slots.
// So between c and the earliest such splice/cascade tick nothing happens, and the
// wheel may jump there directly.

#include "sipfront/regengine/timer_wheel.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace sipfront::reg {

namespace {

constexpr std::uint64_t slot_mask = timer_wheel::slots - 1;
constexpr std::uint64_t no_event = std::numeric_limits<std::uint64_t>::max();

// Distance 1..256 from slot `from` forward (cyclically) to the next possibly occupied
// slot; 256 is `from` itself, i.e. one full turn of this level later. 0: none.
unsigned next_occupied(const std::array<std::uint64_t, timer_wheel::slots / 64>& bits, unsigned from) noexcept {
  if ((bits[0] | bits[1] | bits[2] | bits[3]) == 0) return 0;  // the usual idle level
  const unsigned start = (from + 1) & static_cast<unsigned>(slot_mask);
  unsigned word = start >> 6;
  std::uint64_t w = bits[word] & (~std::uint64_t{0} << (start & 63));
  // Five reads: the tail of the start word, the other three, then the start word whole
  // (its low bits come last in cyclic order; its high bits are known clear by then).
  for (unsigned i = 0; i < 5; ++i) {
    if (w != 0) {
      const unsigned slot = word * 64 + static_cast<unsigned>(std::countr_zero(w));
      return ((slot - from - 1) & static_cast<unsigned>(slot_mask)) + 1;
    }
    word = (word + 1) & 3;
    w = bits[word];
  }
  return 0;
}

}  // namespace

timer_wheel::timer_wheel(std::uint64_t now, std::size_t cascade_budget) noexcept
    : now_(now), cascade_budget_(std::max<std::size_t>(cascade_budget, 1)) {}

void timer_wheel::arm(timer_hook& h, std::uint64_t expires) noexcept {
  h.unlink();
  h.expires = expires;
  place(h);
}

void timer_wheel::place(timer_hook& h) noexcept {
  if (h.expires <= now_) {
    due_.push_back(h);
    return;
  }
  const std::uint64_t delta = h.expires - now_;
  // The lowest level whose range covers delta: bit_width 1..8 -> 0, 9..16 -> 1, ...
  const unsigned level = std::min<unsigned>(static_cast<unsigned>(std::bit_width(delta) - 1) / slot_bits, levels - 1);
  // Beyond the top level's range: park at the farthest tick it can represent.
  const std::uint64_t at = delta < span ? h.expires : now_ + (span - 1);
  const auto slot = static_cast<unsigned>((at >> (level * slot_bits)) & slot_mask);
  wheel_[level][slot].push_back(h);
  occupied_[level][slot >> 6] |= std::uint64_t{1} << (slot & 63);
}

// Moves the slot of `level` that starts at now_ (a boundary of that level) to
// cascading_ in O(1), to be re-placed within the work budget of this and later calls.
void timer_wheel::detach(unsigned level) noexcept {
  const auto slot = static_cast<unsigned>((now_ >> (level * slot_bits)) & slot_mask);
  std::uint64_t& word = occupied_[level][slot >> 6];
  const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
  if ((word & bit) == 0) return;
  word &= ~bit;
  cascading_.splice(cascading_.end(), wheel_[level][slot]);
}

// The earliest tick in (now_, limit] at which a possibly occupied slot is spliced or
// cascaded; no_event if there is none.
std::uint64_t timer_wheel::next_event(std::uint64_t limit) const noexcept {
  std::uint64_t best = no_event;
  for (unsigned level = 0; level < levels; ++level) {
    const unsigned shift = level * slot_bits;
    const std::uint64_t block = now_ >> shift;
    // Nothing at this level (or above) happens before its next boundary, so once
    // that is past the limit or past an event already found, stop looking.
    if (((block + 1) << shift) > std::min(best, limit)) break;
    const unsigned d = next_occupied(occupied_[level], static_cast<unsigned>(block & slot_mask));
    if (d != 0) best = std::min(best, (block + d) << shift);
  }
  return best <= limit ? best : no_event;
}

// Moves now_ forward to the next event tick <= `now` (or to `now` if there is none),
// cascades, and moves that tick's timers to due_. A cascade that runs out of `work`
// is resumed by the next call, with now_ held at its tick. Returns false when there
// is nothing more to do: caught up with `now`, or out of work.
bool timer_wheel::collect(std::uint64_t now, std::size_t& work) noexcept {
  if (!cascade_pending_) {
    if (now_ >= now) return false;
    if (((now_ ^ now) >> slot_bits) == 0) [[likely]] {
      // Polls move the clock a tick or so: with no level boundary in (now_, now] only
      // level-0 slots can come due, which one bitmap answers.
      const unsigned d = next_occupied(occupied_[0], static_cast<unsigned>(now_ & slot_mask));
      if (d == 0 || d > now - now_) {
        now_ = now;
        return false;
      }
      now_ += d;
    } else {
      const std::uint64_t t = next_event(now);
      if (t == no_event) {
        now_ = now;
        return false;
      }
      now_ = t;
      for (unsigned level = levels - 1; level > 0; --level) {
        if ((t & ((std::uint64_t{1} << (level * slot_bits)) - 1)) == 0) detach(level);
      }
      // A flag, not cascading_.empty(): the owner may cancel everything detached
      // between calls, and this tick's level-0 slot must still be spliced.
      cascade_pending_ = true;
    }
  }
  // Re-place by distance from now_, which is why the order of levels does not matter.
  while (!cascading_.empty()) {
    if (work == 0) [[unlikely]] {
      return false;
    }
    --work;
    timer_hook& h = cascading_.front();
    cascading_.pop_front();
    place(h);
  }
  cascade_pending_ = false;
  // This tick's own level-0 timers join due_ once its cascade is complete (before
  // would be as correct: everything cascading expires at this tick or later).
  const auto slot = static_cast<unsigned>(now_ & slot_mask);
  occupied_[0][slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
  due_.splice(due_.end(), wheel_[0][slot]);
  return true;
}

std::size_t timer_wheel::armed_count() const noexcept {
  std::size_t n = due_.size() + cascading_.size();
  for (const auto& level : wheel_) {
    for (const list& l : level) n += l.size();
  }
  return n;
}

}  // namespace sipfront::reg
