"""The baselines the brief runs side by side with MGMM (brief §5), all from scikit-learn.

Each takes features and returns hard labels (n,). ``raw`` features are the data as loaded
(synthetic X, digits/16, MNIST pixels/255); ``white`` are the whitened p-dim scores MGMM sees.
PCA is `initlab.data.features.fit_pca` (ddof 1, not whitened), the study's shared PCA.

======================  =====================================================================
``kmeans``              KMeans(K, n_init=10) on raw features
``gmm``                 GaussianMixture(K, 'full', n_init, reg_covar=1e-3) on the whitened input
``pca_kmeans``          PCA(d) of raw features, then KMeans(K, n_init=10)
``pca_gmm``             PCA(d) of raw features, then a full GMM (reg_covar ``pca_reg``)
``spectral``            SpectralClustering(K, nearest_neighbors, n_neighbors=10) on raw features
``lda_gmm``             LDA(d) fitted with the TRUE labels on raw features, then a full GMM:
                        the supervised upper reference, not a competitor. (The brief's
                        reference values, 0.969 digits / 0.877 MNIST, are reproduced on raw
                        features; on the whitened p-dim input MNIST gives about 0.66.)
======================  =====================================================================
"""

from __future__ import annotations

import warnings

from sklearn.cluster import KMeans, SpectralClustering
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.mixture import GaussianMixture

from initlab.data.features import fit_pca

__all__ = [
    "BASELINES",
    "UNSUPERVISED",
    "gmm",
    "kmeans",
    "lda_gmm",
    "pca_gmm",
    "pca_kmeans",
    "spectral",
]

UNSUPERVISED = ("kmeans", "gmm", "pca_kmeans", "pca_gmm", "spectral")
#: GaussianMixture on the whitened input where `gmm` ran on raw features (synthetic data).
EXTRA = ("gmm_white",)
BASELINES = UNSUPERVISED + ("lda_gmm",)


def kmeans(x, k, random_state, n_init=10):
    return KMeans(k, n_init=n_init, random_state=random_state).fit_predict(x)


def gmm(x, k, random_state, n_init=2, reg_covar=1e-3):
    model = GaussianMixture(
        k, covariance_type="full", n_init=n_init, reg_covar=reg_covar, random_state=random_state
    )
    return model.fit(x).predict(x)


def pca_kmeans(x, k, d, random_state):
    return kmeans(fit_pca(x, d).transform(x), k, random_state)


def pca_gmm(x, k, d, random_state, n_init=2, reg_covar=1e-3):
    return gmm(fit_pca(x, d).transform(x), k, random_state, n_init, reg_covar)


def spectral(x, k, random_state, n_neighbors=10):
    model = SpectralClustering(
        k, affinity="nearest_neighbors", n_neighbors=n_neighbors, random_state=random_state
    )
    with warnings.catch_warnings():  # "graph is not fully connected": scored as it is
        warnings.simplefilter("ignore", UserWarning)
        return model.fit_predict(x)


def lda_gmm(x, y, k, d, random_state, n_init=2, reg_covar=1e-3):
    with warnings.catch_warnings():  # constant MNIST border pixels: "Variables are collinear"
        warnings.simplefilter("ignore", UserWarning)
        z = LinearDiscriminantAnalysis(n_components=d).fit(x, y).transform(x)
    return gmm(z, k, random_state, n_init, reg_covar)
