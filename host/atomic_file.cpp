#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "errors.hpp"

namespace sca {

namespace {

std::string parent_of(const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view contents) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const std::string untouched = " (the previous file, if any, is untouched)";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
    if (::fsync(fd) != 0) {
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
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // best effort: the rename itself already happened
    ::fsync(fd);
    ::close(fd);
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
