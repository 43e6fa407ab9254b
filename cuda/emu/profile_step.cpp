// One training step (forward, backward, AdamW) of a MEGABYTE config in bf16 on the emulated
// CUDA device, built with the emulator's profiler (scripts/emu_profile.sh --step): with
// MB_EMU_PROFILE=1, what each of the backend's kernels moves at that config. The GEMMs are
// cuBLAS's (the emulator's stand-in, not counted).
//   emu_profile_step SEQ PATCH GDIM GLAYERS GHEADS LDIM LLAYERS LHEADS BATCH
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "megabyte/model.h"
#include "nn/layers.h"
#include "nn/optim.h"

int main(int argc, char** argv) {
  using namespace mb;
  if (argc != 10) {
    std::fprintf(stderr, "usage: %s SEQ PATCH GDIM GLAYERS GHEADS LDIM LLAYERS LHEADS BATCH\n", argv[0]);
    return 2;
  }
  try {
    std::vector<int64_t> v;
    for (int i = 1; i < argc; ++i) v.push_back(std::stoll(argv[i]));
    Config c;
    c.seq = v[0], c.patch = v[1], c.gdim = v[2], c.glayers = v[3], c.gheads = v[4];
    c.ldim = v[5], c.llayers = v[6], c.lheads = v[7];
    c.validate();
    const int64_t batch = v[8];
    auto model = make_model(c);
    model->init_parameters(1);
    model->to(Device::CUDA);
    nn::set_compute_dtype(*model, DType::BF16);
    nn::AdamW opt(model->named_parameters());
    std::vector<int64_t> bytes(size_t(batch * c.seq));
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = int64_t((i * 37 + i / 7 * 11) % 256);
    const Tensor x = to(Tensor::from_vector(bytes, {batch, c.seq}), Device::CUDA);
    model->zero_grad();
    std::fprintf(stderr, "MB_EMU_PHASE forward\n");  // between the per-launch lines
    const Tensor loss = model->loss(x);
    std::fprintf(stderr, "MB_EMU_PHASE backward\n");
    backward(loss);
    std::fprintf(stderr, "MB_EMU_PHASE optimizer\n");
    opt.step(1e-3);
    std::printf("%s, batch %lld: one bf16 step on the emulated device, loss %.4f\n", c.summary().c_str(),
                static_cast<long long>(batch), loss.item());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emu_profile_step: %s\n", e.what());
    return 1;
  }
}
