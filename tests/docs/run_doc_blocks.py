"""Runs every command and config block of README.md and docs/*.md, so the
examples cannot rot.

    run_doc_blocks.py SCA_BINARY SOURCE_DIR [--list]

A block is a fenced block (```lang) or an indented one (4 spaces after a
blank line). What is done with it:
  text                  a formula, a listing or printed output: not run
  yaml with `base:`     a sweep file: `sca sweep FILE --plan`
  yaml with `model:`    an experiment: `sca train FILE` (CPU; trains and evaluates)
  python                run with the checkout's python/ package importable
  commands              every line whose first word is a known command is run
                        (bash, `set -e`), in order, per page
Anything else must say why it is not run, in an HTML comment just above it:
  <!-- doc-test: text -->              printed output, a listing or a formula
  <!-- doc-test: skip WHY -->          not runnable here (WHY is required)
and a runnable block may be adjusted, minimally, by
  <!-- doc-test: replace "A" "B" -->   run it with A replaced by B (smaller)
  <!-- doc-test: before COMMAND -->    run COMMAND first (a prerequisite)
Each page runs in its own scratch copy of the repository's experiments/,
docs/ and tools/ with build/ linked to the build, so nothing in the checkout
changes. Prints one line per block and the time each page took.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

COMMANDS = ("sca", "./build/sca", "/usr/bin/python3", "./build/bench/", "tools/", "cmake", "cp", "time", "docker", "ctest", "pip", "python3")
MARKER = re.compile(r"^\s*<!-- doc-test: (text|skip|replace|before)(.*?)-->\s*$")


def blocks_of(path):
    """[(line, lang, text, markers)] of the page at `path`."""
    lines = open(path).read().split("\n")
    found, markers, i = [], [], 0
    prev_blank = True
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        fence = re.match(r"^(\s*)```(\w*)\s*$", line)
        if m:
            markers.append((m.group(1), m.group(2).strip()))
            i += 1
            continue
        if fence:
            indent, lang, start = len(fence.group(1)), fence.group(2), i + 1
            i += 1
            body = []
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][indent:])
                i += 1
            found.append((start, lang, "\n".join(body) + "\n", markers))
            markers, prev_blank = [], False
            i += 1
            continue
        if line.startswith("    ") and prev_blank and line.strip():
            start, body = i + 1, []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            found.append((start, "", "\n".join(body) + "\n", markers))
            markers, prev_blank = [], True
            continue
        if line.strip():
            markers = [] if not line.lstrip().startswith("<!--") else markers
        prev_blank = not line.strip()
        i += 1
    return found


def logical_lines(text):
    """Lines with backslash continuations joined, blank lines dropped."""
    out, cur = [], ""
    for raw in text.split("\n"):
        cur += raw.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        if cur.strip():
            out.append(cur.strip())
        cur = ""
    return out


def is_command(line):
    if line.startswith("#"):
        return True  # a comment line
    first = line.split()[0]
    return first in COMMANDS or any(first.startswith(c) for c in COMMANDS if c.endswith("/"))


def arguments(marker_text):
    """'"A" "B"' -> ["A", "B"]."""
    return re.findall(r'"((?:[^"\\]|\\.)*)"', marker_text)


def plan(page, block):
    """(kind, script or None, why) for one block."""
    line, lang, text, markers = block
    kinds = {k for k, _ in markers}
    where = f"{page}:{line}"
    if "skip" in kinds:
        why = [a for k, a in markers if k == "skip"][0]
        if not why:
            raise SystemExit(f"{where}: doc-test: skip needs a reason")
        return "skip", None, why
    if "text" in kinds:
        return "text", None, ""
    for k, a in markers:
        if k == "replace":
            args = arguments(a)
            if len(args) != 2 or args[0] not in text:
                raise SystemExit(f"{where}: doc-test: replace {a}: expected two quoted strings, the first in the block")
            text = text.replace(args[0], args[1])
    before = [a for k, a in markers if k == "before"]
    if lang == "yaml":
        name = f"doc-block-{line}.yaml"
        if re.search(r"^base:", text, re.M):
            # Sweep files name their base relative to themselves: place them with the shipped sweeps.
            path = f"experiments/sweeps/{name}"
            run = f"sca sweep {path} --out runs/{name}.sweep --plan > /dev/null"
        elif re.search(r"^model:", text, re.M):
            path = f"experiments/{name}"
            run = f"sca train {path} --out runs/{name}.run --backend cpu --quiet"
        else:
            raise SystemExit(f"{where}: a yaml block that is neither an experiment (model:) nor a sweep (base:); "
                             "make it one or mark it <!-- doc-test: skip WHY -->")
        return "config", before + [f"cat > {path} <<'DOC_BLOCK_EOF'\n{text}DOC_BLOCK_EOF", run], ""
    if lang == "python":
        return "python", before + [f"{sys.executable} - <<'DOC_BLOCK_EOF'\n{text}DOC_BLOCK_EOF"], ""
    commands = logical_lines(text)
    if lang == "text":
        return "text", None, ""
    if lang in ("", "sh", "bash", "console") and commands and all(is_command(c) for c in commands):
        return "commands", before + commands, ""
    raise SystemExit(f"{where}: a block that is not all commands ({commands[:1]}); "
                     "mark it <!-- doc-test: text --> or <!-- doc-test: skip WHY -->")


def main():
    sca_binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    list_only = "--list" in sys.argv
    build = os.path.dirname(sca_binary)
    pages = ["README.md"] + sorted(os.path.join("docs", p) for p in os.listdir(os.path.join(src, "docs")) if p.endswith(".md"))
    failures, counts, total_start = [], {}, time.time()
    for page in pages:
        blocks = blocks_of(os.path.join(src, page))
        planned = [(b, *plan(page, b)) for b in blocks]
        for b, kind, _, why in planned:
            counts[kind] = counts.get(kind, 0) + 1
            if list_only:
                print(f"{page}:{b[0]}: {kind}{' (' + why + ')' if why else ''}")
        if list_only:
            continue
        work = tempfile.mkdtemp(prefix="sca-doc-")
        try:
            for d in ("experiments", "docs", "tools"):
                shutil.copytree(os.path.join(src, d), os.path.join(work, d), symlinks=True)
            os.symlink(build, os.path.join(work, "build"))
            env = dict(os.environ, PATH=build + os.pathsep + os.environ["PATH"],
                       PYTHONPATH=os.path.join(src, "python") + os.pathsep + os.environ.get("PYTHONPATH", ""),
                       PYTHONDONTWRITEBYTECODE="1")
            start = time.time()
            for b, kind, script, why in planned:
                if script is None:
                    continue
                t0 = time.time()
                body = "set -euo pipefail\nexec 2>&1\n" + "\n".join(script) + "\n"
                r = subprocess.run(["bash", "-c", body], cwd=work, env=env, stdout=subprocess.PIPE, text=True)
                status = "ok" if r.returncode == 0 else f"FAILED (exit {r.returncode})"
                print(f"{page}:{b[0]}: {kind} {status} {time.time() - t0:.1f} s")
                if r.returncode != 0:
                    failures.append(f"{page}:{b[0]}")
                    print("    " + "\n    ".join(script).replace("\n", "\n    "))
                    print("  output:\n    " + r.stdout[-4000:].replace("\n", "\n    "))
            print(f"{page}: {time.time() - start:.1f} s")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("blocks: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f"; {time.time() - total_start:.1f} s in all")
    if failures:
        raise SystemExit("doc blocks that failed: " + ", ".join(failures))


if __name__ == "__main__":
    main()
