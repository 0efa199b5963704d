// Writes that never leave a half-written file: data goes to a temporary file
// in the same directory (.<name>.sca-tmp.<16 random hex digits>, created with
// O_CREAT|O_EXCL|O_NOFOLLOW, so a file or symlink planted at a guessed name is
// never followed nor reused), is flushed to disk, then renamed
// over the target, and the directory entry is flushed too. A failed write
// (full disk, file-size limit, no permission) removes the temporary file and
// leaves the previous file as it was.
//
// Inside a DeferredSync scope the flushes wait for the next commit point:
// the rename alone already leaves the old or the new file to any process
// (a kill cannot mix them); only a crash of the machine needs the flush, and
// one syncfs at a commit point costs about what two fsyncs do (measured in
// docs/performance.md), where a run writes up to 20 files.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace sca {

void write_file_atomic(const std::string& path, std::string_view contents);
std::string read_file(const std::string& path);
// fsync a directory, so renames inside it survive a crash of the machine.
void sync_directory(const std::string& dir);
// While one lives on this thread, write_file_atomic and sync_directory only
// note the directory; commit_writes() (and the outermost scope's end) flush
// every file system written since, with one syncfs each. Scopes nest: only
// the outermost one commits, so a sweep's run is one commit point (its done
// marker) while `sca train` alone commits before each resume state.
class DeferredSync {
public:
    DeferredSync();
    ~DeferredSync();  // the outermost one commits (best effort: a destructor cannot throw)
    DeferredSync(const DeferredSync&) = delete;
    DeferredSync& operator=(const DeferredSync&) = delete;
};
// Makes everything written on this thread so far durable, when called in no
// scope or in the outermost one (a nested scope leaves it to its outer one).
// Throws IoError when the file system reports a failed write-back.
void commit_writes();
// How many directories this thread wrote in since its last commit (what the next commit flushes).
size_t uncommitted_directories();

// Whether a file name is one of write_file_atomic's temporaries (or the
// <name>.tmp.<pid> ones of earlier versions).
bool is_temporary_name(const std::string& name);
// Removes the temporaries that killed writers left in `dir` and, to `depth`
// levels, its subdirectories (never following symlinks). Every command that
// writes into a run or sweep directory calls it first.
void remove_stale_temporaries(const std::string& dir, int depth = 2);

}  // namespace sca
