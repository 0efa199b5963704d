#include "host/io/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "host/io/errors.hpp"

namespace sca {

namespace {

std::string parent_of(const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

constexpr const char* kTempMarker = ".sca-tmp.";

uint64_t random_word() {
    uint64_t r = 0;
    for (size_t got = 0; got < sizeof r;) {
        const ssize_t n = ::getrandom(reinterpret_cast<char*>(&r) + got, sizeof r - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw IoError(std::string("cannot draw a random temporary name: ") + std::strerror(errno));
        got += size_t(n);
    }
    return r;
}

// Creates a fresh temporary beside `path`; `tmp` receives its name.
int create_temporary(const std::string& path, std::string& tmp) {
    const std::filesystem::path p(path);
    for (int attempt = 0;; ++attempt) {
        tmp = (p.parent_path() / ("." + p.filename().string() + kTempMarker + fmt::format("{:016x}", random_word()))).string();
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST || attempt >= 16) return fd;
    }
}

// This thread's DeferredSync scopes: their depth and the directories written in since the last commit.
struct Deferred {
    int depth = 0;
    std::vector<std::string> dirs;
};
thread_local Deferred deferred;

void flush_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // best effort: the rename itself already happened
    ::fsync(fd);
    ::close(fd);
}

// One syncfs per file system among the noted directories.
void flush_deferred() {
    std::vector<dev_t> done;
    std::string failed;
    for (const auto& dir : deferred.dirs) {
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) continue;  // removed since (a discarded staging directory)
        struct stat st {};
        const bool seen = ::fstat(fd, &st) == 0 && std::find(done.begin(), done.end(), st.st_dev) != done.end();
        if (!seen) {
            done.push_back(st.st_dev);
            if (::syncfs(fd) != 0 && failed.empty()) failed = "cannot flush '" + dir + "' to disk: " + std::strerror(errno);
        }
        ::close(fd);
    }
    deferred.dirs.clear();
    if (!failed.empty()) throw IoError(failed);
}

void note_directory(const std::string& dir) {
    if (std::find(deferred.dirs.begin(), deferred.dirs.end(), dir) == deferred.dirs.end()) deferred.dirs.push_back(dir);
}

}  // namespace

DeferredSync::DeferredSync() { ++deferred.depth; }

DeferredSync::~DeferredSync() {
    if (deferred.depth == 1) {
        try {
            flush_deferred();
        } catch (const IoError&) {
            // The caller is unwinding or has committed what it vouches for; nothing more to report.
        }
    }
    --deferred.depth;
}

void commit_writes() {
    if (deferred.depth <= 1) flush_deferred();
}

size_t uncommitted_directories() { return deferred.dirs.size(); }

bool is_temporary_name(const std::string& name) {
    if (name.size() > 1 && name[0] == '.' && name.find(kTempMarker) != std::string::npos) return true;
    // Earlier versions: <name>.tmp.<pid>, for the kinds of file sca writes.
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size() || name.find_first_not_of("0123456789", at + 5) != std::string::npos)
        return false;
    const std::string base = name.substr(0, at);
    for (const char* ext : {".json", ".safetensors", ".yaml", ".csv", ".npy", ".html", ".sbatch", ".md"})
        if (base.size() > std::strlen(ext) && base.compare(base.size() - std::strlen(ext), std::string::npos, ext) == 0) return true;
    return false;
}

void remove_stale_temporaries(const std::string& dir, int depth) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        std::error_code kind_ec;
        const auto status = e.symlink_status(kind_ec);
        if (is_temporary_name(name) && !std::filesystem::is_directory(status)) {
            std::filesystem::remove(e.path(), kind_ec);  // a symlink is removed, not followed
        } else if (depth > 0 && std::filesystem::is_directory(status)) {
            remove_stale_temporaries(e.path().string(), depth - 1);
        }
    }
}

void write_file_atomic(const std::string& path, std::string_view contents) {
    std::string tmp;
    const std::string untouched = " (the previous file, if any, is untouched)";
    const int fd = create_temporary(path, tmp);
    if (fd < 0)
        throw IoError("cannot write '" + path + "': cannot create a file in '" + parent_of(path) +
                      "': " + std::strerror(errno) + untouched);
    size_t done = 0;
    while (done < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // n == 0 cannot make progress; treat it like a full device.
            const std::string why = n < 0 ? std::strerror(errno) : std::strerror(ENOSPC);
            ::close(fd);
            ::unlink(tmp.c_str());
            throw IoError("cannot write '" + path + "': " + why + " after " + std::to_string(done) + " of " +
                          std::to_string(contents.size()) + " bytes" + untouched);
        }
        done += size_t(n);
    }
    if (deferred.depth == 0 && ::fsync(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        throw IoError("cannot write '" + path + "': " + why + untouched);
    }
    if (::close(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw IoError("cannot write '" + path + "': " + why + untouched);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw IoError("cannot replace '" + path + "': " + why + untouched);
    }
    sync_directory(parent_of(path));
}

void sync_directory(const std::string& dir) {
    if (deferred.depth > 0) note_directory(dir);
    else flush_directory(dir);
}

std::string read_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw IoError("cannot read '" + path + "': it is a directory");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw IoError("cannot read '" + path + "': " + std::strerror(errno));
    std::stringstream ss;
    ss << f.rdbuf();
    if (f.bad()) throw IoError("cannot read '" + path + "': read error");
    return ss.str();
}

}  // namespace sca
