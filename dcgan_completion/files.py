"""Safe outputs: atomic writes, and output locations checked before any work starts.

Every file this project writes goes through ``atomic_path`` (or ``atomic_write`` for
text): the data is written under a hidden temporary name in the destination folder and
renamed over the real name only once complete, so an interrupt, a crash or a full disk
never leaves a cut-off file under a real output name. The temporary name starts with a
dot, so image listings (``images.list_images``) never pick it up.

``ensure_output_dir`` / ``check_new_file`` are called before a command starts its work,
so that a folder below a regular file, a read-only folder or an existing file is
reported at once with a message, not after hours of training. ``unreadable_reason`` says
in words why an input file the user named could not be opened.
"""

from __future__ import annotations

import contextlib
import os
import uuid


class OutputError(ValueError):
    """An output location that cannot be used; the message names it and says why."""


def _temporary_name(path: str) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    ext = os.path.splitext(name)[1]     # writers that pick the format by extension need it
    return os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.partial{ext}")


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    On any exception (KeyboardInterrupt included) the temporary file is removed and
    ``path`` is left as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = _temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w", **open_kwargs):
    """``open(path, mode)`` that only replaces ``path`` once the ``with`` block succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def unreadable_reason(error: OSError) -> str:
    """Why a file the user named could not be opened, in words: "not found", "is a folder",
    or "cannot be read: " and the system's reason."""
    if isinstance(error, FileNotFoundError):
        return "not found"
    if isinstance(error, IsADirectoryError):
        return "is a folder"
    return f"cannot be read: {error.strerror or error}"


def _explain(path: str, error: OSError) -> str:
    """Why ``path`` cannot be a folder we write into, in words."""
    probe = os.path.abspath(path)
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        return f"{probe} is a file, not a folder"
    if isinstance(error, PermissionError):
        return f"no permission to write in {probe or path}"
    return error.strerror or str(error)


def ensure_output_dir(path: str, *, must_be_empty: bool = False, what: str = "output folder") -> str:
    """Create ``path`` if needed and check that files can be written in it.

    ``must_be_empty``: refuse a folder that already holds anything (nothing a user had
    is ever overwritten). Raises OutputError naming the folder and the reason.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{what} {path!r} is a file, not a folder")
    if must_be_empty and os.path.isdir(path) and os.listdir(path):
        raise OutputError(f"{what} {path!r} exists and is not empty; choose a new one "
                          "(nothing already there is overwritten)")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".write-test-{uuid.uuid4().hex[:8]}")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise OutputError(f"{what} {path!r} cannot be used: {_explain(path, e)}") from e
    return path


def check_new_file(path: str, *, what: str = "output file") -> str:
    """Refuse an existing ``path``; make sure its folder exists (or can be made) and is
    writable. Raises OutputError naming the file and the reason."""
    if os.path.isdir(path):
        raise OutputError(f"{what} {path!r} is a folder; give a file name")
    if os.path.lexists(path):
        raise OutputError(f"{what} {path!r} exists; choose a new name (nothing is overwritten)")
    ensure_output_dir(os.path.dirname(os.path.abspath(path)), what=f"the folder of {what}")
    return path


def missing_folders(*paths: str) -> list[str]:
    """The folders among ``paths`` and above them that do not exist yet, deepest first:
    what a command that refuses to run removes again (``remove_empty``), so that a refusal
    leaves no empty folder behind."""
    missing = []
    for path in paths:
        path = os.path.abspath(path)
        while path and not os.path.exists(path) and path not in missing:
            missing.append(path)
            path = os.path.dirname(path)
    return sorted(missing, key=lambda p: p.count(os.sep), reverse=True)


def remove_empty(folders: list[str]) -> None:
    """Remove those of ``folders`` (deepest first) that are empty; others are left alone."""
    for folder in folders:
        with contextlib.suppress(OSError):
            os.rmdir(folder)

