#include <filesystem>
#include <iostream>

#include "cli/cli.h"
#include "megabyte/checkpoint.h"
#include "megabyte/trainer.h"
#include "megabyte/zoo.h"
#include "nn/safetensors.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

namespace mb::cli {

bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& out) {
  opts.add_options()("h,help", "show this help");
  try {
    out = opts.parse(argc, argv);
    if (!out.unmatched().empty()) {
      const std::string& a = out.unmatched()[0];
      const bool boolean = a == "0" || a == "1" || a == "true" || a == "false";  // `--conv 1`: a switch's value apart
      throw Error("unexpected argument '" + a + "'" +
                  (boolean ? ": a switch is on when given, and takes a value only after '=' (--conv, --conv=0)" : " (see --help)"));
    }
  } catch (const cxxopts::exceptions::exception& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  if (out.count("help")) {
    std::cout << opts.help() << std::flush;
    return false;
  }
  return true;
}

void add_config_flags(cxxopts::Options& opts, const std::string& default_preset) {
  auto group = opts.add_options("model");
  group("preset", "named configuration (megabyte info --list shows them)",
        cxxopts::value<std::string>()->default_value(default_preset));
  group("config", "JSON file of config fields, applied over the preset", cxxopts::value<std::string>());
  // one flag per config field; values go through the field's own parser (Config::from_metadata)
  for (const FieldInfo& f : Config::fields())
    group(flag_of(f.key), f.help, f.is_bool ? cxxopts::value<std::string>()->implicit_value("1") : cxxopts::value<std::string>());
}

bool config_flags_given(const cxxopts::ParseResult& r) {
  if (r.count("config")) return true;
  for (const FieldInfo& f : Config::fields())
    if (r.count(flag_of(f.key))) return true;
  return false;
}

Config config_from_flags(const cxxopts::ParseResult& r) {
  std::map<std::string, std::string> meta = find_preset(r["preset"].as<std::string>()).config.to_metadata();
  if (r.count("config")) {
    const std::string path = r["config"].as<std::string>();
    apply_config_json(meta, nn::read_file(path), path);
  }
  for (const FieldInfo& f : Config::fields())
    if (r.count(flag_of(f.key))) meta[f.key] = r[flag_of(f.key)].as<std::string>();
  return Config::from_metadata(meta);
}

void add_field_flag(cxxopts::Options& opts, const FieldInfo& f, const std::string& group) {
  const std::string flag = flag_of(f.key);
  if (f.is_bool) opts.add_options(group)(flag, f.help, cxxopts::value<std::string>()->default_value(f.default_text)->implicit_value("1"));
  else if (f.default_text.empty()) opts.add_options(group)(flag, f.help, cxxopts::value<std::string>());
  else opts.add_options(group)(flag, f.help, cxxopts::value<std::string>()->default_value(f.default_text));
}

void add_flags(cxxopts::Options& opts, std::initializer_list<Flag> flags) {
  auto training_option = [](const char* key) -> const FieldInfo& {
    for (const FieldInfo& f : TrainOptions::fields())
      if (std::string(f.key) == key) return f;
    throw Error(cat("no training option '", key, "'"));
  };
  for (Flag f : flags) switch (f) {
      case Flag::ckpt: opts.add_options()("ckpt", "checkpoint file, a run folder (its newest checkpoint), or a zoo model's name (info --list)", cxxopts::value<std::string>()); break;
      case Flag::data: opts.add_options()("data", "file or folder of bytes", cxxopts::value<std::string>()); break;
      case Flag::format: add_field_flag(opts, training_option("format")); break;
      case Flag::scan: add_field_flag(opts, training_option("scan")); break;
      case Flag::threads: add_field_flag(opts, training_option("threads")); break;
      case Flag::device: add_field_flag(opts, training_option("device")); break;
      case Flag::precision: add_field_flag(opts, training_option("precision")); break;
      case Flag::recompute: add_field_flag(opts, training_option("recompute")); break;
      case Flag::weights:
        opts.add_options()("weights", "f32, or bf16: every Linear weight rounded to bf16 (decoding on the CPU reads half "
                                      "the bytes; the arithmetic stays f32)",
                           cxxopts::value<std::string>()->default_value("f32"));
        break;
    }
}

bool switch_on(const cxxopts::ParseResult& r, const std::string& flag) {
  bool on = false;
  parse_field("--" + flag, r[flag].as<std::string>(), on);
  return on;
}

void apply_threads_flag(const cxxopts::ParseResult& r) {
  TrainOptions o;  // the training table's parser and rule for --threads
  o.set("threads", r["threads"].as<std::string>());
  o.validate();
  if (o.threads > 0) set_num_threads(o.threads);
}

std::unique_ptr<ByteModel> inference_model(const std::string& checkpoint, const cxxopts::ParseResult& r) {
  const std::string weights = r["weights"].as<std::string>();  // a dtype name, of the two allowed
  MB_CHECK(weights == name_of(DType::F32) || weights == name_of(DType::BF16), "--weights must be f32 or bf16, got '",
           weights, "'");
  auto model = load_model(checkpoint);
  model->train(false);
  if (weights == name_of(DType::BF16)) nn::round_weights_to_bf16(*model);
  return model;
}

Scoring open_scoring(const cxxopts::ParseResult& r) {
  MB_CHECK(r.count("ckpt") && r.count("data"), "--ckpt and --data are required");
  apply_threads_flag(r);
  Scoring s;
  s.ckpt = resolve_checkpoint(r["ckpt"].as<std::string>());
  s.model = inference_model(s.ckpt, r);
  s.corpus = Corpus::load(r["data"].as<std::string>(), enum_flag<DataFormat>(r, "format"));
  if (r.count("scan")) apply_scan(s.corpus, enum_flag<Scan>(r, "scan"), s.model->config().patch);
  return s;
}

std::string checkpoint_or_zoo(const cxxopts::ParseResult& r) {
  return r.count("ckpt") ? resolve_checkpoint(r["ckpt"].as<std::string>()) : zoo_file(trained_models().front());
}

std::string resolve_checkpoint(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return model_file(path);
  const std::string ck = latest_checkpoint(path);
  MB_CHECK(!ck.empty(), path, ": the folder has no checkpoint (ckpt_*.safetensors)");
  return ck;
}

}  // namespace mb::cli
