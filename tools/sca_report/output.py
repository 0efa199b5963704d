"""Writing figures and pages: PNGs at a fixed DPI, every file through an unpredictable temporary and an atomic rename."""

import io
import os
import tempfile

import matplotlib.pyplot as plt


DPI = 100


def save(fig, path):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return path


def write_atomic(path, data):
    """Through a fresh, unpredictable temporary (O_EXCL, no symlink followed), then an atomic rename."""
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.sca-tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def safe_name(text):
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60] or "runs"
