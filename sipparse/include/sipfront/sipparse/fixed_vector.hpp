// A vector with inline, fixed capacity: the parser's lists never allocate.
#pragma once

#include <array>
#include <cstddef>
#include <span>

namespace sipfront::sip {

template <class T, std::size_t N>
class fixed_vector {
 public:
  static constexpr std::size_t capacity() noexcept { return N; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool full() const noexcept { return size_ == N; }
  void clear() noexcept { size_ = 0; }
  /// Appends; false (and nothing stored) when full.
  bool push_back(const T& v) noexcept {
    if (size_ == N) return false;
    items_[size_++] = v;
    return true;
  }
  T& operator[](std::size_t i) noexcept { return items_[i]; }
  const T& operator[](std::size_t i) const noexcept { return items_[i]; }
  T* begin() noexcept { return items_.data(); }
  T* end() noexcept { return items_.data() + size_; }
  const T* begin() const noexcept { return items_.data(); }
  const T* end() const noexcept { return items_.data() + size_; }
  const T& front() const noexcept { return items_[0]; }
  const T& back() const noexcept { return items_[size_ - 1]; }
  std::span<const T> span() const noexcept { return {items_.data(), size_}; }

 private:
  std::array<T, N> items_{};
  std::size_t size_ = 0;
};

}  // namespace sipfront::sip
