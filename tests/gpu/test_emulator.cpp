// The emulator's own checks (emulated build only): each class of device bug
// it promises to catch, planted in a small kernel (emulator_kernels.cu),
// makes the launch fail with a message saying where, or shows as NaN.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/emu/device_model.hpp"
#include "emulator_kernels.hpp"

using namespace sca::emu_test;

namespace {

std::string error_text(cudaError_t err) { return cudaGetErrorString(err); }

}  // namespace

TEST_CASE("a barrier some threads reach at another call site is reported", "[emulator]") {
    const cudaError_t err = divergent_barrier();
    REQUIRE(err == cudaErrorLaunchFailure);
    const std::string what = error_text(err);
    INFO(what);
    CHECK_THAT(what, Catch::Contains("different barriers") && Catch::Contains("emulator_kernels.cu:"));
    CHECK_THAT(what, Catch::Contains("threads 0 waiting at __syncthreads") &&
                         Catch::Contains("threads 1-255 waiting at __syncthreads"));
}

TEST_CASE("a barrier reached after some threads returned is reported", "[emulator]") {
    const cudaError_t err = barrier_after_early_return();
    REQUIRE(err == cudaErrorLaunchFailure);
    INFO(error_text(err));
    CHECK_THAT(error_text(err), Catch::Contains("after 224 of 256 threads had exited"));
}

TEST_CASE("a deadlock names where each thread waits", "[emulator]") {
    const cudaError_t err = shuffle_in_a_branch();
    REQUIRE(err == cudaErrorLaunchFailure);
    const std::string what = error_text(err);
    INFO(what);
    CHECK_THAT(what, Catch::Contains("deadlock") && Catch::Contains("threads 0-15 waiting at __shfl_xor_sync") &&
                         Catch::Contains("threads 16-255 waiting at __syncthreads"));
}

TEST_CASE("shuffles need the full mask and a full warp", "[emulator]") {
    cudaError_t err = partial_mask_shuffle();
    REQUIRE(err == cudaErrorLaunchFailure);
    CHECK_THAT(error_text(err), Catch::Contains("is not the full warp"));
    err = shuffle_in_partial_warp();
    REQUIRE(err == cudaErrorLaunchFailure);
    CHECK_THAT(error_text(err), Catch::Contains("has only 16 threads"));
}

TEST_CASE("BlockReduce sums in CUB's order, gives NaN outside thread 0 and checks the block size", "[emulator]") {
    // Values whose float sum depends on the order: CUB's is a pairwise tree
    // within each warp (shuffle-down offsets 1, 2, 4, 8, 16), then the warps in order.
    std::vector<float> in(256);
    for (int i = 0; i < 256; ++i) in[i] = i == 0 ? 1e8f : 1.0f;  // serially every + 1 is lost below 1e8's ulp
    float expected = 0.0f;
    for (int w = 0; w < 8; ++w) {
        float lanes[32];
        for (int l = 0; l < 32; ++l) lanes[l] = in[w * 32 + l];
        for (int off = 1; off < 32; off *= 2)
            for (int l = 0; l + off < 32; ++l) lanes[l] = lanes[l] + lanes[l + off];
        expected = w == 0 ? lanes[0] : expected + lanes[0];
    }
    float serial = 0.0f;
    for (float v : in) serial += v;
    REQUIRE(serial != expected);  // the order shows
    std::vector<float> out;
    REQUIRE(block_reduce(in, out) == cudaSuccess);
    CHECK(out[0] == expected);
    for (int t = 1; t < 256; ++t) CHECK(std::isnan(out[t]));

    const cudaError_t err = block_reduce_wrong_size();
    REQUIRE(err == cudaErrorLaunchFailure);
    CHECK_THAT(error_text(err), Catch::Contains("BlockReduce<T, 256>::Sum called by a block of 128 threads"));
}

TEST_CASE("dynamic shared memory starts as NaN and a write past its end is reported", "[emulator]") {
    std::vector<float> out;
    REQUIRE(read_dynamic_shared(400, 100, out) == cudaSuccess);
    for (float v : out) CHECK(std::isnan(v));
#if !defined(__SANITIZE_ADDRESS__)  // under ASan a read or write past the end is an ASan report instead
    REQUIRE(read_dynamic_shared(400, 140, out) == cudaSuccess);  // a layout 40 floats short
    for (int i = 100; i < 140; ++i) CHECK(std::isnan(out[i]));
    const cudaError_t err = write_past_dynamic_shared(400);
    REQUIRE(err == cudaErrorLaunchFailure);
    CHECK_THAT(error_text(err), Catch::Contains("wrote past the end of the 400 bytes"));
#endif
}

TEST_CASE("launches are checked against an H100's limits", "[emulator]") {
    CHECK(launch_empty(1024, 1, 0) == cudaSuccess);
    CHECK(launch_empty(1025, 1, 0) == cudaErrorInvalidConfiguration);
    CHECK(launch_empty(32, 3, 0) == cudaSuccess);
    CHECK(launch_empty(32, 65536, 0) == cudaErrorInvalidConfiguration);
    CHECK(launch_empty(32, 1, 48 * 1024) == cudaSuccess);
    CHECK(launch_empty(32, 1, 48 * 1024 + 4) == cudaErrorInvalidValue);
    CHECK_THAT(error_text(cudaErrorInvalidValue), Catch::Contains("cudaFuncSetAttribute"));
    CHECK(raise_dynamic_shared_limit(227 * 1024 + 4) == cudaErrorInvalidValue);
    cudaGetLastError();
    REQUIRE(raise_dynamic_shared_limit(100 * 1024) == cudaSuccess);
    CHECK(launch_empty(32, 1, 100 * 1024) == cudaSuccess);
    CHECK(launch_empty(32, 1, 100 * 1024 + 4) == cudaErrorInvalidValue);
    REQUIRE(raise_dynamic_shared_limit(48 * 1024) == cudaSuccess);
}

TEST_CASE("static __shared__ is one object for the whole block", "[emulator]") {
    std::vector<float> out;
    REQUIRE(static_shared_broadcast(out) == cudaSuccess);
    for (float v : out) CHECK(v == 42.0f);
}

TEST_CASE("the loader rule: SASS within a major version, PTX forward", "[emulator]") {
    using sca::emu::kernel_image_loads;
    CHECK(kernel_image_loads("90", 9, 0));
    CHECK_FALSE(kernel_image_loads("90", 8, 0));
    CHECK(kernel_image_loads("90", 10, 0));          // PTX, JIT-compiled
    CHECK_FALSE(kernel_image_loads("90-real", 10, 0));
    CHECK(kernel_image_loads("80-real", 8, 6));      // sm_80 SASS runs on 8.6
    CHECK_FALSE(kernel_image_loads("86-real", 8, 0));
    CHECK_FALSE(kernel_image_loads("80-real;86-real;89-real;90", 7, 5));
}
