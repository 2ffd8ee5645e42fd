"""Builds the optional C decoders (``rdbtools._speedups``); everything else is in
pyproject.toml. When no C compiler is available the package installs without them and
uses the pure-Python decoders."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rdbtools._speedups",
            ["rdbtools/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
