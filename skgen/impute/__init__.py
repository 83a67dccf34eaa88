"""Imputation of missing values by conditioning a density model."""

from skgen.impute._generative import GenerativeImputer

__all__ = ["GenerativeImputer"]
