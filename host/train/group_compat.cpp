#include "host/train/group_compat.hpp"

#include <cstring>

namespace sca {

namespace {

std::string same_regs(const RegularizerSpec& a, const RegularizerSpec& b) {
    const RegParams &p = a.params, &q = b.params;
    if (a.name != b.name || p.kind != q.kind) return "regularizer '" + a.name + "' differs in name or kind";
    if (p.power != q.power || p.shift != q.shift || p.hemi != q.hemi || std::memcmp(p.dims, q.dims, sizeof(p.dims)) != 0 ||
        std::memcmp(p.dir, q.dir, sizeof(p.dir)) != 0)
        return "regularizer '" + a.name + "' has different parameters";
    if (a.affinities != b.affinities) return "regularizer '" + a.name + "' has different label affinities";
    return "";
}

}  // namespace

std::string group_incompatibility(const ExperimentConfig& a, const ExperimentConfig& b) {
    if (a.model.input_dim != b.model.input_dim || a.model.hidden != b.model.hidden || a.model.layers != b.model.layers ||
        a.model.latent != b.model.latent)
        return "a different model shape";
    if (a.batch != b.batch || a.grid != b.grid) return "a different batch size or grid";
    if (a.last_step() != b.last_step()) return "a different last step";
    const auto path_of = [](const std::shared_ptr<const DataMatrix>& d) { return d ? d->path : std::string(); };
    if (path_of(a.inputs) != path_of(b.inputs)) return "different data (data.inputs)";
    if (a.labels.size() != b.labels.size()) return "a different number of labels";
    for (size_t l = 0; l < a.labels.size(); ++l)
        if (a.labels[l].name != b.labels[l].name || a.labels[l].function != b.labels[l].function ||
            a.labels[l].power != b.labels[l].power || a.labels[l].scale != b.labels[l].scale ||
            a.labels[l].source != b.labels[l].source || a.labels[l].colour != b.labels[l].colour ||
            path_of(a.labels[l].file) != path_of(b.labels[l].file))
            return "label '" + a.labels[l].name + "' differs";
    if (a.regularizers.size() != b.regularizers.size()) return "a different number of regularizers";
    for (size_t r = 0; r < a.regularizers.size(); ++r) {
        const std::string why = same_regs(a.regularizers[r], b.regularizers[r]);
        if (!why.empty()) return why;
    }
    return "";
}

}  // namespace sca
