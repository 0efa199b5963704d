// The cuBLAS training path (see wide_trainer.hpp). Layout: the flat
// parameter vector of the CPU (W [out][in] row-major, then b), which cuBLAS
// reads as the column-major in x out matrix W^T; activations sample-major
// [B][width], i.e. column-major width x B. Per Linear layer:
//   forward   Y = W X        gemm(T, N, out, B, in)
//   backward  dW = dY X^T    gemm(N, T, in, out, B)   (into the gradient)
//             db = dY 1      gemm(N, N, out, 1, B)    (1: B ones)
//             dX = W^T dY    gemm(N, N, in, B, out)
#include <algorithm>
#include <cstring>
#include <string>

#include "cuda/blas_handle.hpp"
#include "cuda/separation_tiled.hpp"
#include "cuda/wide_kernels.hpp"
#include "cuda/wide_trainer.hpp"

namespace sca::cuda {

namespace {

int layer_input_width(const WideShape& s, int l) {
    return l < int(s.layers.size()) ? s.layers[l].in : s.input_dim;
}

bool has_separation(const WideShape& s) {
    for (const auto& r : s.regs)
        if (r.params.kind == RegKind::Separate) return true;
    return false;
}

// Floats of per-step scratch one model needs.
size_t scratch_floats(const WideShape& s) {
    const size_t B = size_t(s.batch), K = size_t(s.latent), R = s.regs.size();
    size_t f = 0;
    for (int l = 0; l <= int(s.layers.size()); ++l) f += B * layer_input_width(s, l);
    for (const auto& L : s.layers)
        if (L.gelu) f += B * L.out;
    f += B * K /*h*/ + B /*inv*/ + B * size_t(std::max(1, s.n_labels)) + 2 * B * size_t(s.max_width());
    f += 3 * B * K /*dz, dh, u*/ + 2 * R * B /*affinity, omega*/ + (1 + R) * B /*terms*/ + 4 * (R + 2);
    f += size_t(nonfinite_partial_count(s.n_params)) + B /*ones*/;
    if (has_separation(s)) f += separation_partial_floats(s.batch, s.latent);
    return f;
}

}  // namespace

int WideShape::max_width() const {
    int w = input_dim;
    for (const auto& L : layers) w = std::max({w, L.in, L.out});
    return w;
}

DeviceFootprint wide_footprint(const WideShape& s, int n_points, int rows, int log_steps) {
    const size_t R = s.regs.size();
    DeviceFootprint f;
    f.shared = (size_t(n_points) * (s.input_dim + std::max(1, s.n_labels))) * sizeof(float) +
               BlasHandle::kWorkspaceBytes + R * sizeof(WideRegularizer);
    f.per_model = (4 * s.n_params + scratch_floats(s) + size_t(rows) * (3 + R) + size_t(log_steps) * (2 + R)) *
                      sizeof(float) + sizeof(uint64_t) + 3 * sizeof(int);
    return f;
}

WideTrainer::WideTrainer(const WideShape& shape, int n_models, const std::vector<float>& points,
                         const std::vector<float>& probabilities, const std::vector<uint64_t>& seeds,
                         const std::vector<float>& schedules, int rows, const std::vector<int>& schedule_of)
    : DeviceModelStates(n_models, shape.n_params),
      shape_(shape),
      rows_(rows),
      schedules_host_(schedules),
      schedule_of_host_(schedule_of) {
    const int B = shape_.batch, K = shape_.latent, D = shape_.input_dim, L = shape_.n_labels;
    const size_t R = shape_.regs.size();
    if (n_models < 1 || int(seeds.size()) != n_models || int(schedule_of.size()) != n_models)
        throw CudaError("WideTrainer: need at least one model, and one seed and schedule index per model");
    if (B < 1 || K < 1 || K > kMaxLatent || D < 1 || shape_.layers.empty() || points.empty() ||
        points.size() % size_t(D) != 0)
        throw CudaError("WideTrainer: batch >= 1, 1 <= latent <= " + std::to_string(kMaxLatent) +
                        ", at least one layer and points [n][input_dim]");
    n_points_ = int(points.size() / size_t(D));
    if (probabilities.size() != size_t(L) * n_points_)
        throw CudaError("WideTrainer: label probabilities must be [labels][points]");
    if (schedules.size() % (size_t(rows) * (3 + R)) != 0)
        throw CudaError("WideTrainer: schedule tables must be rows x (3 + regularizers)");
    // Say what fits before allocating anything (a whole run's log counted).
    require_device_memory(wide_footprint(shape_, n_points_, rows, rows), n_models);
    blas_ = std::make_unique<BlasHandle>();
    const size_t M = size_t(n_models), P = shape_.n_params, Bs = size_t(B);
    points_ = DeviceBuffer<float>(points, "the training data");
    upload_inputs(probabilities, seeds, schedules, schedule_of);
    regs_ = DeviceBuffer<WideRegularizer>(shape_.regs.empty() ? std::vector<WideRegularizer>(1) : shape_.regs,
                                           "regularizer definitions");
    auto zeros = [](size_t n, const char* what) {
        DeviceBuffer<float> b(std::max<size_t>(n, 1), what);
        SCA_CUDA_CHECK(cudaMemset(b.get(), 0, b.size() * sizeof(float)));
        return b;
    };
    allocate_states();
    grad_ = zeros(M * P, "the gradient");
    for (int l = 0; l <= int(shape_.layers.size()); ++l)
        act_.push_back(zeros(M * Bs * layer_input_width(shape_, l), "activations"));
    for (const auto& Ly : shape_.layers) deriv_.push_back(Ly.gelu ? zeros(M * Bs * Ly.out, "GELU derivatives") : DeviceBuffer<float>());
    h_ = zeros(M * Bs * K, "the latent before normalization");
    inv_ = zeros(M * Bs, "inverse latent norms");
    labels_ = zeros(M * Bs * std::max(1, L), "batch labels");
    ga_ = zeros(M * Bs * shape_.max_width(), "activation gradients");
    gb_ = zeros(M * Bs * shape_.max_width(), "activation gradients");
    dz_ = zeros(M * Bs * K, "regularizer gradients");
    dh_ = zeros(M * Bs * K, "regularizer gradients");
    u_ = zeros(M * Bs * K, "unit vectors");
    if (has_separation(shape_)) partial_ = zeros(M * separation_partial_floats(B, K), "separation partial sums");
    affinity_ = zeros(M * R * Bs, "label affinities");
    affinity_sums_ = zeros(M * R, "affinity sums");
    omega_ = zeros(M * R * Bs, "reduction weights");
    terms_ = zeros(M * (1 + R) * Bs, "per-sample terms");
    sums_ = zeros(M * (1 + R), "term sums");
    weights_ = zeros(M * R, "regularizer weights");
    losses_ = zeros(M * (2 + R), "losses");
    nonfinite_ = zeros(M * size_t(nonfinite_partial_count(P)), "non-finite counts");
    ones_ = DeviceBuffer<float>(std::vector<float>(Bs, 1.0f), "a vector of ones");
}

WideTrainer::~WideTrainer() = default;

std::vector<char> WideTrainer::needed_at(int t) const {
    const size_t R = shape_.regs.size(), stride = 3 + R;
    std::vector<char> needed(R, 0);
    for (int table : schedule_of_host_)
        for (size_t r = 0; r < R; ++r)
            if (schedules_host_[(size_t(table) * rows_ + t) * stride + 3 + r] != 0.0f) needed[r] = 1;
    return needed;
}

void WideTrainer::step(int m0, int count, int t, bool draw, bool all_terms, const std::vector<char>& needed,
                       int* stopped, float* log, int log_steps, int log_row) const {
    const int B = shape_.batch, K = shape_.latent, D = shape_.input_dim, L = shape_.n_labels, R = int(shape_.regs.size());
    const int n = int(shape_.layers.size()), enc = shape_.n_encoder;
    const size_t P = shape_.n_params, Bs = size_t(B), G = Bs * shape_.max_width();
    const BlasHandle& blas = *blas_;
    float* params = params_.get() + m0 * P;
    float* grad = grad_.get() + m0 * P;
    auto act = [&](int l) { return act_[l].get() + m0 * Bs * layer_input_width(shape_, l); };
    float* x = act(0);
    float* z = act(enc);
    float* y = act(n);
    float* h = h_.get() + m0 * Bs * K;
    float* inv = inv_.get() + m0 * Bs;
    float* labels = labels_.get() + m0 * Bs * std::max(1, L);
    float* dz = dz_.get() + m0 * Bs * K;
    float* dh = dh_.get() + m0 * Bs * K;
    float* terms = terms_.get() + m0 * (1 + R) * Bs;
    float* affinity = affinity_.get() + m0 * R * Bs;
    float* affinity_sums = affinity_sums_.get() + m0 * R;
    float* omega = omega_.get() + m0 * R * Bs;
    float* weights = weights_.get() + m0 * R;
    float* sums = sums_.get() + m0 * (1 + R);
    if (draw)
        launch_draw(points_.get(), n_points_, D, probabilities_.get(), L, seeds_.get(), m0, count, t, B, x, labels, nullptr);

    for (int l = 0; l < n; ++l) {  // forward
        const WideLayer& Ly = shape_.layers[l];
        float* out = l == enc - 1 ? h : act(l + 1);
        gemm_batched(blas, CUBLAS_OP_T, CUBLAS_OP_N, Ly.out, B, Ly.in, params + Ly.weight, Ly.in, (long long)P, act(l),
                     Ly.in, (long long)(Bs * Ly.in), out, Ly.out, (long long)(Bs * Ly.out), count);
        launch_bias_activation(out, params, P, Ly.bias, Ly.out, B, count, Ly.gelu,
                               Ly.gelu ? deriv_[l].get() + m0 * Bs * Ly.out : nullptr);
        if (l == enc - 1) launch_normalize(h, K, B, count, z, inv);
    }

    float* cur = ga_.get() + m0 * G;  // dL/dyhat, then dL/d(each layer's input)
    float* other = gb_.get() + m0 * G;
    launch_recon_and_affinities(y, x, D, labels, L, regs_.get(), R, B, count, terms, (1 + R) * Bs, cur, G, affinity);
    launch_row_sums(affinity, R, B, count, affinity_sums);
    launch_sample_terms(z, h, K, regs_.get(), R, affinity_sums, affinity, weights, B, count, omega, terms, dz, dh);
    bool units_ready = false;
    for (int r = 0; r < R; ++r) {
        const WideRegularizer& reg = shape_.regs[r];
        if (reg.params.kind != RegKind::Separate || (!needed[r] && !all_terms)) continue;
        float* u = u_.get() + m0 * Bs * K;
        if (!units_ready) separation_unit_vectors(z, count * B, K, u);
        units_ready = true;
        SeparationArrays a;
        a.batch = B, a.latent = K, a.power = reg.params.power, a.shift = reg.params.shift, a.problems = count;
        a.accumulate_dz = true;
        a.weights = weights + r, a.weight_stride = size_t(R);
        a.z = z, a.u = u;
        a.omega = omega + size_t(r) * Bs, a.omega_stride = size_t(R) * Bs;
        a.partial = partial_.get() + m0 * separation_partial_floats(B, K);
        a.weighted = terms + (1 + size_t(r)) * Bs, a.weighted_stride = (1 + size_t(R)) * Bs;
        a.dz = dz;
        launch_separation(a);
    }
    launch_row_sums(terms, 1 + R, B, count, sums);

    for (int l = n - 1; l >= 0; --l) {  // backward
        const WideLayer& Ly = shape_.layers[l];
        if (Ly.gelu) launch_gelu_backward(cur, G, deriv_[l].get() + m0 * Bs * Ly.out, Ly.out, B, count);
        gemm_batched(blas, CUBLAS_OP_N, CUBLAS_OP_N, Ly.out, 1, B, cur, Ly.out, (long long)G, ones_.get(), B, 0,
                     grad + Ly.bias, Ly.out, (long long)P, count);  // db = dY 1: summed over the batch by cuBLAS
        gemm_batched(blas, CUBLAS_OP_N, CUBLAS_OP_T, Ly.in, Ly.out, B, act(l), Ly.in, (long long)(Bs * Ly.in), cur,
                     Ly.out, (long long)G, grad + Ly.weight, Ly.in, (long long)P, count);
        if (l == 0) break;  // nothing upstream of the input
        gemm_batched(blas, CUBLAS_OP_N, CUBLAS_OP_N, Ly.in, B, Ly.out, params + Ly.weight, Ly.in, (long long)P, cur,
                     Ly.out, (long long)G, other, Ly.in, (long long)G, count);
        std::swap(cur, other);
        if (l == enc) launch_normalize_backward(h, z, inv, dz, dh, K, B, count, cur, G);
    }

    float* nonfinite = nonfinite_.get() + m0 * size_t(nonfinite_partial_count(P));
    launch_nonfinite_count(grad, P, count, nonfinite);
    FinishArgs f{};
    f.sums = sums, f.affinity_sums = affinity_sums, f.regs = regs_.get(), f.weights = weights;
    f.nonfinite = nonfinite, f.n_partial = nonfinite_partial_count(P);
    f.R = R, f.B = B, f.D = D, f.all_terms = all_terms ? 1 : 0;
    f.losses = losses_.get() + m0 * (2 + R), f.stopped = stopped;
    f.log = log, f.log_steps = log_steps, f.log_row = log_row, f.step = t;
    launch_finish(f, m0, count);
}

void WideTrainer::train(int first, int last, float* log) {
    if (first > last) return;
    if (first < 0 || last >= rows_)
        throw CudaError("train: steps " + std::to_string(first) + ".." + std::to_string(last) +
                        " are outside the schedule (0.." + std::to_string(rows_ - 1) + ")");
    const int R = int(shape_.regs.size()), steps = last - first + 1;
    const size_t log_n = size_t(n_models_) * steps * (2 + R);
    if (log && log_n > log_.size()) {
        log_ = DeviceBuffer<float>();  // free the smaller log first
        log_ = DeviceBuffer<float>(log_n, "the training log");
    }
    const ScheduleView view{schedules_.get(), schedule_of_.get(), rows_, R};
    for (int t = first; t <= last; ++t) {
        launch_step_weights(view, 0, n_models_, t, weights_.get());
        step(0, n_models_, t, true, false, needed_at(t), stopped_.get(), log ? log_.get() : nullptr, steps, t - first);
        launch_adam(view, t, stopped_.get(), params_.get(), grad_.get(), exp_avg_.get(), exp_avg_sq_.get(),
                    shape_.n_params, 0, n_models_);
    }
    SCA_CUDA_CHECK(cudaDeviceSynchronize());
    stopped_host_ = stopped_.download();
    if (log) SCA_CUDA_CHECK(cudaMemcpy(log, log_.get(), log_n * sizeof(float), cudaMemcpyDeviceToHost));
}

DeviceEvaluation WideTrainer::evaluate(int m, int step_number, const float* x, const float* labels,
                                       const std::vector<float>& weights, bool all_terms) const {
    const int B = shape_.batch, D = shape_.input_dim, L = shape_.n_labels, R = int(shape_.regs.size());
    const size_t P = shape_.n_params, Bs = size_t(B);
    if (int(weights.size()) != R) throw CudaError("evaluate: one weight per regularizer");
    float* d_x = act_[0].get() + size_t(m) * Bs * D;
    float* d_labels = labels_.get() + size_t(m) * Bs * std::max(1, L);
    std::vector<float> sample_major;
    if (x) {  // feature-major [D][B] -> [B][D], [L][B] -> [B][L]
        sample_major.resize(Bs * D);
        for (int c = 0; c < D; ++c)
            for (int i = 0; i < B; ++i) sample_major[size_t(i) * D + c] = x[size_t(c) * B + i];
        SCA_CUDA_CHECK(cudaMemcpy(d_x, sample_major.data(), Bs * D * sizeof(float), cudaMemcpyHostToDevice));
        sample_major.assign(Bs * L, 0.0f);
        for (int l = 0; l < L; ++l)
            for (int i = 0; i < B; ++i) sample_major[size_t(i) * L + l] = labels[size_t(l) * B + i];
        if (L) SCA_CUDA_CHECK(cudaMemcpy(d_labels, sample_major.data(), Bs * L * sizeof(float), cudaMemcpyHostToDevice));
    }
    DeviceBuffer<int> d_points(Bs, "the batch's grid points");
    SCA_CUDA_CHECK(cudaMemset(d_points.get(), 0xff, Bs * sizeof(int)));
    if (!x)
        launch_draw(points_.get(), n_points_, D, probabilities_.get(), L, seeds_.get(), m, 1, step_number, B, d_x,
                    d_labels, d_points.get());
    if (R) SCA_CUDA_CHECK(cudaMemcpy(weights_.get() + size_t(m) * R, weights.data(), R * sizeof(float), cudaMemcpyHostToDevice));
    DeviceBuffer<int> no_stops(2 * size_t(n_models_), "evaluation stops");  // evaluate never stops a model
    SCA_CUDA_CHECK(cudaMemset(no_stops.get(), 0xff, no_stops.size() * sizeof(int)));
    std::vector<char> needed(R);
    for (int r = 0; r < R; ++r) needed[r] = weights[r] != 0.0f;
    step(m, 1, step_number, false, all_terms, needed, no_stops.get(), nullptr, 0, 0);
    SCA_CUDA_CHECK(cudaDeviceSynchronize());

    DeviceEvaluation out;
    std::vector<float> losses(2 + R);
    SCA_CUDA_CHECK(cudaMemcpy(losses.data(), losses_.get() + size_t(m) * (2 + R), losses.size() * sizeof(float),
                              cudaMemcpyDeviceToHost));
    out.recon = losses[0];
    out.reg.assign(losses.begin() + 1, losses.begin() + 1 + R);
    out.total = losses[1 + R];
    out.grad.resize(P);
    SCA_CUDA_CHECK(cudaMemcpy(out.grad.data(), grad_.get() + size_t(m) * P, P * sizeof(float), cudaMemcpyDeviceToHost));
    std::vector<float> back(Bs * std::max(D, L));
    SCA_CUDA_CHECK(cudaMemcpy(back.data(), d_x, Bs * D * sizeof(float), cudaMemcpyDeviceToHost));
    out.x.resize(Bs * D);
    for (int c = 0; c < D; ++c)
        for (int i = 0; i < B; ++i) out.x[size_t(c) * B + i] = back[size_t(i) * D + c];
    if (L) SCA_CUDA_CHECK(cudaMemcpy(back.data(), d_labels, Bs * L * sizeof(float), cudaMemcpyDeviceToHost));
    out.labels.resize(Bs * L);
    for (int l = 0; l < L; ++l)
        for (int i = 0; i < B; ++i) out.labels[size_t(l) * B + i] = back[size_t(i) * L + l];
    out.points = d_points.download();
    return out;
}

}  // namespace sca::cuda
