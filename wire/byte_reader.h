// A bounds-checked cursor over untrusted bytes. Every read compares sizes
// (n <= size - pos), never pointers; the first failure is sticky, so a parser
// can read a run of fields and check ok() once (after QUICHE's reader).
#ifndef PXEPROXY_WIRE_BYTE_READER_H_
#define PXEPROXY_WIRE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace wire {

class ByteReader {
 public:
  explicit ByteReader(absl::Span<const uint8_t> data) : data_(data) {}

  bool ReadU8(uint8_t* out) {
    if (!Have(1)) return false;
    *out = data_[pos_++];
    return true;
  }
  bool ReadU16(uint16_t* out) {  // network byte order
    if (!Have(2)) return false;
    *out = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool ReadU32(uint32_t* out) {  // network byte order
    if (!Have(4)) return false;
    *out = static_cast<uint32_t>(data_[pos_]) << 24 |
           static_cast<uint32_t>(data_[pos_ + 1]) << 16 |
           static_cast<uint32_t>(data_[pos_ + 2]) << 8 |
           static_cast<uint32_t>(data_[pos_ + 3]);
    pos_ += 4;
    return true;
  }
  bool ReadBytes(size_t n, absl::Span<const uint8_t>* out) {
    if (!Have(n)) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (!Have(n)) return false;
    pos_ += n;
    return true;
  }
  absl::Span<const uint8_t> Rest() const { return data_.subspan(pos_); }

  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool ok() const { return ok_; }

 private:
  bool Have(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }

  absl::Span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace wire

#endif  // PXEPROXY_WIRE_BYTE_READER_H_
