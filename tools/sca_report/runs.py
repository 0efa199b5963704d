"""What a report reads: a run's config, logs, validation and evaluation, and the swept values of many runs."""

import csv
import json
import math
import os

import numpy as np
import yaml


def colour_error(outputs, inputs):
    return np.mean((np.clip(outputs, 0.0, 1.0) - inputs) ** 2, axis=-1)


def read_csv_columns(path):
    """A CSV as {column: float array}; blank cells are NaN."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    cols = {}
    for i, name in enumerate(header):
        vals = []
        for r in body:
            try:
                vals.append(float(r[i]) if i < len(r) and r[i] != "" else math.nan)
            except ValueError:
                vals.append(math.nan)
        cols[name] = np.array(vals)
    return cols


class Run:
    def __init__(self, entry):
        self.entry = entry
        self.dir = entry["dir"]
        self.name = entry["name"]
        with open(self.path("config.yaml")) as f:
            self.config = yaml.safe_load(f) or {}
        # `sca report` re-evaluates with grids into grid_dir where the run has none.
        self.eval_dir = entry.get("grid_dir") or self.dir
        self.evaluation = self.load_json(os.path.join(self.eval_dir, "evaluation.json"))
        self.validation = self.load_json("validation.json")
        self.log = read_csv_columns(self.path("train_log.csv")) if os.path.exists(self.path("train_log.csv")) else {}
        self.schedule = entry.get("schedule")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def load_json(self, name):
        p = self.path(name)
        if not os.path.exists(p):
            return None
        with open(p) as f:
            return json.load(f)

    def variants(self):
        """The baseline, then each intervention, as evaluation.json has them."""
        return [self.evaluation["baseline"]] + list(self.evaluation["interventions"])

    def has_concepts(self):
        """A data-from-files run: concepts.NAME.error_on/off per variant (docs/data.md)."""
        return bool(self.evaluation) and "concepts" in self.evaluation["baseline"]

    def has_grids(self):
        return "grids" in self.evaluation and "files" in self.evaluation["baseline"]

    def npy(self, rel):
        return np.load(os.path.join(self.eval_dir, rel))

    def grid(self, variant, set_name, what):
        return self.npy(variant["files"][f"{set_name}.{what}"])

    def regularizer_directions(self):
        """(label, unit direction) of each anchor and anti-anchor regularizer."""
        out = []
        for r in self.config.get("regularizers", []) or []:
            if r.get("kind") in ("anchor", "anti-anchor") and r.get("direction") is not None:
                d = np.asarray(r["direction"], dtype=float)
                n = np.linalg.norm(d)
                if n > 0:
                    out.append((r.get("name", r["kind"]), r["kind"], d / n))
        return out

    def anchor_dim(self):
        for _, kind, d in self.regularizer_directions():
            if kind == "anchor":
                return int(np.argmax(np.abs(d)))
        for v in self.evaluation["interventions"]:
            p = v.get("parameters", {})
            if "direction" in p:
                return int(np.argmax(np.abs(p["direction"])))
            if p.get("dims"):
                return int(p["dims"][0])
        return 0

    def final_validation(self):
        if not self.validation or not self.validation.get("records"):
            return None
        return self.validation["records"][-1]


def flatten(node, prefix=""):
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = node
    return out


def swept_values(runs):
    """{dotted key: [value per run]} for config values that differ between runs, seed excepted."""
    flats = [flatten(r.config) for r in runs]
    keys = sorted(set().union(*flats)) if flats else []
    swept = {}
    for k in keys:
        vals = [f.get(k) for f in flats]
        if k == "seed" or len({json.dumps(v, sort_keys=True, default=str) for v in vals}) < 2:
            continue
        swept[k] = vals
    return swept


def score_names(runs):
    names = []
    for r in runs:
        for v in r.evaluation["interventions"]:
            if v["name"] not in names:
                names.append(v["name"])
    return names


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def config_columns(configs):
    """The swept keys of configs.csv: the columns between `config` and `runs`."""
    names = list(configs[0].keys())
    return names[names.index("config") + 1:names.index("runs")]


def _isnum(v):
    try:
        float(v)
        return True
    except ValueError:
        return False
