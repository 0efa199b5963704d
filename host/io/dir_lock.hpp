// An exclusive flock() on a lock file inside a directory, held for the
// lifetime of the object: one trainer per run directory, one sweep per sweep
// folder. The kernel releases it when the holder dies, so a killed process
// never leaves a stale lock.
#pragma once
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "host/io/errors.hpp"

namespace sca {

class DirectoryLock {
public:
    // `what` names the directory in messages ("run directory"), `busy` is the
    // whole message when another process holds the lock. A `shared` lock
    // admits other shared holders and refuses (and is refused by) an
    // exclusive one: the shards of one sweep run side by side, a whole sweep alone.
    DirectoryLock(const std::filesystem::path& dir, const std::string& lock_name, const std::string& what, const std::string& busy,
                  bool shared = false) {
        const std::string path = (dir / lock_name).string();
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd_ < 0) throw IoError("cannot write in the " + what + " '" + dir.string() + "': " + std::strerror(errno));
        if (::flock(fd_, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
            ::close(fd_);
            throw IoError(busy);
        }
    }
    ~DirectoryLock() { ::close(fd_); }
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace sca
