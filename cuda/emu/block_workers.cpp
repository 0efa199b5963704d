#include "cuda/emu/block_workers.hpp"

#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

namespace sca::emu {

namespace {

class BlockWorkers {
public:
    ~BlockWorkers() {
        stopping_ = true;
        for (auto& w : workers_) w->go.release();
        for (auto& w : workers_) w->thread.join();
    }

    void start(int n, const std::function<void(int)>& work) {
        while (int(workers_.size()) < n) add_worker(int(workers_.size()));
        work_ = &work;  // published to worker tid by its semaphore's release
        for (int tid = 0; tid < n; ++tid) workers_[size_t(tid)]->go.release();
    }

private:
    struct Worker {
        std::binary_semaphore go{0};
        std::thread thread;
    };

    void add_worker(int tid) {
        auto w = std::make_unique<Worker>();
        Worker& self = *w;
        w->thread = std::thread([this, &self, tid] {
            for (;;) {
                self.go.acquire();
                if (stopping_) return;
                (*work_)(tid);
            }
        });
        workers_.push_back(std::move(w));
    }

    std::vector<std::unique_ptr<Worker>> workers_;
    const std::function<void(int)>* work_ = nullptr;
    bool stopping_ = false;  // written before the releases that wake the workers to read it
};

}  // namespace

void start_block_threads(int n, const std::function<void(int)>& work) {
    static BlockWorkers workers;
    workers.start(n, work);
}

}  // namespace sca::emu
