"""scikit-learn's outlier-detection conventions, shared by every skgen model."""

import numpy as np
from sklearn.base import OutlierMixin

__all__ = ["OutlierConventionsMixin"]


class OutlierConventionsMixin(OutlierMixin):
    """``offset_``, ``decision_function`` and ``predict`` from ``score_samples``.

    The conventions of :class:`~sklearn.ensemble.IsolationForest`: ``offset_``
    is the ``contamination`` percentile of the training scores,
    ``decision_function = score_samples - offset_`` (negative for outliers)
    and ``predict`` returns -1 for outliers and +1 for inliers;
    ``fit_predict`` comes from :class:`~sklearn.base.OutlierMixin`. A class
    using it has a ``contamination`` parameter and calls ``_set_offset`` with
    the training scores at the end of ``fit``.

    A score of ``-inf`` (a row of zero density) is the most abnormal score:
    its decision is ``-inf`` and its label -1.
    """

    def _set_offset(self, training_scores):
        scores = np.asarray(training_scores, dtype=np.float64)
        # -inf scores (zero density) are the most abnormal rows, and are
        # fine as long as the percentile lies above them; numpy interpolates
        # into -inf as NaN, and a threshold of -inf would flag no row.
        with np.errstate(invalid="ignore"):
            offset = float(np.percentile(scores, 100.0 * self.contamination))
        if not np.isfinite(offset):
            n_zero = int(np.sum(np.isneginf(scores)))
            raise ValueError(
                f"The contamination={self.contamination} percentile of the "
                f"training scores is not finite: {n_zero} of the {len(scores)} "
                "training rows score -inf (zero density under the model), too "
                "many for a threshold between them and the other rows. Use a "
                "model whose density covers the training data (for instance a "
                "Gaussian kernel, or a wider bandwidth), or raise contamination."
            )
        self.offset_ = offset

    def decision_function(self, X):
        """Shifted scores: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each sample as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where :meth:`decision_function` is negative, +1 elsewhere.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)
