"""Alembic environment and revisions; shipped inside the package so the image carries them."""
