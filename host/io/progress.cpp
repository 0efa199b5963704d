#include "host/io/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace sca {

Progress::Progress(std::string label, long total, bool quiet)
    : label_(std::move(label)), total_(total), quiet_(quiet), tty_(::isatty(2) == 1) {
    start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
    if (open_line_) std::fputc('\n', stderr);
}

void Progress::update(long done, const std::string& detail, bool force_line) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0;
    const std::string line = fmt::format("{} {}/{} ({:.0f}%) {:.0f}/s eta {:.1f}s {}", label_, done, total_,
                                         total_ ? 100.0 * done / total_ : 100.0, rate, eta, detail);
    if (tty_) {
        if (!force_line && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        open_line_ = true;
    } else if (force_line) {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    last_draw_ = now;
}

void Progress::finish(const std::string& detail) {
    if (quiet_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (open_line_) std::fputc('\n', stderr);
    open_line_ = false;
    std::fprintf(stderr, "%s done: %ld in %.3fs %s\n", label_.c_str(), total_, elapsed, detail.c_str());
}

}  // namespace sca
