#!/usr/bin/env python3
"""host/ is layered (host/README.md): io <- config <- train <- eval <- sweep <- cli.

Fails, naming the file and the include, when a file includes a later layer
(or a host header by a path that is not its layer folder), and when a host
source file sits outside the layer folders or is missing from the README's
table, so the folders keep saying what the imports do.
usage: check_layers.py SOURCE_DIR
"""
import os
import re
import sys

LAYERS = ["io", "config", "train", "eval", "sweep", "cli"]


def main(root):
    host = os.path.join(root, "host")
    readme = open(os.path.join(host, "README.md")).read()
    problems = []
    for entry in sorted(os.listdir(host)):
        path = os.path.join(host, entry)
        if os.path.isfile(path) and entry != "README.md":
            problems.append(f"host/{entry}: outside the layer folders ({', '.join(LAYERS)})")
        elif os.path.isdir(path) and entry not in LAYERS:
            problems.append(f"host/{entry}/: not a layer ({', '.join(LAYERS)}); add it to LAYERS and host/README.md")
    for layer in LAYERS:
        folder = os.path.join(host, layer)
        for name in sorted(os.listdir(folder)):
            rel = f"host/{layer}/{name}"
            stem = os.path.splitext(name)[0]
            if f"`{stem}`" not in readme:
                problems.append(f"{rel}: not in host/README.md's table of layers")
            text = open(os.path.join(folder, name)).read()
            for n, line in enumerate(text.splitlines(), 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                target = m.group(1)
                if not target.startswith(("host/", "kernels/", "cuda/")):
                    problems.append(f"{rel}:{n}: include \"{target}\" by its path from the repository root")
                    continue
                parts = target.split("/")
                if parts[0] != "host":
                    continue
                if len(parts) != 3 or parts[1] not in LAYERS:
                    problems.append(f"{rel}:{n}: \"{target}\" is not in a layer folder")
                elif LAYERS.index(parts[1]) > LAYERS.index(layer):
                    problems.append(f"{rel}:{n}: {layer}/ includes the later layer {parts[1]}/ (\"{target}\")")
    for p in problems:
        print(p)
    print(f"check_layers: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
