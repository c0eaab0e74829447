"""Progress bars that turn themselves off when nobody is watching.

Every ``progress=True`` argument in physdl goes through :func:`enabled`: a bar is drawn only when
it was asked for *and* standard error is a terminal (or a Jupyter kernel, where ``tqdm.auto``
draws a widget).  Output redirected to a file, a pipe or a CI log stays free of bar redraws.

The environment variable ``PHYSDL_PROGRESS`` overrides the terminal test:

* ``PHYSDL_PROGRESS=1`` (or ``true``, ``yes``, ``on``): bars that were asked for are drawn even
  when standard error is not a terminal;
* ``PHYSDL_PROGRESS=0`` (or ``false``, ``no``, ``off``): no bar is ever drawn.

Any other value (or none) leaves the terminal test in charge.  A bar that was not asked for
(``progress=False``) is never drawn.
"""

from __future__ import annotations

import os
import sys

ENV = "PHYSDL_PROGRESS"
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def _interactive(stream) -> bool:
    """True when ``stream`` is a terminal, or when running inside a Jupyter kernel."""
    if stream is None:  # e.g. pythonw, or a closed stderr
        return False
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed file
        return False
    if "ipykernel" in sys.modules:  # the kernel's streams are not ttys, but tqdm.auto draws widgets
        try:
            shell = sys.modules["IPython"].get_ipython()
        except (KeyError, AttributeError):
            return False
        return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
    return False


def enabled(requested, stream=None) -> bool:
    """Whether a progress bar asked for with ``requested`` should be drawn.

    Parameters
    ----------
    requested : bool
        The caller's ``progress=`` argument.
    stream : file, optional
        Where the bar is written (default: ``sys.stderr``, as tqdm does).

    Returns
    -------
    bool: ``requested`` and (``PHYSDL_PROGRESS`` says on, or, when it says nothing, ``stream``
    is a terminal or a Jupyter kernel's); False whenever ``PHYSDL_PROGRESS`` says off.
    """
    if not requested:
        return False
    env = os.environ.get(ENV, "").strip().lower()
    if env in _OFF:
        return False
    if env in _ON:
        return True
    return _interactive(sys.stderr if stream is None else stream)


def bar(iterable=None, *, progress=False, **kwargs):
    """A ``tqdm.auto`` bar, disabled unless :func:`enabled` says ``progress`` should show.

    Takes tqdm's arguments (``total``, ``desc``, ``unit``, ``initial``, ``leave``, ...); ``disable``
    is set from ``progress``.  A disabled bar still works as an iterator and a context manager.
    """
    from tqdm.auto import tqdm

    kwargs.pop("disable", None)
    return tqdm(iterable, disable=not enabled(progress, kwargs.get("file")), **kwargs)
