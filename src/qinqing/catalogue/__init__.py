"""The policy catalogue: policies as YAML text with metadata, owned by a department, draft or published."""

from qinqing.catalogue.load import LoadReport, load_directory
from qinqing.catalogue.store import CatalogueStore, PolicyEntry

__all__ = ["CatalogueStore", "LoadReport", "PolicyEntry", "load_directory"]
