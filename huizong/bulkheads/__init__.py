"""Separate reading and writing processes, so that one file's crash is that file's rejection."""
