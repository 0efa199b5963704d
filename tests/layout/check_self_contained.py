#!/usr/bin/env python3
"""The repository stands on its own: no file points at documents outside it.

Fails, naming file and line, when a tracked file (text or binary, fuzz inputs
included) cites a numbered section of an outside specification or a path
to a shared folder above the checkout (OUTSIDE below). Everything a user needs is in
README.md and docs/.
usage: check_self_contained.py SOURCE_DIR
"""
import os
import re
import subprocess
import sys

OUTSIDE = re.compile(rb"\bSPEC [0-9]|\.\./shared\b|shared/SPEC")
SKIP_DIRS = {".git", "__pycache__"}


def files(root):
    """Tracked files when this is a git checkout, else every file not in a build folder."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True).stdout
        names = [n.decode() for n in out.split(b"\0") if n]
        if names:
            return names
    except (OSError, subprocess.CalledProcessError):
        pass
    names = []
    for folder, dirs, entries in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")]
        names += [os.path.relpath(os.path.join(folder, e), root) for e in entries]
    return names


def main(root):
    me = os.path.relpath(os.path.abspath(__file__), os.path.abspath(root))
    problems = []
    for name in files(root):
        if name == me:
            continue
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                found = OUTSIDE.search(line)
                if found:
                    problems.append(f"{name}:{number}: cites '{found.group().decode(errors='replace')}' outside the repository")
    for p in problems:
        print(p)
    print(f"{len(problems)} reference(s) outside the repository")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
