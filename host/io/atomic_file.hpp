// Writes that never leave a half-written file: data goes to a temporary file
// in the same directory (.<name>.sca-tmp.<16 random hex digits>, created with
// O_CREAT|O_EXCL|O_NOFOLLOW, so a file or symlink planted at a guessed name is
// never followed nor reused), is flushed to disk, then renamed
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
// Whether a file name is one of write_file_atomic's temporaries (or the
// <name>.tmp.<pid> ones of earlier versions).
bool is_temporary_name(const std::string& name);
// Removes the temporaries that killed writers left in `dir` and, to `depth`
// levels, its subdirectories (never following symlinks). Every command that
// writes into a run or sweep directory calls it first.
void remove_stale_temporaries(const std::string& dir, int depth = 2);

}  // namespace sca
