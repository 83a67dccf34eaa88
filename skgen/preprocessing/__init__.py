"""Encoders that make tables into numbers and back."""

from skgen.preprocessing._table import TableEncoder

__all__ = ["TableEncoder"]
