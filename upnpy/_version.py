"""The version of upnpy (a leaf: every module that names it imports it from here)."""

__version__ = "0.1.0"
