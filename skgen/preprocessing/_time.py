"""Dates, times and durations as integer columns of their own resolution.

A datetime column (time zone included) or a timedelta column is modelled as
the count of its resolution unit (the coarsest of day, hour, minute, second,
millisecond, microsecond and nanosecond that every value is a whole number
of) since its earliest value: an integer column, so that decoded values
fall on that resolution, within the training range, and come back with
the column's dtype and time zone.  The unit is measured from the earliest
value, so daily times at 09:00 stay at 09:00; a zoned column counts its
wall-clock time, so that they stay at 09:00 where they are.
"""

import numpy as np

_UNITS_NS = [86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1]

__all__ = ["TimeColumn", "is_time_dtype"]


def is_time_dtype(dtype):
    """Whether a pandas dtype is a datetime (zoned or not) or a timedelta."""
    import pandas as pd

    types = pd.api.types
    return types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype)


class TimeColumn:
    """The map between a time column and its integer counts, fitted on it."""

    def __init__(self, column):
        import pandas as pd

        self.dtype = column.dtype
        self.tz = getattr(column.dtype, "tz", None)
        self.is_delta = pd.api.types.is_timedelta64_dtype(column.dtype)
        ns, missing = self._nanoseconds(column)
        seen = ns[~missing]
        self.unit = next(
            (u for u in _UNITS_NS if seen.size and not np.any((seen - seen.min()) % u)),
            1,
        )
        self.origin = int(seen.min()) if seen.size else 0

    def _nanoseconds(self, column):
        import pandas as pd

        s = pd.Series(column)
        if self.tz is not None:
            s = s.dt.tz_convert(self.tz).dt.tz_localize(None)
        kind = "timedelta64[ns]" if self.is_delta else "datetime64[ns]"
        values = s.to_numpy(dtype=kind)
        return values.view(np.int64), np.isnat(values)

    def to_counts(self, column):
        """The column as a nullable integer Series of units since the origin."""
        import pandas as pd

        ns, missing = self._nanoseconds(column)
        counts = np.floor_divide(ns - self.origin, self.unit)
        index = getattr(column, "index", None)
        return pd.Series(pd.array(np.where(missing, 0, counts), dtype="Int64"),
                         index=index).mask(missing)

    def from_counts(self, counts):
        """Decoded counts (floats, NaN missing) back as a Series of the dtype."""
        import pandas as pd

        counts = np.asarray(counts, dtype=np.float64)
        missing = np.isnan(counts)
        whole = np.where(missing, 0, np.rint(counts)).astype(np.int64)
        kind = "timedelta64[ns]" if self.is_delta else "datetime64[ns]"
        values = (self.origin + whole * self.unit).view(kind).copy()
        values[missing] = np.array("NaT", dtype=kind)
        s = pd.Series(values)
        if self.tz is not None:
            s = s.dt.tz_localize(self.tz, ambiguous="NaT", nonexistent="shift_forward")
        return s.astype(self.dtype)
