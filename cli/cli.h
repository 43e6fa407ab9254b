// The `megabyte` command line: one function per subcommand, each taking the arguments after
// the subcommand's name (argv[0] is "megabyte <command>") and returning the exit code.
#pragma once
// cxxopts uses <regex>, in which GCC 12 at -O2 reports -Wmaybe-uninitialized in std::function,
// and its integer parser, inlined, a -Wrestrict in std::string (libstdc++ false positives); the
// two warnings are silenced for that header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include <cxxopts.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "megabyte/config.h"
#include "megabyte/data.h"
#include "megabyte/model.h"

namespace mb::cli {

int train(int argc, char** argv);
int eval(int argc, char** argv);
int generate(int argc, char** argv);
int info(int argc, char** argv);
int plot(int argc, char** argv);
int export_model(int argc, char** argv);
int bench(int argc, char** argv);
int verify(int argc, char** argv);
int explain(int argc, char** argv);
int report(int argc, char** argv);
int patches(int argc, char** argv);

// Parses argv with `opts`, adding -h/--help; prints help and returns false when asked for it.
// Unknown or malformed flags throw an mb::Error naming them.
bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& out);

// --preset, --config FILE.json and one flag per config field (--seq, --patch, --gdim, ...).
void add_config_flags(cxxopts::Options& opts, const std::string& default_preset);
// The preset (or --config file) with every given field flag applied, validated.
Config config_from_flags(const cxxopts::ParseResult& r);
// Whether any config flag (other than --preset) was given.
bool config_flags_given(const cxxopts::ParseResult& r);

// A checkpoint path, a run folder (its newest checkpoint), or a zoo model's name (trained_models).
std::string resolve_checkpoint(const std::string& path);
// --ckpt resolved, or the zoo's model trained on the shipped corpus when it was not given.
std::string checkpoint_or_zoo(const cxxopts::ParseResult& r);
// The flag of one option of a table (MB_TRAIN_FIELDS, ...): a value with its default (which
// --help shows; ParseResult::count still counts only what was given). A bool is a switch: --x
// sets it, --x=0 clears it (a preset's, a checkpoint's or a config file's value), as for every
// boolean of the command line, the config's included.
void add_field_flag(cxxopts::Options& opts, const FieldInfo& f, const std::string& group = "");

// Every option of an options table (megabyte/fields.h: MB_OPTIONS) as a flag, under its group.
template <class Options> void add_table_flags(cxxopts::Options& opts) {
  for (const FieldInfo& f : Options::fields()) add_field_flag(opts, f, f.group);
}
// The options given as flags, set over `o` (its defaults, or a preset's recipe) through each
// option's own parser; `o.given` notes them.
template <class Options> void set_from_flags(Options& o, const cxxopts::ParseResult& r) {
  for (const FieldInfo& f : Options::fields())
    if (r.count(flag_of(f.key))) o.set(f.key, r[flag_of(f.key)].as<std::string>());
}
// A boolean option's flag (a switch of add_field_flag): on when given bare or as --x=1.
bool switch_on(const cxxopts::ParseResult& r, const std::string& flag);
// A table's defaults with the given flags applied, validated.
template <class Options> Options options_from_flags(const cxxopts::ParseResult& r) {
  Options o;
  set_from_flags(o, r);
  o.validate();
  return o;
}

// The flags several commands take, each declared once: --ckpt, --data and --weights here;
// --format, --scan, --threads, --device, --precision and --recompute are training options, so
// their help and default come from MB_TRAIN_FIELDS.
enum class Flag { ckpt, data, format, scan, threads, device, precision, recompute, weights };
void add_flags(cxxopts::Options& opts, std::initializer_list<Flag> flags);
// An enumerated flag's value: --scan patch -> Scan::patch (an error lists the allowed words).
template <class E> E enum_flag(const cxxopts::ParseResult& r, const std::string& name) {
  return from_name<E>("--" + name, r[name].as<std::string>());
}
// --threads: applied when above 0 (0: OMP_NUM_THREADS or every core).
void apply_threads_flag(const cxxopts::ParseResult& r);

// The model of a checkpoint file, ready to score and sample (evaluation mode), its Linear
// weights rounded to bf16 when --weights bf16 was given (nn::round_weights_to_bf16).
std::unique_ptr<ByteModel> inference_model(const std::string& checkpoint, const cxxopts::ParseResult& r);

// The start of the commands that score data with a checkpoint (eval, explain): --ckpt and
// --data required, --threads applied, the model ready, the data loaded (--format) and put in
// the model's image order when --scan was given.
struct Scoring {
  std::string ckpt;  // the checkpoint file (a run folder's newest)
  std::unique_ptr<ByteModel> model;
  Corpus corpus;
};
Scoring open_scoring(const cxxopts::ParseResult& r);

}  // namespace mb::cli
