#include "host/config/data_files.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "host/io/atomic_file.hpp"
#include "host/io/errors.hpp"
#include "host/io/npy.hpp"

namespace sca {

namespace fs = std::filesystem;

std::string resolve_data_path(const std::string& file, const std::string& base_dir) {
    const fs::path p = fs::path(file).is_absolute() ? fs::path(file) : fs::path(base_dir) / file;
    return fs::absolute(p).lexically_normal().string();
}

namespace {

// What is wrong with a file's contents, without where it was named.
struct Problem : std::runtime_error {
    using std::runtime_error::runtime_error;
};

DataMatrix decode(const std::string& bytes, int rank, DataValues values) {
    NpyArray a;
    try {
        a = decode_npy(bytes, "");
    } catch (const ConfigError& e) {
        throw Problem(e.what());
    }
    if (int(a.shape.size()) != rank)
        throw Problem(fmt::format("has {} dimension(s), expected {}", a.shape.size(), rank == 1 ? "a vector [N]" : "a matrix [N, D]"));
    if (a.shape[0] < 1 || a.shape[0] > (1 << 30)) throw Problem(fmt::format("has {} rows (expected 1 to 2^30)", a.shape[0]));
    if (rank == 2 && (a.shape[1] < 1 || a.shape[1] > (1 << 20)))
        throw Problem(fmt::format("has {} columns (expected 1 to 2^20)", a.shape[1]));
    DataMatrix m;
    m.rows = int(a.shape[0]);
    m.cols = rank == 2 ? int(a.shape[1]) : 1;
    for (size_t i = 0; i < a.data.size(); ++i) {
        const float v = a.data[i];
        const bool ok = values == DataValues::Finite        ? std::isfinite(v)
                        : values == DataValues::Probability ? (v >= 0.0f && v <= 1.0f)
                                                            : (v == 0.0f || v == 1.0f);
        if (!ok)
            throw Problem(fmt::format("sample {} holds {} (expected {})", i / size_t(m.cols), v,
                                      values == DataValues::Finite        ? "finite numbers"
                                      : values == DataValues::Probability ? "a probability in [0, 1]"
                                                                          : "0 or 1"));
    }
    m.values = std::move(a.data);
    return m;
}

}  // namespace

DataMatrix decode_data_file(const std::string& bytes, const std::string& source, const std::string& key, int rank,
                            DataValues values) {
    try {
        DataMatrix m = decode(bytes, rank, values);
        m.path = source;
        return m;
    } catch (const Problem& p) {
        throw ConfigError(source, key, p.what());
    }
}

std::shared_ptr<const DataMatrix> read_data_file(const ConfigContext& ctx, const YAML::Node& node, const std::string& key,
                                                 const std::string& base_dir, int rank, DataValues values) {
    const std::string file = MapReader::as<std::string>(ctx, node, key);
    if (file.empty()) ctx.fail(node, key, "is empty (expected the path of an .npy file)");
    const std::string path = resolve_data_path(file, base_dir);
    std::error_code ec;
    if (!fs::exists(path, ec)) ctx.fail(node, key, "file '" + path + "' does not exist");
    if (!fs::is_regular_file(path, ec)) ctx.fail(node, key, "'" + path + "' is not a regular file");
    if (fs::file_size(path, ec) > kMaxDataFileBytes)
        ctx.fail(node, key, fmt::format("'{}' is larger than {} GiB", path, kMaxDataFileBytes >> 30));
    std::string bytes;
    try {
        bytes = read_file(path);
    } catch (const std::exception& e) {
        ctx.fail(node, key, "cannot read '" + path + "': " + e.what());
    }
    try {
        auto m = std::make_shared<DataMatrix>(decode(bytes, rank, values));
        m->path = path;
        return m;
    } catch (const Problem& p) {
        ctx.fail(node, key, "file '" + path + "' " + p.what());
    }
}

}  // namespace sca
