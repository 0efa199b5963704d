"""A run directory as plain Python and NumPy structures."""
import csv
import json
import math
import os

import re

import numpy as np
import yaml


class _Loader(yaml.SafeLoader):
    """YAML 1.2 numbers: PyYAML (YAML 1.1) reads 1e-08, which sca writes, as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"),
    list("-+0123456789."),
)


def _train_log(path):
    """{column: float64 array}; a blank cell (a term not computed at weight 0) is NaN."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    columns = {name: np.array([float(r[i]) if r[i] != "" else math.nan for r in body]) for i, name in enumerate(header)}
    columns["step"] = columns["step"].astype(np.int64)
    return columns


def _validation(path):
    """{"interval", "last_step", "step": array, "recon": array, "regularizers": {name: array}, "records": [...]}"""
    with open(path) as f:
        data = json.load(f)
    records = data["records"]

    def number(x):
        return math.nan if x is None else float(x)

    names = list(records[0]["regularizers"]) if records else []
    return {
        "interval": data["interval"],
        "last_step": data["last_step"],
        "step": np.array([r["step"] for r in records], dtype=np.int64),
        "recon": np.array([number(r["recon"]) for r in records]),
        "regularizers": {n: np.array([number(r["regularizers"][n]) for r in records]) for n in names},
        "records": records,
    }


def _evaluation(run_dir, path):
    """evaluation.json as a dict; every NPY file it names loaded into "arrays"
    ({"<variant>/<what>": array} and {"grids/<set>/<what>": array})."""
    with open(path) as f:
        data = json.load(f)
    arrays = {}
    for variant in [data["baseline"], *data["interventions"]]:
        for what, rel in variant.get("files", {}).items():
            arrays[f"{variant['name']}/{what}"] = np.load(os.path.join(run_dir, rel))
    for grid, entries in data.get("grids", {}).items():
        for what, rel in entries.items():
            if isinstance(rel, str) and rel.endswith(".npy"):
                arrays[f"grids/{grid}/{what}"] = np.load(os.path.join(run_dir, rel))
    data["arrays"] = arrays
    return data


def read_run(run_dir):
    """{"config": the resolved config (dict), "train_log": {column: array},
    "validation": {...}, "evaluation": {...} or None before `sca eval`}."""
    run_dir = os.fspath(run_dir)
    join = lambda name: os.path.join(run_dir, name)  # noqa: E731
    if not os.path.isfile(join("config.yaml")):
        raise FileNotFoundError(f"'{run_dir}' has no config.yaml (is it an sca run directory?)")
    with open(join("config.yaml")) as f:
        text = f.read()
    config = yaml.load(text, Loader=_Loader)
    # Relative steps stay as written ("+10", "-0.5"): YAML would read +10 as 10.
    raw = yaml.load(text, Loader=yaml.BaseLoader)
    for row, raw_row in zip(config.get("schedule", {}).get("keyframes", []), raw.get("schedule", {}).get("keyframes", [])):
        step = raw_row["step"]
        row["step"] = int(step) if step.isdigit() else step
    run = {"dir": run_dir, "config": config, "train_log": None, "validation": None, "evaluation": None}
    if os.path.isfile(join("train_log.csv")):
        run["train_log"] = _train_log(join("train_log.csv"))
    if os.path.isfile(join("validation.json")):
        run["validation"] = _validation(join("validation.json"))
    if os.path.isfile(join("evaluation.json")):
        run["evaluation"] = _evaluation(run_dir, join("evaluation.json"))
    return run
