// Keyframe schedules (docs/method.md §5): rows of (step, some property values), resolved
// to absolute steps, then each property interpolated over its own keys.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sca {

enum class Interp { MinJerk, Linear, Step };
enum class Space { Linear, Log };

struct PropertySettings {
    Space space = Space::Linear;
    Interp interp = Interp::MinJerk;
};

// One row as written: the step text ("750", "+10", "-0.5") and its values.
struct KeyframeRow {
    std::string step;
    std::map<std::string, double> values;
    std::string where;  // "file:line" for messages
};

struct PropertyTrack {
    std::string name;
    PropertySettings settings;
    std::vector<std::pair<int, double>> keys;  // sorted by step
    double value_at(int step) const;
};

struct Schedule {
    std::vector<KeyframeRow> rows;  // as written (kept to write the resolved config)
    std::map<std::string, PropertySettings> settings;
    std::vector<int> row_steps;     // resolved step of each row
    std::vector<PropertyTrack> tracks;
    int last_step = 0;              // T: training runs steps 0..T

    const PropertyTrack* find(const std::string& name) const;
    // Value of `name` at `step`, or nullopt if the property is never keyed.
    std::optional<double> value(const std::string& name, int step) const;
};

// Resolves relative steps against absolute rows and builds the tracks.
// Throws ConfigError naming the row for unresolvable or non-monotonic steps.
Schedule build_schedule(std::vector<KeyframeRow> rows, std::map<std::string, PropertySettings> settings,
                        const std::string& where);

// Reads a reference dopesheet: header STEP,PHASE,ACTION,prop[:space[:interp]],...
// (PHASE and ACTION optional, ignored); blank cells are not keyed.
Schedule load_dopesheet_csv(const std::string& path);
Schedule parse_dopesheet_csv(const std::string& text, const std::string& source);

Interp parse_interp(const std::string& s, const std::string& where, const std::string& key);
Space parse_space(const std::string& s, const std::string& where, const std::string& key);
const char* to_string(Interp i);
const char* to_string(Space s);

}  // namespace sca
