"""Sphinx directive ``runscript``: show a Python script and the output of running it at build time.

    ```{runscript} tutorials/ch05_sampling.py
    ```

The script runs in a fresh namespace in the build process, with matplotlib on the Agg backend and the
current directory set to a temporary folder (so files it writes do not land in the source tree).  Any
exception stops the build with the script's name and traceback: a tutorial that breaks fails the docs.
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import tempfile
import time
import traceback
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.errors import ExtensionError


class RunScript(Directive):
    required_arguments = 1
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        rel, path = env.relfn2path(self.arguments[0])
        path = Path(path)
        env.note_dependency(rel)
        if not path.is_file():
            raise ExtensionError(f"runscript: {path} does not exist")
        source = path.read_text()
        import matplotlib
        matplotlib.use("Agg")
        out = io.StringIO()
        cwd = os.getcwd()
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                with contextlib.redirect_stdout(out):
                    runpy.run_path(str(path), run_name="__main__")
            except SystemExit as exc:
                if exc.code not in (0, None):
                    raise ExtensionError(f"runscript: {path} exited with {exc.code}\n{out.getvalue()}")
            except BaseException:
                raise ExtensionError(f"runscript: {path} failed\n{traceback.format_exc()}")
            finally:
                os.chdir(cwd)
                import matplotlib.pyplot as plt
                plt.close("all")
        elapsed = time.perf_counter() - t0
        code = nodes.literal_block(source, source, language="python")
        label = nodes.paragraph(text=f"Output (run when these docs were built, {elapsed:.1f} s):")
        printed = out.getvalue().rstrip() or "(no output)"
        result = nodes.literal_block(printed, printed, language="text")
        return [code, label, result]


def setup(app):
    app.add_directive("runscript", RunScript)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
