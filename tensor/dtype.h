// Element types and devices: the two tags every tensor carries.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "tensor/names.h"

namespace mb {

// bfloat16 storage: the top 16 bits of an IEEE float32. Arithmetic happens in float;
// conversion rounds to nearest even (NaN stays NaN).
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  explicit bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it quiet, never round to inf
      bits = uint16_t((u >> 16) | 0x40);
      return;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    bits = uint16_t(u >> 16);
  }
  explicit operator float() const {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

enum class DType : uint8_t { F32, F64, I32, I64, U8, BF16 };
enum class Device : uint8_t { CPU, CUDA };

template <> struct EnumNames<DType> {
  static constexpr std::pair<DType, const char*> table[] = {
      {DType::F32, "f32"}, {DType::F64, "f64"}, {DType::I32, "i32"}, {DType::I64, "i64"}, {DType::U8, "u8"}, {DType::BF16, "bf16"}};
};
template <> struct EnumNames<Device> {
  static constexpr std::pair<Device, const char*> table[] = {{Device::CPU, "cpu"}, {Device::CUDA, "cuda"}};
};

size_t dtype_size(DType d);
inline const char* dtype_name(DType d) { return name_of(d); }    // "f32", "f64", ...
inline const char* device_name(Device d) { return name_of(d); }  // "cpu", "cuda"
inline bool is_floating(DType d) { return d == DType::F32 || d == DType::F64 || d == DType::BF16; }
inline bool is_integral(DType d) { return d == DType::I32 || d == DType::I64 || d == DType::U8; }

// C++ type <-> DType
template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::F64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::I32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::I64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct dtype_of<bf16> { static constexpr DType value = DType::BF16; };

// Calls f(T{}) with T the C++ type of `d`. Used by kernels that work on every dtype.
template <class F> decltype(auto) visit_dtype(DType d, F&& f) {
  switch (d) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    case DType::I32: return f(int32_t{});
    case DType::I64: return f(int64_t{});
    case DType::U8: return f(uint8_t{});
    case DType::BF16: return f(bf16{});
  }
  return f(float{});
}

// Elementwise casts between any two element types (bf16 goes through float).
template <class To, class From> inline To cast_to(From v) {
  if constexpr (std::is_same_v<To, From>) return v;
  else if constexpr (std::is_same_v<From, bf16>) return cast_to<To>(float(v));
  else if constexpr (std::is_same_v<To, bf16>) return bf16(float(v));
  else return static_cast<To>(v);
}

}  // namespace mb
