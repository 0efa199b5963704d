#!/usr/bin/env python3
"""Checks that every output file in a run directory is complete and valid:
safetensors headers and sizes, config YAML, validation JSON, CSV rows.
Prints one line per problem and exits 1 if there is any.
    check_run_files.py RUN_DIR [REQUIRED_FILE ...]"""
import json
import os
import struct
import sys

import yaml


def check_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        return "shorter than 8 bytes"
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        return f"header length {n} exceeds the file ({len(data)} bytes)"
    header = json.loads(data[8:8 + n])
    end = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        count = 1
        for d in t["shape"]:
            count *= d
        if b - a != 4 * count:
            return f"{name}: {b - a} bytes for {count} floats"
        end = max(end, b)
    if 8 + n + end != len(data):
        return f"data ends at {8 + n + end}, the file has {len(data)} bytes (truncated?)"
    return None


def check_csv(path):
    with open(path) as f:
        lines = f.read().split("\n")
    if lines[-1] != "":
        return "does not end with a newline (truncated?)"
    width = lines[0].count(",")
    for i, line in enumerate(lines[1:-1], 2):
        if line.count(",") != width:
            return f"line {i} has {line.count(',') + 1} cells, the header {width + 1}"
    return None


def main():
    run_dir, required = sys.argv[1], sys.argv[2:]
    problems = []
    names = sorted(os.listdir(run_dir))
    # Pruned models live in their own folder (no name can collide with the run's files).
    if os.path.isdir(os.path.join(run_dir, "pruned")):
        names += [os.path.join("pruned", n) for n in sorted(os.listdir(os.path.join(run_dir, "pruned")))]
    for name in names:
        path = os.path.join(run_dir, name)
        try:
            if name.endswith(".safetensors"):
                why = check_safetensors(path)
            elif name == "config.yaml":
                with open(path) as f:
                    why = None if isinstance(yaml.safe_load(f), dict) else "not a mapping"
            elif name.endswith(".json"):
                with open(path) as f:
                    json.load(f)
                why = None
            elif name.endswith(".csv"):
                why = check_csv(path)
            else:
                why = None
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            why = f"{type(e).__name__}: {e}"
        if why:
            problems.append(f"{path}: {why}")
    for name in required:
        if not os.path.exists(os.path.join(run_dir, name)):
            problems.append(f"{run_dir}/{name}: missing (it existed before)")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
