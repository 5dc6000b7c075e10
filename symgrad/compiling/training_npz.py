"""Reading an ``.npz`` from someone else (a checkpoint, a data file) without being made to unpack a
zip bomb: a member compressed so that it expands many-fold to a huge array.

np.load reads a member whole when it is asked for; a 1.5 MB file of deflated zeros held a 1.6 GB
array, read in 20 s (a 100 MB file can hold 100 GB). `bomb` names such a member from the zip's
directory, before anything is decompressed, and adds the members up: twenty members of 60 MiB each
(each under the limit on its own) made a 1.2 MB checkpoint take 2.5 GB to read; the directory's sizes bound what zipfile reads (it stops
at a member's stated size), so a lying directory cannot get more past it. What symgrad writes is
stored uncompressed (``np.savez``), and ``np.savez_compressed`` of real numbers shrinks them a few
times at most: neither comes near the limits below.
"""
from __future__ import annotations

import zipfile

# A member — and the members together — are refused when they expand more than RATIO-fold AND to
# more than LARGE bytes: a small file (or one of all-zero biases) is never refused, whatever its ratio.
RATIO = 100
LARGE = 64 * 2**20


def bomb(path) -> str | None:
    """Why the zip archive ``path`` is not read (a member, or all of them together, expanding too far),
    or None. A file that is
    no zip archive is left to the caller's own check (None)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    why = (f"symgrad reads a member, and the members together, expanding at most {RATIO}-fold when over "
           f"{LARGE // 2**20} MiB (np.savez and np.savez_compressed of real arrays do not come near)")
    for info in infos:
        if info.file_size > LARGE and info.file_size > RATIO * max(info.compress_size, 1):
            return (f"its member {info.filename!r} expands from {info.compress_size} bytes to "
                    f"{info.file_size} ({info.file_size // max(info.compress_size, 1)}-fold; a zip bomb?), "
                    f"which is not read: {why}")
    whole = sum(info.file_size for info in infos)
    packed = max(sum(info.compress_size for info in infos), 1)
    if whole > LARGE and whole > RATIO * packed:
        return (f"its {len(infos)} members expand from {packed} bytes to {whole} together "
                f"({whole // packed}-fold; a zip bomb?), which is not read: {why}")
    return None
