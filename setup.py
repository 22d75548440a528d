"""Kept thin on purpose: everything lives in setup.cfg."""
from setuptools import setup

setup()
