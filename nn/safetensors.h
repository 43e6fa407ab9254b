// safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length N,
// N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}, then the tensor bytes (offsets relative to their start).
//
// Reading validates everything before touching a byte of data: a bad file throws an mb::Error
// that names the file and what is wrong. Files we write carry a checksum of header and data in
// __metadata__["mb.checksum"] (other readers ignore it), so any flipped byte is caught; files
// from other writers are checked structurally. Writing goes through write_file_atomic, so a
// crash never leaves a half-written file under the real name.
#pragma once
#include <map>
#include <string>

#include "nn/module.h"

namespace mb::nn {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// dtypes: F64, F32, BF16, I64, I32, U8. With require_checksum (our own checkpoints), a file
// without a valid checksum is refused, so even a flip inside the checksum's key is caught.
SafeTensors load_safetensors(const std::string& path, bool require_checksum = false);
// Parses an in-memory file; `name` is used in error messages.
SafeTensors parse_safetensors(const std::string& bytes, const std::string& name,
                              bool require_checksum = false);
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Writes `bytes` to a temporary file of this process beside path, syncs it to disk and renames
// it to path, then syncs the folder: path holds the old bytes or the new ones, whole, even
// after a crash or a power loss. A path that exists and is not a regular file (/dev/stdout, a
// pipe) is written in place. Every write, the fsync and the close are checked: a failure
// throws, naming the path and the cause (ENOSPC, EIO). MB_FAULT=write:N makes the N-th file
// the process writes fail with ENOSPC (for tests of the error paths).
void write_file_atomic(const std::string& path, const std::string& bytes);
// The whole file, as bytes. A regular file must fit in memory; anything else (a pipe, a
// device) is read up to `limit` bytes. Throws naming the path.
std::string read_file(const std::string& path, uint64_t limit = uint64_t(1) << 30);

}  // namespace mb::nn
