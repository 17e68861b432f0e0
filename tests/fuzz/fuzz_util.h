// Helpers shared by the fuzz harnesses: a reader that takes typed values off
// the front of the fuzz input (never failing: past the end it yields zeros),
// and a check that aborts with a message, so that a broken property is a
// crash libFuzzer keeps (and the standalone driver reports) like any other.
#ifndef PXEPROXY_TESTS_FUZZ_FUZZ_UTIL_H_
#define PXEPROXY_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/types/span.h"

namespace fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t U8() { return at_ < size_ ? data_[at_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() << 8 | U8()); }
  uint32_t U32() { return static_cast<uint32_t>(U16()) << 16 | U16(); }
  bool Bool() { return U8() & 1; }
  // One of `n` choices (n > 0).
  size_t Pick(size_t n) { return U8() % n; }
  size_t left() const { return size_ - at_; }
  bool empty() const { return at_ >= size_; }
  // At most `n` bytes.
  absl::Span<const uint8_t> Bytes(size_t n) {
    n = n < left() ? n : left();
    absl::Span<const uint8_t> s(data_ + at_, n);
    at_ += n;
    return s;
  }
  absl::Span<const uint8_t> Rest() { return Bytes(left()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace fuzz

// A property that must hold for every input; abort() makes it a crash.
#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // PXEPROXY_TESTS_FUZZ_FUZZ_UTIL_H_
