"""How ``TableEncoder`` assembles decoded columns into a table like the training one."""

import hashlib

import numpy as np

__all__ = ["POOLED", "Decoder"]


class Decoder:
    """The decoding half of :class:`~skgen.preprocessing.TableEncoder`."""

    def _identifiers(self):
        if self._relations is None:
            return set()
        return {r.target for r in self._relations.items if r.kind == "id"}

    def _integer_columns(self):
        return [kind == "integer" or getattr(dtype, "kind", "") in "iu"
                for kind, dtype in zip(self._all_kinds, self._all_dtypes, strict=True)]

    def _assemble(self, out, dtypes):
        if self._is_frame:
            import pandas as pd

            data = {}
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                names = list(range(len(out)))
            for j, (name, values, dtype) in enumerate(
                zip(names, out, dtypes, strict=True)
            ):
                if j in getattr(self, "_times", {}):
                    data[name] = self._times[j].from_counts(values)
                elif (j in self._identifiers()
                      and isinstance(dtype, pd.CategoricalDtype)):
                    data[name] = pd.Categorical(values)  # new identifiers
                else:
                    data[name] = pd.Series(values).astype(dtype)
            return pd.DataFrame(data)
        if "categorical" in self._all_kinds:
            return np.column_stack(out).astype(object)
        return np.column_stack(out).astype(self._array_dtype)


class _Pooled:
    """The output of a categorical column's pooled rare levels."""

    def __repr__(self):
        return "<pooled levels>"

    def __reduce__(self):
        return "POOLED"


POOLED = _Pooled()


def _draws_for(array):
    """A generator seeded by the bytes of ``array``: the same rows, the same draws."""
    digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _missing(values):
    import pandas as pd

    if values.dtype == object:
        return np.asarray(pd.isna(values), dtype=bool)
    return np.isnan(values)
