"""Wheel layout only (the project is described in pyproject.toml): the repository's data folders that the
installed package needs ship inside it, under host_bridge/_shipped/ (host_bridge/package_data.py reads them)."""

from setuptools import find_packages, setup

SHIPPED = {  # package in the wheel -> folder of the repository
    "host_bridge._shipped.boards": "hardware/boards",
    "host_bridge._shipped.board_schema": "hardware/schema",
    "host_bridge._shipped.enclosure": "hardware/enclosure",
    "host_bridge._shipped.micropython": "tools/micropython",
}

setup(packages=find_packages(include=["host_bridge", "host_bridge.*", "firmware", "firmware.*"]) + list(SHIPPED),
      package_dir=SHIPPED)
