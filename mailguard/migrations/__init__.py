"""Alembic migration environment and revisions for mailguard's schema.

Shipped inside the package so that a non-editable ``pip install`` can migrate; the
top-level ``migrations`` entry of the source tree is a symlink to this directory.
"""
