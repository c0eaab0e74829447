"""Shared harness for the Ctrl-C tests: run a child script, interrupt it, time the reaction.

The child prints ``ready`` once compiled and warmed up, then starts the long call inside
``try: ... except KeyboardInterrupt: print(time.time())``; anything it prints after ``ready`` and
before that time is returned too, so a child can report its state as JSON on the last line.
"""

import json
import signal
import subprocess
import sys
import time


def sigint_reaction(child: str, *args, delay: float = 0.3, timeout: float = 120.0):
    """Run ``child`` (Python source) with ``args``, send SIGINT ``delay`` s after ``ready``.

    Returns ``(seconds from the signal to the handler, last stdout line parsed as JSON)``; fails
    when the child finished the work before the signal (``finished``) or exited with an error.
    """
    with subprocess.Popen([sys.executable, "-c", child, *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        sent, out, err = _interrupt(proc, delay, timeout)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines and lines[-1] != "finished", "the work finished before the signal: make it longer"
    res = json.loads(lines[-1])
    t = res["t"] if isinstance(res, dict) else float(res)
    return t - sent, res


def _interrupt(proc, delay, timeout):
    try:
        line = proc.stdout.readline().strip()
        if line != "ready":
            proc.kill()
            raise AssertionError(f"child did not start: {line!r}\n{proc.communicate()[1]}")
        time.sleep(delay)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        return (sent, *proc.communicate(timeout=timeout))
    finally:
        if proc.poll() is None:
            proc.kill()


CHILD_PRELUDE = """
import json, sys, time
import numpy as np
def interrupted(work, **state):
    print("ready", flush=True)
    try:
        work()
        print("finished", flush=True)
    except KeyboardInterrupt:
        t = time.time()
        print(json.dumps({"t": t, **{k: v() for k, v in state.items()}}), flush=True)
"""
