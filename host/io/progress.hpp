// Progress on long work: a redrawn line on a terminal, plain lines otherwise.
#pragma once
#include <chrono>
#include <string>

namespace sca {

class Progress {
public:
    Progress(std::string label, long total, bool quiet);
    ~Progress();
    // Reports `done` of total; `detail` is appended (e.g. the loss).
    void update(long done, const std::string& detail = "", bool force_line = false);
    void finish(const std::string& detail = "");
    bool interactive() const { return tty_; }

private:
    std::string label_;
    long total_;
    bool quiet_, tty_, open_line_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace sca
