// Kernel launches in the emulated build: SCA_LAUNCH(kernel, grid, block,
// smem)(args...) (cuda/device_seam.hpp) checks the configuration as an
// H100-class device would, then runs the grid's blocks one after another,
// each as one std::thread per CUDA thread. Errors go where the CUDA runtime
// puts them: cudaGetLastError / cudaDeviceSynchronize.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sca::emu {

// Checks and runs one launch; `body` is the kernel call with its arguments.
void run_grid(const void* kernel, const char* name, dim3 grid, dim3 block, size_t dynamic_smem,
              const std::function<void()>& body);

template <class... P>
struct Launch {
    void (*kernel)(P...);
    const char* name;
    dim3 grid, block;
    size_t smem;
    template <class... A>
    void operator()(A&&... args) const {
        // Arguments are converted to the parameter types once, like CUDA's
        // copy into the kernel's parameter space; each thread reads them.
        const std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
        run_grid(reinterpret_cast<const void*>(kernel), name, grid, block, smem, [&] { std::apply(kernel, params); });
    }
};

template <class... P>
Launch<P...> launcher(void (*kernel)(P...), const char* name, dim3 grid, dim3 block, size_t smem) {
    return {kernel, name, grid, block, smem};
}

}  // namespace sca::emu
