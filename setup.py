"""Builds the optional C decoders (``rdbtools._speedups``); everything else is in
pyproject.toml. When no C compiler is available the package installs without them and
uses the pure-Python decoders."""

from setuptools import Extension, setup

# one file per area, sharing rdbtools/_speedups/speedups.h (which lists what each holds)
SOURCES = ["module", "rdb_decode", "lzf", "rdb_encode", "make", "memory", "resp", "aof_walk"]

setup(
    ext_modules=[
        Extension(
            "rdbtools._speedups",
            [f"rdbtools/_speedups/{name}.c" for name in SOURCES],
            depends=["rdbtools/_speedups/speedups.h"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
