// Writes that never leave a half-written file: data goes to a temporary file
// in the same directory (<path>.tmp.<pid>), is flushed to disk, then renamed
// over the target, and the directory entry is flushed too. A failed write
// (full disk, file-size limit, no permission) removes the temporary file and
// leaves the previous file as it was.
#pragma once
#include <string>
#include <string_view>

namespace sca {

void write_file_atomic(const std::string& path, std::string_view contents);
std::string read_file(const std::string& path);
// fsync a directory, so renames inside it survive a crash of the machine.
void sync_directory(const std::string& dir);

}  // namespace sca
