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

    def _decoded(self, Z):
        """The modelled columns of encoded rows Z, at their places in the table.

        A list of every column (None for the dependent ones of the
        relations), and the dtypes of that list.
        """
        n_features = len(self.kinds_)
        out = [None] * n_features
        numeric = self.numeric_inverse(Z[:, : self.n_numeric_])
        for col, j in enumerate(self._numeric):
            out[j] = numeric[:, col]
        start = self.n_numeric_
        draws = None
        for i, (j, levels) in enumerate(
            zip(self._categorical, self.categories_, strict=True)
        ):
            chosen = np.argmax(Z[:, start : start + levels.size], axis=1)
            out[j] = levels[chosen]
            pool = getattr(self, "_pools", {}).get(i)
            if pool is not None:
                pooled = np.flatnonzero(chosen == levels.size - 1)
                draws = _draws_for(Z) if draws is None else draws
                out[j][pooled] = pool[0][draws.choice(pool[0].size, pooled.size,
                                                      p=pool[1])]
            start += levels.size
        dtypes = self._dtypes
        if self._relations is not None:
            full = [None] * self.n_features_in_
            for j, values in zip(self._relations.free, out, strict=True):
                full[j] = values
            out, dtypes = full, self._all_dtypes
        return out, dtypes

    def _unseen_combinations(self, Z):
        """Rows of encoded Z whose sources of a several-source map meet unseen.

        Such a row's dependent column would take the map's fallback (see
        ``relations``); a model that samples draws those rows again.  Z
        decodes as :meth:`inverse_transform` decodes it, without the gaps.
        """
        if self._relations is None:
            return np.zeros(Z.shape[0], dtype=bool)
        return self._relations.unseen_combinations(self._decoded(Z)[0])

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
