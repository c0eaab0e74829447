import io

import pytest

import physdl


def test_backends_report_reasons():
    b = physdl.backends()
    assert set(b) == {"cpp", "numba", "cuda"}
    for status in b.values():
        assert status.available or status.reason


def test_set_backend_roundtrip():
    old = physdl.get_backend()
    try:
        physdl.set_backend("numba")
        assert physdl.get_backend() == "numba"
        with pytest.raises(ValueError, match="backend must be None or one of"):
            physdl.set_backend("fortran")
        assert physdl.get_backend() == "numba"
    finally:
        physdl.set_backend(old)


def test_show_config_mentions_build():
    buf = io.StringIO()
    physdl.show_config(file=buf)
    text = buf.getvalue()
    assert "physdl" in text and "BLAS" in text and "numba: available" in text
    if physdl.backends()["cpp"].available:
        assert "OpenMP" in text and "flags" in text


def test_set_num_threads_rejects_bad(threads):
    with pytest.raises(ValueError, match="n must be >= 1"):
        physdl.set_num_threads(0)
