// MEGABYTE's forward pass in one function, written like the paper's pseudocode (App. B) with
// the paper's names: P bytes per patch, K = T/P patches, B·K patches in the local model's
// batch. It runs on a Megabyte model's own weights and its nn layers (the global and local
// transformers), but does its own wiring with plain ops, so it can be read, and changed, in
// isolation: examples/two_level.cpp checks it equals Megabyte::forward (megabyte/model.cpp,
// which also serves deeper hierarchies, the conv encoder and cached decoding); learn's
// exercise e9 turns off the patch shift to watch causality break.
#pragma once
#include "autograd/ops.h"
#include "megabyte/model.h"

namespace mb::example {

// bytes (B, T) i64 -> logits (B, T, 256). `shift`: the global model's input is moved one patch
// to the right (the paper's "shift by one patch"); without it, patch k would see itself.
inline Tensor two_level_forward(const Megabyte& m, const Tensor& bytes, bool shift = true) {
  const Config& c = m.config();
  const int64_t B = bytes.size(0), T = bytes.size(1), P = c.patch, K = T / P;
  const int64_t D_G = c.dg(), P_DG = P * D_G;  // P·D_G is the global width G

  // h_global = embed_global(bytes) + pos_global, P byte vectors side by side per patch
  Tensor h_global = add(embedding(m.global_byte_embed, bytes), narrow(m.global_pos_embed, 0, 0, T));  // (B, T, D_G)
  h_global = reshape(h_global, {B, K, P_DG});                                                   // (B, K, P·D_G)

  // the shift: a learned pad patch first, the last patch dropped
  if (shift) {
    const Tensor pad = expand(reshape(m.global_pad, {1, 1, P_DG}), {B, 1, P_DG});
    h_global = concat({pad, narrow(h_global, 1, 0, K - 1)}, 1);  // (B, K, P·D_G)
  }

  // global_output = global_model(h_global), then each patch's vector cut back into P slices
  const Tensor global_output = m.global.forward(h_global, nullptr);  // (B, K, P·D_G)
  const Tensor slices = reshape(global_output, {B * K, P, D_G});     // (B·K, P, D_G)

  // the local input: the slice projected to D_L, plus the byte before in the same patch
  // (id 256, the local pad, at the patch's first byte), plus the position in the patch
  const Tensor patches = reshape(bytes, {B * K, P});
  const Tensor pad_id = Tensor::full({B * K, 1}, 256, DType::I64);
  const Tensor bytes_local = concat({pad_id, narrow(patches, 1, 0, P - 1)}, 1);  // (B·K, P)
  Tensor h_local = add(m.global_to_local.forward(slices), embedding(m.local_byte_embed, bytes_local));  // (B·K, P, D_L)
  if (c.local_pos) h_local = add(h_local, narrow(m.local_pos_embed, 0, 0, P));

  // local_output = local_model(h_local): every patch is its own sequence of P bytes
  const Tensor local_output = m.local.forward(h_local, nullptr);  // (B·K, P, D_L)

  // logits = local_output · E_localᵀ (the head tied to the local byte embedding's 256 rows)
  const Tensor E = narrow(m.local_byte_embed, 0, 0, 256);                       // (256, D_L)
  return reshape(matmul(local_output, transpose(E, 0, 1)), {B, T, int64_t(256)});  // (B, T, 256)
}

}  // namespace mb::example
