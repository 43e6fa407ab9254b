// megabyte info (--preset NAME | --ckpt FILE | --list) [--batch B]
#include <cstdio>

#include "megabyte/checkpoint.h"
#include "cli/cli.h"
#include "megabyte/zoo.h"

namespace mb::cli {

namespace {

void report(const Config& c, int64_t batch) {
  std::printf("%s\n", c.summary().c_str());
  const ModelSize s = model_size(c);
  std::printf("parameters %s\n", count_text(s.total(), "").c_str());
  if (c.is_spacebyte()) {
    std::printf("  embeddings (byte 257 x D_L, position T x D_L) %s\n", count_text(s.local_embed, "").c_str());
    std::printf("  local blocks (before and after), ln_f      %s\n", count_text(s.local_stack, "").c_str());
    std::printf("  global blocks                              %s\n", count_text(s.global_stack, "").c_str());
    std::printf("  head                                       %s\n", s.head ? count_text(s.head, "").c_str() : "tied to the byte embedding");
  } else if (c.is_baseline()) {
    std::printf("  embeddings (byte 257 x W, position T x W)  %s\n", count_text(s.global_embed, "").c_str());
    std::printf("  transformer                                %s\n", count_text(s.global_stack, "").c_str());
    std::printf("  head                                       %s\n", count_text(s.head, "").c_str());
  } else {
    std::printf("  global embeddings (byte, position, pad)    %s\n", count_text(s.global_embed, "").c_str());
    std::printf("  global transformer                         %s\n", count_text(s.global_stack, "").c_str());
    if (!c.mids.empty()) std::printf("  mid levels (%zu)                             %s\n", c.mids.size(), count_text(s.mid, "").c_str());
    std::printf("  projection into the local model            %s\n", count_text(s.global_to_local, "").c_str());
    std::printf("  local embeddings (byte + pad, position)    %s\n", count_text(s.local_embed, "").c_str());
    std::printf("  local transformer                          %s\n", count_text(s.local_stack, "").c_str());
    std::printf("  head                                       %s\n", s.head ? count_text(s.head, "").c_str() : "tied to the local byte embedding");
  }
  const double f = forward_flops_per_byte(c);
  std::printf("FLOPs per byte: forward %s, training step about %s (3x)\n", count_text(f, "FLOP").c_str(), count_text(3 * f, "FLOP").c_str());
  std::printf("FLOPs per training step at batch %lld: %s\n", static_cast<long long>(batch),
              count_text(3 * f * double(batch) * double(c.seq), "FLOP").c_str());
  const TrainingMemory m = training_memory(c, batch);
  std::printf("memory estimate (f32): weights %s; + gradients + AdamW moments %s; activations of a training step at batch %lld about %s\n",
              bytes_text(4 * s.total()).c_str(), bytes_text(m.state).c_str(), static_cast<long long>(batch),
              bytes_text(m.activations).c_str());
}

}  // namespace

int info(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Describe a preset or a checkpoint: config, parameters per part, FLOPs per byte, memory.");
  add_config_flags(opts, "tiny");
  add_flags(opts, {Flag::ckpt});
  opts.add_options()("list", "list the presets and the zoo's trained models")(
      "batch", "batch size for the per-step figures (default: the preset's, or 8)", cxxopts::value<int64_t>());
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  if (r.count("list")) {
    for (const Preset& p : presets())
      std::printf("%-24s %10s params  %s\n", p.name.c_str(), count_text(model_size(p.config).total(), "").c_str(),
                  p.description.c_str());
    std::printf("\ntrained models (--ckpt NAME in generate, eval, explain, ...; cards in megabyte/zoo/README.md):\n");
    for (const TrainedModel& m : trained_models()) std::printf("%-30s %s\n", m.name.c_str(), m.description.c_str());
    return 0;
  }
  MB_CHECK(!(r.count("ckpt") && (r.count("preset") || config_flags_given(r))),
           "give --ckpt FILE, or a --preset with any config fields, not both");
  MB_CHECK(!r.count("batch") || r["batch"].as<int64_t>() >= 1, "--batch must be >= 1");
  if (!r.count("ckpt")) {
    const Preset& p = find_preset(r["preset"].as<std::string>());
    std::printf("preset %s%s: %s\nsource: %s\n", p.name.c_str(), config_flags_given(r) ? " with changes" : "",
                p.description.c_str(), p.source.c_str());
    if (!p.note.empty()) std::printf("note: %s\n", p.note.c_str());
    if (!p.recipe.empty()) {
      std::string recipe;
      for (const auto& [key, value] : p.recipe) recipe += cat(recipe.empty() ? "" : " ", "--", flag_of(key), " ", value);
      std::printf("training recipe (megabyte train --preset %s uses it): %s\n", p.name.c_str(), recipe.c_str());
    }
    // the paper's P = 12 configs do not validate: report them as listed, analytically
    const Config c = config_flags_given(r) ? config_from_flags(r) : p.config;
    report(c, r.count("batch") ? r["batch"].as<int64_t>() : p.batch);
    return 0;
  }
  const std::string path = resolve_checkpoint(r["ckpt"].as<std::string>());
  const Checkpoint ck = load_checkpoint(path);
  int64_t actual = 0;
  for (const auto& [name, t] : ck.model) actual += t.numel();
  std::printf("checkpoint %s: %lld parameters stored", path.c_str(), static_cast<long long>(actual));
  if (ck.train.count("step")) std::printf(", trained %s steps", ck.train.at("step").c_str());
  std::printf("%s\n", ck.optim.empty() ? " (model only)" : " (with optimizer state)");
  report(ck.config, r.count("batch") ? r["batch"].as<int64_t>() : 8);
  return 0;
}

}  // namespace mb::cli
