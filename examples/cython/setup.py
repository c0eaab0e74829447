"""Build the example against the installed physdl:  python setup.py build_ext --inplace

Only the headers (physdl.get_include()) and the .pxd files (physdl.get_pxd_include()) are needed:
the kernels are reached at run time through the capsule physdl._core._capi, so nothing is linked.
"""
import numpy
import physdl
from Cython.Build import cythonize
from setuptools import Extension, setup

ext = Extension("metropolis", ["metropolis.pyx"], include_dirs=[physdl.get_include(), numpy.get_include()],
                extra_compile_args=["-O2", "-std=c++17"], language="c++")
setup(name="physdl-cython-example",
      ext_modules=cythonize([ext], include_path=[physdl.get_pxd_include()], language_level=3))
