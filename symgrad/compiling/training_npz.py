"""Reading an ``.npz`` from someone else (a checkpoint, a data file) without being made to unpack a
zip bomb: a member compressed so that it expands many-fold to a huge array.

np.load reads a member whole when it is asked for; a 1.5 MB file of deflated zeros held a 1.6 GB
array, read in 20 s (a 100 MB file can hold 100 GB). `bomb` names such a member from the zip's
directory, before anything is decompressed; the directory's sizes bound what zipfile reads (it stops
at a member's stated size), so a lying directory cannot get more past it. What symgrad writes is
stored uncompressed (``np.savez``), and ``np.savez_compressed`` of real numbers shrinks them a few
times at most: neither comes near the limits below.
"""
from __future__ import annotations

import zipfile

# A member is refused when it expands more than RATIO-fold AND to more than LARGE bytes: a small
# member (or one of all-zero biases) is never refused, whatever its ratio.
RATIO = 100
LARGE = 64 * 2**20


def bomb(path) -> str | None:
    """Why the zip archive ``path`` is not read (a member that expands too far), or None. A file that is
    no zip archive is left to the caller's own check (None)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for info in infos:
        if info.file_size > LARGE and info.file_size > RATIO * max(info.compress_size, 1):
            return (f"its member {info.filename!r} expands from {info.compress_size} bytes to "
                    f"{info.file_size} ({info.file_size // max(info.compress_size, 1)}-fold; a zip bomb?), "
                    f"which is not read: symgrad reads a member that expands at most {RATIO}-fold when it is "
                    f"over {LARGE // 2**20} MiB (np.savez and np.savez_compressed of real arrays do not "
                    f"come near)")
    return None
