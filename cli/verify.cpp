// megabyte verify FILE.safetensors [--dtype f64|f32]
#include <cstdio>

#include "cli/cli.h"
#include "megabyte/verify.h"

namespace mb::cli {

int verify(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Rebuild the model a reference fixture describes (its __metadata__), load its "
                                 "weights and input, and compare logits, loss, every gradient and the AdamW "
                                 "trajectory with the fixture's float64 values. Exit 0 only within the "
                                 "reference tolerances (tests/fixtures/README.md).");
  opts.add_options()("file", "fixture (.safetensors)", cxxopts::value<std::string>())(
      "dtype", "compute in f64 or f32", cxxopts::value<std::string>()->default_value("f64"))(
      "brief", "print only the worst gradient, not every one");
  add_flags(opts, {Flag::device});
  opts.parse_positional({"file"});
  opts.positional_help("FILE.safetensors");
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  MB_CHECK(r.count("file"), "a fixture file is required (megabyte verify FILE.safetensors)");
  const std::string file = r["file"].as<std::string>(), dt = r["dtype"].as<std::string>();
  MB_CHECK(dt == "f64" || dt == "f32", "--dtype must be f64 or f32, got '", dt, "'");
  const std::string dev = r["device"].as<std::string>();
  const VerifyReport rep = verify_fixture(file, from_name<DType>("--dtype", dt), enum_flag<Device>(r, "device"));
  std::printf("%s\n%s | %s on %s\n", file.c_str(), rep.summary.c_str(), dt.c_str(), dev.c_str());
  // gradients: every one, or with --brief only the worst and any failure
  const VerifyCheck* worst_grad = nullptr;
  int grads = 0;
  for (const VerifyCheck& c : rep.checks)
    if (c.name.rfind("grad.", 0) == 0) {
      ++grads;
      if (!worst_grad || c.error / c.tolerance > worst_grad->error / worst_grad->tolerance) worst_grad = &c;
    }
  int failed = 0;
  for (const VerifyCheck& c : rep.checks) {
    const bool grad = c.name.rfind("grad.", 0) == 0;
    failed += !c.ok();
    const bool brief = r.count("brief") > 0;
    if (grad && brief && c.ok() && &c != worst_grad) continue;
    const std::string label = grad && brief && &c == worst_grad ? "worst of " + std::to_string(grads) + " gradients: " + c.name : c.name;
    std::printf("  %-58s %-7s err %.3e  tol %.0e  %s\n", label.c_str(), c.kind.c_str(), c.error, c.tolerance,
                c.ok() ? "ok" : "FAIL");
  }
  std::printf(rep.ok() ? "PASS\n" : "FAIL: %d of %zu checks out of tolerance\n", failed, rep.checks.size());
  return rep.ok() ? 0 : 1;
}

}  // namespace mb::cli
