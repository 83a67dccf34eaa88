"""Gaps as data: the missing entries of a row as the GAN's own outputs.

The GAN models a row with gaps as its observed values and the pattern of its
gaps together.  Each categorical column with gaps gets one more level,
"missing", at the end of its block of logits; each numeric column with gaps
gets a block of two levels, "observed" then "missing", after all the
categorical blocks.  The critic sees a gap as the data show it: the missing
level in a categorical block, and in a numeric column the indicator block
with the value masked to the column's mean (0 in the standardised units of
the networks), for real and generated rows alike, so that the generator is
trained on the joint law of what is observed and where the gaps fall.

:class:`_GapLayout` maps encoded rows (``TableEncoder`` rows with NaN
numbers and all-zero blocks, or numeric rows with NaN) to the generator's
columns and back.
"""

import numpy as np

__all__ = ["_GapLayout"]


class _GapLayout:
    """The generator's columns for encoded rows with gaps.

    Parameters
    ----------
    n_numeric : int
        Numeric columns, first in the encoded rows.
    block_sizes : tuple of int
        The encoded rows' one-hot blocks, after the numeric columns.
    missing : bool ndarray of shape (n_samples, n_numeric + len(block_sizes))
        The gaps of the training rows, numeric columns then blocks.
    """

    def __init__(self, n_numeric, block_sizes, missing):
        self.n_numeric = n_numeric
        self.encoded_blocks = tuple(block_sizes)
        gappy = missing.any(axis=0)
        self.gap_columns = tuple(int(j) for j in np.flatnonzero(gappy[:n_numeric]))
        self.gap_blocks = tuple(bool(g) for g in gappy[n_numeric:])
        self.block_sizes = tuple(
            size + gap for size, gap in zip(block_sizes, self.gap_blocks, strict=True)
        ) + (2,) * len(self.gap_columns)
        # The generator's "missing" level of each gappy column, as a column of
        # its logits (after the numeric outputs).
        ends = np.cumsum(self.block_sizes)
        n_blocks = len(block_sizes)
        self.missing_levels = tuple(
            int(end - 1) for end, gap in zip(ends, self.gap_blocks + (True,) * len(
                self.gap_columns), strict=True) if gap
        )
        # The "observed" level of each numeric gap column's indicator block.
        self.observed_levels = tuple(int(end - 2) for end in ends[n_blocks:])

    @property
    def has_gaps(self):
        return bool(self.missing_levels)

    def missing_mask(self, Z):
        """Gaps of encoded rows: numeric columns then blocks."""
        blocks = [Z[:, start : start + size].sum(axis=1) == 0
                  for start, size in self._starts(self.n_numeric, self.encoded_blocks)]
        return np.column_stack([np.isnan(Z[:, : self.n_numeric]), *blocks])

    @staticmethod
    def _starts(start, sizes):
        for size in sizes:
            yield start, size
            start += size

    def model_rows(self, Z):
        """Encoded rows (NaN numbers, all-zero blocks) in the generator's columns.

        Numeric gaps stay NaN here: the networks' standardisation maps them
        to 0, the value the generator's masked outputs take.
        """
        missing = self.missing_mask(Z)
        parts = [Z[:, : self.n_numeric]]
        for i, (start, size) in enumerate(
                self._starts(self.n_numeric, self.encoded_blocks)):
            parts.append(Z[:, start : start + size])
            if self.gap_blocks[i]:
                parts.append(missing[:, [self.n_numeric + i]].astype(Z.dtype))
        for j in self.gap_columns:
            parts.append(np.column_stack([~missing[:, j], missing[:, j]]).astype(
                Z.dtype))
        return np.hstack(parts)

    def encoded_rows(self, M):
        """Generator rows (one-hot blocks) as encoded rows and their gaps.

        Returns ``(Z, missing)``: the encoded rows, a categorical gap an
        all-zero block (a numeric gap keeps the generator's value), and the
        mask of the gaps, numeric columns then blocks.
        """
        n = len(M)
        missing = np.zeros((n, self.n_numeric + len(self.encoded_blocks)), dtype=bool)
        numeric = M[:, : self.n_numeric].copy()
        blocks = []
        start = self.n_numeric
        for i, size in enumerate(self.encoded_blocks):
            blocks.append(M[:, start : start + size])
            if self.gap_blocks[i]:
                missing[:, self.n_numeric + i] = M[:, start + size] > 0.5
            start += size + self.gap_blocks[i]
        for j in self.gap_columns:
            missing[:, j] = M[:, start + 1] > 0.5
            start += 2
        return np.hstack([numeric, *blocks]), missing
