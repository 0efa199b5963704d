// Writes that never leave a half-written file: data goes to a temporary file
// in the same directory, is flushed to disk, then renamed over the target.
#pragma once
#include <string>
#include <string_view>

namespace sca {

void write_file_atomic(const std::string& path, std::string_view contents);
std::string read_file(const std::string& path);

}  // namespace sca
