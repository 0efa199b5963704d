// Sampled sweep axes: keys drawn quasi-randomly instead of from a grid.
//
//   axes:
//     - sample:
//         count: 64          # points
//         method: sobol      # sobol (default: growing `count` keeps the first points) or latin
//         seed: 1            # the sample's own seed (Sobol: a random shift; latin: the permutations)
//         keys:
//           schedule.keyframes.3.anchor: {uniform: [0.02, 0.3]}
//           schedule.keyframes.3.anti-subspace: {log-uniform: [1.0e-4, 0.03]}
//           schedule.keyframes.3.step: {integer: [500, 1000]}
//           regularizers.separate.power: {choice: [50, 100, 200]}
//     - seed: 0..9
//
// The keys step together (like zip:): one point sets every key. Values are
// written with 4 significant digits, so a point's overrides (and the run ids
// made from the resolved config) are the same on every machine.
#pragma once
#include <string>

#include <yaml-cpp/yaml.h>

#include "host/sweep/sweep.hpp"

namespace sca {

// `node` is the map under `sample:`; `name` the axis's key path for errors (axes.N.sample).
SweepAxis parse_sample_axis(const YAML::Node& node, const std::string& source, const std::string& name);

// The unit-cube points of a sample: count x dims, each coordinate in (0, 1).
// Sobol points are a prefix of the sequence (plus a per-seed shift modulo 1),
// so growing `count` keeps every earlier point; latin ones are not nested.
std::vector<std::vector<double>> unit_sample(const std::string& method, int count, int dims, uint64_t seed);

}  // namespace sca
