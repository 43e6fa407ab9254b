// Tensor cores from one warp: the PTX ISA's mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32,
// D (16 x 8, f32) += A (16 x 16, bf16) · B (16 x 8, bf16), sm_80 and later. The emulator
// (cuda/emu) runs the same instruction on the CPU with the same fragment layout, so kernels
// built on it are tested here; the gpu test "mma: fragment layout" checks the layout against
// the hardware's.
//
// Fragments of lane 4g + t (g = lane / 4, t = lane % 4); a 32-bit register holds two bf16,
// the lower column (of A) or row (of B) in its low half:
//   a[0] = A[g][2t, 2t+1]   a[1] = A[g+8][2t, 2t+1]   a[2] = A[g][2t+8, 2t+9]   a[3] = A[g+8][2t+8, 2t+9]
//   b[0] = B[2t, 2t+1][g]   b[1] = B[2t+8, 2t+9][g]
//   d[0], d[1] = D[g][2t, 2t+1]                      d[2], d[3] = D[g+8][2t, 2t+1]
// So two accumulators of adjacent 8-column tiles, packed to bf16 pairs, are exactly the A
// fragment of their 16 x 16 product with the next operand (FlashAttention-2's P·V without a
// trip through shared memory): a = {pack(d0[0], d0[1]), pack(d0[2], d0[3]), pack(d1[0], d1[1]),
// pack(d1[2], d1[3])}. And a row-major (rows, 16·k) tile in shared memory gives A fragments,
// and a row-major (8·n, 16·k) tile gives the B fragments of its transpose, as aligned 32-bit
// reads.
// Standalone (the kernel lab includes it too): CUDA's bf16 header and nothing of the project.
#pragma once
#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>

namespace mb::cuda {

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  return uint32_t(__bfloat16_as_ushort(__float2bfloat16(lo))) |
         (uint32_t(__bfloat16_as_ushort(__float2bfloat16(hi))) << 16);
}

// two consecutive bf16 at p (4-byte aligned) as one register
__device__ __forceinline__ uint32_t ld_pair(const __nv_bfloat16* p) { return *reinterpret_cast<const uint32_t*>(p); }

// d += a · b
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(EMU_CUDA)
  emu::mma_bf16_16816(d, a, b);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();  // not built for a GPU with bf16 tensor cores (callers check the device first)
#endif
}

// A fragment of rows [0, 16), columns [k0, k0 + 16) of a row-major bf16 tile (pitch ld)
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const __nv_bfloat16* s, int ld, int k0, int lane) {
  const __nv_bfloat16* p = s + (lane / 4) * ld + k0 + 2 * (lane % 4);
  a[0] = ld_pair(p);
  a[1] = ld_pair(p + 8 * ld);
  a[2] = ld_pair(p + 8);
  a[3] = ld_pair(p + 8 * ld + 8);
}

// B fragment for B = Xᵀ, X rows [0, 8), columns [k0, k0 + 16) of a row-major bf16 tile:
// B[k][n] = X[n][k0 + k]
__device__ __forceinline__ void load_bt(uint32_t (&b)[2], const __nv_bfloat16* s, int ld, int k0, int lane) {
  const __nv_bfloat16* p = s + (lane / 4) * ld + k0 + 2 * (lane % 4);
  b[0] = ld_pair(p);
  b[1] = ld_pair(p + 8);
}

// ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16: two 8 x 8 bf16 matrices, transposed, from
// shared memory; lanes 0-7 give the addresses of matrix 0's rows, lanes 8-15 of matrix 1's (16
// bytes each, on 16 bytes), and lane 4g + t receives rows 2t, 2t + 1 of column g of each. So the
// B fragment of B = Z (16 x 8: rows k0 .. k0 + 15, columns n0 .. n0 + 7 of a row-major tile) is
// read straight from Z's rows: no transposed copy in shared memory.
__device__ __forceinline__ void load_b(uint32_t (&b)[2], const __nv_bfloat16* s, int ld, int k0, int n0, int lane) {
  const __nv_bfloat16* p = s + (k0 + lane % 16) * ld + n0;
#if defined(EMU_CUDA)
  emu::ldmatrix_x2_trans(b, p);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const uint32_t a = uint32_t(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(b[0]), "=r"(b[1]) : "r"(a));
#else
  (void)p;
  __trap();
#endif
}

// cp.async (sm_80): 16 bytes from global to shared memory without a trip through registers,
// zeros when !in (src-size 0); the copies of a thread form a group at cp_async_commit, and
// cp_async_wait<N> waits until at most N of its groups are still in flight. (The emulator
// lands a copy at the wait that covers it, with poison in its destination until then.)
__device__ __forceinline__ void cp_async16(void* smem, const void* global, bool in) {
#if defined(EMU_CUDA)
  emu::cp_async16(smem, global, in);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const uint32_t a = uint32_t(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(a), "l"(global), "r"(in ? 16 : 0));
#else
  (void)smem, (void)global, (void)in;
  __trap();
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if defined(EMU_CUDA)
  emu::cp_async_commit();
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N> __device__ __forceinline__ void cp_async_wait() {
#if defined(EMU_CUDA)
  emu::cp_async_wait(N);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// The A fragment of the 16 x 16 bf16 product operand made of accumulators d0 (columns 0-7)
// and d1 (columns 8-15)
__device__ __forceinline__ void acc_to_a(uint32_t (&a)[4], const float (&d0)[4], const float (&d1)[4]) {
  a[0] = pack_bf16(d0[0], d0[1]);
  a[1] = pack_bf16(d0[2], d0[3]);
  a[2] = pack_bf16(d1[0], d1[1]);
  a[3] = pack_bf16(d1[2], d1[3]);
}

}  // namespace mb::cuda
