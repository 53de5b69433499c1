"""Joint projection and clustering by gradient manifold optimisation (``manifold_gmm``).

Liu, Guo & Wang, "Joint Representation Learning and Clustering via Gradient-Based Manifold
Optimization", arXiv 2604.13484 (2026). Only the abstract is public; the model, the algorithm and
the experiments follow the brief's reconstruction (``shared/studies/manifold_gmm.md``).

Modules, in the order of the paper's story:

``preprocessing``   whitening of the top-p PCA directions (ddof 1), via `initlab.data.features`
``stiefel``         St(p, d): tangent projection, QR retraction, random points
``gmm``             the penalised full-covariance GMM on projected data (E-step, M-step, objective)
``algorithm``       block-alternating EM + Riemannian Armijo ascent on W (the linear family)
``nn_map``          the neural-network family (torch), output-whitened
``initialization``  the init axis: lda_kmeans, pca, random(r), multistart(R)
``synthetic``       the brief's make_synth3 generator and its true signal subspace
``baselines``       k-means, GMM, PCA+k-means, PCA+GMM, spectral, supervised LDA+GMM
``metrics``         Hungarian accuracy, NMI, ARI
``experiment``      one sweep point -> xarray.Dataset
``claims``, ``figures``
"""
