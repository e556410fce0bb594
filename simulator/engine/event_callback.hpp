// mailsim::sim event_callback — what the scheduler runs for an event: a move-only void()
// callable, kept in place when it fits.
//
// Contract: holds any movable callable F with void operator()(). One of at most inline_bytes
// (alignment at most alignof(std::max_align_t)) that moves without throwing lives inside the
// object; any other on the heap. std::function keeps only trivially copyable callables
// of 16 bytes in place, so a lambda that holds a shared_ptr cost a heap allocation per event;
// the network schedules one per piece of protocol data it carries. An empty callback is false
// and must not be called. Moving leaves the source empty.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace mailsim::sim {

class event_callback {
 public:
  // Room for a shared_ptr and a std::function side by side.
  static constexpr std::size_t inline_bytes = 48;

  event_callback() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, event_callback>>>
  event_callback(F&& f) {  // NOLINT(google-explicit-constructor): takes lambdas as they come
    using stored = std::decay_t<F>;
    if constexpr (fits<stored>) {
      ::new (static_cast<void*>(buffer_)) stored(std::forward<F>(f));
      ops_ = &inline_ops<stored>;
    } else {
      ::new (static_cast<void*>(buffer_)) stored*(new stored(std::forward<F>(f)));
      ops_ = &heap_ops<stored>;
    }
  }
  event_callback(event_callback&& other) noexcept { take(other); }
  event_callback& operator=(event_callback&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  event_callback(const event_callback&) = delete;
  event_callback& operator=(const event_callback&) = delete;
  ~event_callback() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->call(buffer_); }
  // Destroys the callable (and what it holds) now; the callback is empty afterwards.
  void reset() {
    if (ops_ == nullptr) return;
    ops_->destroy(buffer_);
    ops_ = nullptr;
  }

 private:
  struct operations {
    void (*call)(void* buffer);
    void (*move)(void* to, void* from);  // constructs in `to`, destroys `from`
    void (*destroy)(void* buffer);
  };

  template <class F>
  static constexpr bool fits = sizeof(F) <= inline_bytes &&
                               alignof(F) <= alignof(std::max_align_t) &&
                               std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static constexpr operations inline_ops{
      [](void* b) { (*std::launder(static_cast<F*>(b)))(); },
      [](void* to, void* from) {
        F* source = std::launder(static_cast<F*>(from));
        ::new (to) F(std::move(*source));
        source->~F();
      },
      [](void* b) { std::launder(static_cast<F*>(b))->~F(); }};

  template <class F>
  static constexpr operations heap_ops{
      [](void* b) { (**std::launder(static_cast<F**>(b)))(); },
      [](void* to, void* from) { ::new (to) F*(*std::launder(static_cast<F**>(from))); },
      [](void* b) { delete *std::launder(static_cast<F**>(b)); }};

  void take(event_callback& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->move(buffer_, other.buffer_);
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buffer_[inline_bytes];
  const operations* ops_ = nullptr;
};

}  // namespace mailsim::sim
