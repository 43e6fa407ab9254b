#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "megabyte/cli.h"
#include "megabyte/trainer.h"
#include "megabyte/zoo.h"
#include "nn/safetensors.h"
#include "tensor/error.h"

namespace mb::cli {

namespace {
// config field flags: the flag is the metadata key with '_' spelled '-'
const char* const kFields[] = {"model", "seq", "patch", "gdim", "glayers", "gheads", "ldim", "llayers",
                               "lheads", "act", "head", "local_pos", "conv", "cross_patch", "mid", "dropout", "init_std"};
std::string flag_of(const std::string& key) {
  std::string f = key;
  for (char& ch : f)
    if (ch == '_') ch = '-';
  return f;
}
}  // namespace

bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& out) {
  opts.add_options()("h,help", "show this help");
  try {
    out = opts.parse(argc, argv);
    if (!out.unmatched().empty()) throw Error("unexpected argument '" + out.unmatched()[0] + "' (see --help)");
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
  opts.add_options("model")("preset", "named configuration (megabyte info --list shows them)",
                            cxxopts::value<std::string>()->default_value(default_preset))(
      "config", "JSON file of config fields, applied over the preset", cxxopts::value<std::string>())(
      "model", "megabyte or baseline", cxxopts::value<std::string>())(
      "seq", "T: bytes per sequence", cxxopts::value<std::string>())(
      "patch", "P: bytes per patch", cxxopts::value<std::string>())(
      "gdim", "global width G = P*D_G (baseline: width)", cxxopts::value<std::string>())(
      "glayers", "global layers", cxxopts::value<std::string>())("gheads", "global heads", cxxopts::value<std::string>())(
      "ldim", "local width D_L", cxxopts::value<std::string>())("llayers", "local layers", cxxopts::value<std::string>())(
      "lheads", "local heads", cxxopts::value<std::string>())("act", "relu or gelu", cxxopts::value<std::string>())(
      "head", "tied or untied", cxxopts::value<std::string>())(
      "local-pos", "local position embeddings: 1 or 0", cxxopts::value<std::string>())(
      "conv", "the convolutional patch encoder (kernels 3, 5, 7): 1 or 0", cxxopts::value<std::string>())(
      "cross-patch", "r: local attention also attends to the previous patch's last r bytes (rotary positions)",
      cxxopts::value<std::string>())(
      "mid", "levels between global and local, outermost first: PATCH:WIDTH:LAYERS:HEADS[,...] (e.g. 8:256:2:4)",
      cxxopts::value<std::string>())(
      "dropout", "dropout probability", cxxopts::value<std::string>())(
      "init-std", "std of the initial weights", cxxopts::value<std::string>());
}

bool config_flags_given(const cxxopts::ParseResult& r) {
  if (r.count("config")) return true;
  for (const char* k : kFields)
    if (r.count(flag_of(k))) return true;
  return false;
}

Config config_from_flags(const cxxopts::ParseResult& r) {
  std::map<std::string, std::string> meta = find_preset(r["preset"].as<std::string>()).config.to_metadata();
  if (r.count("config")) {
    const std::string path = r["config"].as<std::string>();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(nn::read_file(path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ": not valid JSON (" + e.what() + ")");
    }
    MB_CHECK(j.is_object(), path, ": expected a JSON object of config fields");
    for (auto it = j.begin(); it != j.end(); ++it) {
      MB_CHECK(meta.count(it.key()), path, ": unknown config field '", it.key(), "'");
      const auto& v = it.value();
      meta[it.key()] = v.is_string() ? v.get<std::string>() : v.is_boolean() ? (v.get<bool>() ? "1" : "0") : v.dump();
    }
  }
  for (const char* k : kFields)
    if (r.count(flag_of(k))) meta[k] = r[flag_of(k)].as<std::string>();
  if (meta["model"] == "baseline") meta["head"] = "untied";
  return Config::from_metadata(meta);
}

Device device_from_flag(const std::string& value) {
  MB_CHECK(value == "cpu" || value == "cuda", "--device must be cpu or cuda, got '", value, "'");
  return value == "cuda" ? Device::CUDA : Device::CPU;
}

std::string resolve_checkpoint(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;
  const std::string ck = latest_checkpoint(path);
  MB_CHECK(!ck.empty(), path, ": the folder has no checkpoint (ckpt_*.safetensors)");
  return ck;
}

}  // namespace mb::cli
