"""The third-party estimators a model file may hold, each stored as named arrays and numbers.

A detector's state may hold a few scikit-learn and PyOD estimators (an
EmbeddingOD's scaler and PyOD detector, a MelGMM's mixture). Each is stored here
by a schema of its own, under a stable name, and rebuilt from checked values
only: its constructor (which, for these classes, stores its arguments and does
nothing else) and then its fitted attributes. No method of a rebuilt estimator
runs at load, with two bounded exceptions, both pure computations on checked
arrays that touch no file:

- an isolation forest's per-tree path lengths are recomputed from its trees, as
  scikit-learn's own ``fit`` computes them, once every node index of every tree
  has been checked to lie inside its tree (children after their parent, so no
  walk can loop or leave the table; features inside the forest's);
- the neighbour index of PyOD's KNN and LUNAR is built from the stored training
  vectors by :class:`sklearn.neighbors.NearestNeighbors`, a deterministic
  construction of a search structure, not a refit: nothing is learned and the
  stored training scores are kept as they are.

LUNAR's network is built without drawing a random number (on torch's ``meta``
device) and given the stored weights, checked against its layers' shapes.

Examples
--------
>>> sorted(CODECS)[:3]
['pyod.IForest', 'pyod.KNN', 'pyod.LUNAR']
"""

from __future__ import annotations

import numpy as np

from ..detectors.schema import AnyOf, Array, Bool, Estimator, Float, Int, ListOf, MapOf, NoneOr, Null, Str

__all__ = ["CODECS", "codec_named", "codec_of"]

_SIZE = 2**31 - 1
_FEATURES = 2**20
_SEED = NoneOr(Int(0, 2**32 - 1))
_N_JOBS = NoneOr(Int(-1024, 1024))
# What PyOD's detectors record at fit (BaseDetector._process_decision_scores), as they record it.
_PYOD_FITTED = {
    "_classes": Int(1, 2),
    "decision_scores_": Array("f", ("n_train",)),
    "threshold_": Float(finite=False),
    "labels_": Array("iu", ("n_train",), lo=0, hi=1),
    "_mu": Float(finite=False),
    "_sigma": Float(finite=False),
}
# Metrics of a neighbour search that are a name, not a function.
_METRICS = Str("minkowski", "euclidean", "manhattan", "chebyshev", "cityblock", "l1", "l2", "cosine", "sqeuclidean")
_NEIGHBOUR_SEARCH = {
    "algorithm": Str("auto", "ball_tree", "kd_tree", "brute"),
    "leaf_size": Int(1, 100_000),
    "metric": _METRICS,
    "p": AnyOf(Int(1, 100), Float(1.0, 100.0)),
    "metric_params": Null(),
    "n_jobs": _N_JOBS,
}


class _Codec:
    """How one estimator class is stored: its parameters, its fitted state, and how it is rebuilt."""

    params_schema = {}
    state_schema = {}

    def __init__(self, name, load_class):
        self.name = name
        self._load_class = load_class

    @property
    def cls(self):
        return self._load_class()

    def params(self, estimator):
        return estimator.get_params(deep=False)

    def state(self, estimator):
        """The fitted attributes named in the state schema."""
        return {k: v for k, v in vars(estimator).items() if k in self.state_schema}

    def build(self, params, state):
        """The estimator from checked ``params`` and, when fitted, checked ``state``."""
        estimator = self.cls(**params)
        if state is not None:
            estimator.__dict__.update(state)
        return estimator


def _imported(module, name):
    """A loader of class ``name`` of ``module``, imported when first needed (saving, or rebuilding one)."""

    def load_class():
        import importlib

        # The module is one of the constants of this file, never a name read from a model file.
        return getattr(importlib.import_module(module), name)

    return load_class


class _StandardScaler(_Codec):
    params_schema = {"copy": Bool(), "with_mean": Bool(), "with_std": Bool()}
    state_schema = {
        "n_features_in_": Int(1, _FEATURES, dim="n_features"),
        "n_samples_seen_": AnyOf(Int(0, _SIZE), Float(0.0), Array("iuf", ("n_features",))),
        "mean_": NoneOr(Array("f", ("n_features",))),
        "var_": NoneOr(Array("f", ("n_features",))),
        "scale_": NoneOr(Array("f", ("n_features",))),
    }


class _MinMaxScaler(_Codec):
    params_schema = {"copy": Bool(), "clip": Bool(), "feature_range": ListOf(Float(), 2, 2, as_tuple=True)}
    state_schema = {
        "n_features_in_": Int(1, _FEATURES, dim="n_features"),
        "n_samples_seen_": Int(0, _SIZE),
        **{name: Array("f", ("n_features",)) for name in ("scale_", "min_", "data_min_", "data_max_", "data_range_")},
    }


class _PCA(_Codec):
    params_schema = {
        "copy": Bool(),
        "iterated_power": AnyOf(Str("auto"), Int(0, 10_000)),
        "n_components": NoneOr(AnyOf(Int(1, _FEATURES), Float(0.0, 1.0), Str("mle"))),
        "n_oversamples": Int(0, 10_000),
        "power_iteration_normalizer": Str("auto", "QR", "LU", "none"),
        "random_state": _SEED,
        "svd_solver": Str("auto", "full", "covariance_eigh", "arpack", "randomized"),
        "tol": Float(0.0),
        "whiten": Bool(),
    }
    state_schema = {
        "n_features_in_": Int(1, _FEATURES, dim="n_features"),
        "_fit_svd_solver": Str("full", "covariance_eigh", "arpack", "randomized"),
        "mean_": Array("f", ("n_features",)),
        "noise_variance_": Float(finite=False),
        "n_samples_": Int(1, _SIZE),
        "n_components_": Int(1, _FEATURES, dim="n_components"),
        "components_": Array("f", ("n_components", "n_features")),
        "explained_variance_": Array("f", ("n_components",)),
        "explained_variance_ratio_": Array("f", ("n_components",)),
        "singular_values_": Array("f", ("n_components",)),
    }


class _GaussianMixture(_Codec):
    params_schema = {
        "covariance_type": Str("full", "tied", "diag", "spherical"),
        "init_params": Str("kmeans", "k-means++", "random", "random_from_data"),
        "max_iter": Int(0, 1_000_000),
        "means_init": Null(),
        "n_components": Int(1, 10_000),
        "n_init": Int(1, 10_000),
        "precisions_init": Null(),
        "random_state": _SEED,
        "reg_covar": Float(0.0),
        "tol": Float(0.0),
        "verbose": Int(0, 100),
        "verbose_interval": Int(1, 1_000_000),
        "warm_start": Bool(),
        "weights_init": Null(),
    }
    # Covariance arrays have as many dimensions as the covariance type gives them; build checks them.
    state_schema = {
        "n_features_in_": Int(1, 2**14, dim="n_features"),
        "converged_": Bool(),
        "weights_": Array("f", ("n_components",)),
        "means_": Array("f", ("n_components", "n_features")),
        "covariances_": Array("f", None),
        "precisions_cholesky_": Array("f", None),
        "precisions_": Array("f", None),
        "n_iter_": Int(0, 1_000_000),
        "lower_bound_": Float(finite=False),
        "lower_bounds_": ListOf(Float(finite=False)),
    }

    def build(self, params, state):
        if state is not None:
            k, d = state["means_"].shape
            expected = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[params["covariance_type"]]
            for name in ("covariances_", "precisions_cholesky_", "precisions_"):
                if state[name].shape != expected:
                    raise ValueError(f"{name}: shape {state[name].shape}, expected {expected}")
        return super().build(params, state)


class _IForest(_Codec):
    """PyOD's IForest: scikit-learn's isolation forest, every tree's node table as arrays."""

    params_schema = {
        "contamination": Float(0.0, 0.5),
        "n_estimators": Int(1, 100_000),
        "max_samples": AnyOf(Str("auto"), Int(1, _SIZE), Float(0.0, 1.0)),
        "max_features": AnyOf(Int(1, _FEATURES), Float(0.0, 1.0)),
        "bootstrap": Bool(),
        "n_jobs": _N_JOBS,
        "behaviour": Str("old", "new"),
        "random_state": _SEED,
        "verbose": Int(0, 100),
    }
    state_schema = {
        **_PYOD_FITTED,
        "n_features_in_": Int(1, _FEATURES, dim="n_features"),
        "max_samples_": Int(1, _SIZE),
        "_max_samples": Int(1, _SIZE),
        "_max_features": Int(1, _FEATURES, dim="n_tree_features"),
        "offset_": Float(),
        "max_depth": Int(0, 10_000),
        "tree_seeds": Array("iu", ("n_trees",), lo=0, hi=2**32 - 1),
        "estimators_features": Array("iu", ("n_trees", "n_tree_features"), lo=0),
        "node_counts": Array("iu", ("n_trees",), lo=1),
        "max_depths": Array("iu", ("n_trees",), lo=0),
        "left_child": Array("i", ("n_nodes",)),
        "right_child": Array("i", ("n_nodes",)),
        "feature": Array("i", ("n_nodes",)),
        "threshold": Array("f", ("n_nodes",)),
        "impurity": Array("f", ("n_nodes",)),
        "n_node_samples": Array("i", ("n_nodes",), lo=0),
        "weighted_n_node_samples": Array("f", ("n_nodes",)),
        "missing_go_to_left": Array("u", ("n_nodes",), lo=0, hi=1),
        "value": Array("f", ("n_nodes", 1, 1)),
    }
    _NODE_FIELDS = (
        "left_child",
        "right_child",
        "feature",
        "threshold",
        "impurity",
        "n_node_samples",
        "weighted_n_node_samples",
        "missing_go_to_left",
    )

    def state(self, iforest):
        forest = iforest.detector_
        trees = [tree.tree_.__getstate__() for tree in forest.estimators_]
        nodes = np.concatenate([t["nodes"] for t in trees])
        state = {k: v for k, v in vars(iforest).items() if k in _PYOD_FITTED}
        state.update(
            {
                name: getattr(forest, name)
                for name in ("n_features_in_", "max_samples_", "_max_samples", "_max_features")
            }
        )
        state.update(
            offset_=forest.offset_,
            max_depth=forest.estimators_[0].max_depth,
            tree_seeds=np.array([tree.random_state for tree in forest.estimators_], dtype=np.int64),
            estimators_features=np.stack(forest.estimators_features_).astype(np.int64),
            node_counts=np.array([t["node_count"] for t in trees], dtype=np.int64),
            max_depths=np.array([t["max_depth"] for t in trees], dtype=np.int64),
            value=np.concatenate([t["values"] for t in trees]),
            **{name: np.ascontiguousarray(nodes[name]) for name in self._NODE_FIELDS},
        )
        return state

    def build(self, params, state):
        iforest = super().build(params, None)
        if state is None:
            return iforest
        from sklearn.ensemble import IsolationForest
        from sklearn.ensemble._iforest import _average_path_length
        from sklearn.tree import ExtraTreeRegressor
        from sklearn.tree._tree import NODE_DTYPE, Tree

        counts = state["node_counts"].astype(np.int64)
        if int(counts.sum()) != len(state["left_child"]):
            raise ValueError(f"node_counts sum to {int(counts.sum())}, the node table has {len(state['left_child'])}")
        n_tree_features = state["_max_features"]
        if state["estimators_features"].size and state["estimators_features"].max() >= state["n_features_in_"]:
            raise ValueError("estimators_features: a feature index is outside the forest's features")
        if n_tree_features > state["n_features_in_"]:
            raise ValueError("_max_features is more than n_features_in_")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        trees = []
        for start, count, depth, seed in zip(starts, counts, state["max_depths"], state["tree_seeds"]):
            nodes = np.zeros(count, dtype=NODE_DTYPE)
            for name in self._NODE_FIELDS:
                nodes[name] = state[name][start : start + count]
            _check_tree(nodes, n_tree_features, len(trees))
            if depth > count:
                raise ValueError(f"tree {len(trees)}: max_depth {depth} exceeds its {count} nodes")
            table = Tree(n_tree_features, np.array([1], dtype=np.intp), 1)
            table.__setstate__(
                {
                    "max_depth": int(depth),
                    "node_count": int(count),
                    "nodes": nodes,
                    "values": np.ascontiguousarray(state["value"][start : start + count]),
                }
            )
            tree = ExtraTreeRegressor(max_depth=state["max_depth"], max_features=1, random_state=int(seed))
            tree.__dict__.update(n_features_in_=n_tree_features, n_outputs_=1, max_features_=1, tree_=table)
            trees.append(tree)
        forest = IsolationForest(
            **{k: params[k] for k in ("n_estimators", "max_samples", "contamination", "max_features", "bootstrap")},
            n_jobs=params["n_jobs"],
            random_state=params["random_state"],
            verbose=params["verbose"],
        )
        forest.__dict__.update(
            estimators_=trees,
            estimators_features_=list(state["estimators_features"].astype(np.intp)),
            estimator_=ExtraTreeRegressor(max_depth=state["max_depth"], max_features=1, splitter="random"),
            n_features_in_=state["n_features_in_"],
            max_samples_=state["max_samples_"],
            _max_samples=state["_max_samples"],
            _max_features=n_tree_features,
            _n_samples=state["max_samples_"],
            _sample_weight=None,
            _seeds=state["tree_seeds"],
            offset_=state["offset_"],
        )
        # As scikit-learn's fit computes them, from the trees just checked.
        forest._average_path_length_per_tree, forest._decision_path_lengths = zip(
            *[(_average_path_length(t.tree_.n_node_samples), t.tree_.compute_node_depths()) for t in trees]
        )
        iforest.__dict__.update({k: state[k] for k in _PYOD_FITTED}, detector_=forest)
        return iforest


def _check_tree(nodes, n_features, index):
    """Raise ValueError unless every child and feature index of a tree's nodes lies inside its table.

    A child comes after its parent (scikit-learn adds a node before its children), which also
    rules out a cycle; a leaf has no children and the undefined feature (-2).
    """
    where = f"tree {index}"
    node_ids = np.arange(len(nodes))
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        raise ValueError(f"{where}: a node has one child")
    inner = ~leaf
    for name, child in (("left", left), ("right", right)):
        if ((child[inner] <= node_ids[inner]) | (child[inner] >= len(nodes))).any():
            raise ValueError(f"{where}: a {name} child index lies outside the tree or before its parent")
    if ((feature[inner] < 0) | (feature[inner] >= n_features)).any() or (feature[leaf] != -2).any():
        raise ValueError(f"{where}: a feature index lies outside the tree's {n_features} features")
    if not np.isfinite(nodes["threshold"][inner]).all():
        raise ValueError(f"{where}: a split threshold is not finite")


class _NeighbourCodec(_Codec):
    """A PyOD detector that keeps a fitted ``NearestNeighbors``: stored as its training vectors."""

    neighbours_attribute = ""

    def fit_vectors(self, detector):
        return getattr(detector, self.neighbours_attribute)._fit_X


class _KNN(_NeighbourCodec):
    params_schema = {
        "contamination": Float(0.0, 0.5),
        "n_neighbors": Int(1, 100_000),
        "method": Str("largest", "mean", "median"),
        "radius": Float(0.0),
        **_NEIGHBOUR_SEARCH,
    }
    state_schema = {**_PYOD_FITTED, "fit_vectors": Array("f", ("n_samples", "n_features"))}
    neighbours_attribute = "neigh_"

    def state(self, knn):
        return {**{k: v for k, v in vars(knn).items() if k in _PYOD_FITTED}, "fit_vectors": self.fit_vectors(knn)}

    def build(self, params, state):
        knn = super().build(params, None)
        if state is None:
            return knn
        # KNN's constructor made its NearestNeighbors from the checked settings; as PyOD's fit does:
        neighbours = knn.neigh_.fit(state.pop("fit_vectors"))
        knn.__dict__.update(state, tree_=neighbours._tree if neighbours._tree is not None else neighbours)
        return knn


class _LUNAR(_NeighbourCodec):
    params_schema = {
        "contamination": Float(0.0, 0.5),
        "model_type": Str("WEIGHT", "SCORE"),
        "n_neighbours": Int(1, 1_000),
        "negative_sampling": Str("UNIFORM", "SUBSPACE", "MIXED"),
        "val_size": Float(0.0, 1.0),
        # A scaler instance would be an object of any class: only the default (None) and False are data.
        "scaler": NoneOr(Bool()),
        "epsilon": Float(0.0),
        "proportion": Float(0.0),
        "n_epochs": Int(0, 1_000_000),
        "lr": Float(0.0),
        "wd": Float(0.0),
        "verbose": Int(0, 100),
        "random_state": _SEED,
        **_NEIGHBOUR_SEARCH,
    }
    state_schema = {
        **_PYOD_FITTED,
        "scaler_": NoneOr(Estimator("sklearn.MinMaxScaler")),
        "fit_vectors": Array("f", ("n_samples", "n_features")),
        "network": MapOf(Array("fiu", None), max_len=64),
    }
    neighbours_attribute = "neigh"

    def state(self, lunar):
        return {
            **{k: v for k, v in vars(lunar).items() if k in _PYOD_FITTED or k == "scaler_"},
            "fit_vectors": self.fit_vectors(lunar),
            "network": {k: v.detach().cpu().numpy() for k, v in lunar.network.state_dict().items()},
        }

    def build(self, params, state):
        if params["scaler"] is True:
            raise ValueError("scaler: true is not a scaler")
        from pyod.models.lunar import LUNAR, SCORE_MODEL, WEIGHT_MODEL

        from ..detectors.autoencoder import import_torch
        from ..detectors.layers import network_from_weights

        # Not LUNAR's constructor: it seeds torch's global generator and draws initial weights.
        lunar = object.__new__(LUNAR)
        lunar.__dict__.update(params)
        if state is None:
            return lunar
        torch = import_torch()
        model = SCORE_MODEL if params["model_type"] == "SCORE" else WEIGHT_MODEL
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        network = network_from_weights(torch, lambda: model(params["n_neighbours"]), state.pop("network"))
        from sklearn.neighbors import NearestNeighbors

        # As LUNAR's fit makes it.
        search = {k: params[k] for k in _NEIGHBOUR_SEARCH}
        neighbours = NearestNeighbors(n_neighbors=params["n_neighbours"] + 1, **search).fit(state.pop("fit_vectors"))
        lunar.__dict__.update(state, device=device, network=network.to(device).eval(), neigh=neighbours)
        return lunar


#: Stable name -> codec, for every third-party estimator a model file may hold.
CODECS = {
    codec.name: codec
    for codec in (
        _StandardScaler("sklearn.StandardScaler", _imported("sklearn.preprocessing", "StandardScaler")),
        _MinMaxScaler("sklearn.MinMaxScaler", _imported("sklearn.preprocessing", "MinMaxScaler")),
        _PCA("sklearn.PCA", _imported("sklearn.decomposition", "PCA")),
        _GaussianMixture("sklearn.GaussianMixture", _imported("sklearn.mixture", "GaussianMixture")),
        _IForest("pyod.IForest", _imported("pyod.models.iforest", "IForest")),
        _KNN("pyod.KNN", _imported("pyod.models.knn", "KNN")),
        _LUNAR("pyod.LUNAR", _imported("pyod.models.lunar", "LUNAR")),
    )
}


def codec_named(name, allowed):
    """The codec stored under ``name``, if it is one of ``allowed``; ValueError otherwise."""
    if not isinstance(name, str) or name not in allowed or name not in CODECS:
        raise ValueError(f"estimator {str(name)[:80]!r} is not one of {allowed}")
    return CODECS[name]


def codec_of(estimator, allowed, where):
    """The codec of ``estimator``'s exact class among ``allowed``; TypeError when it cannot be saved."""
    for name in allowed:
        if type(estimator) is CODECS[name].cls:
            return CODECS[name]
    raise TypeError(
        f"{where}: {type(estimator).__name__} cannot be saved in a model file as data; "
        f"it holds only {', '.join(allowed)}"
    )
