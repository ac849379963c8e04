"""Names of a package imported from their modules on first use (PEP 562).

``import audioad`` alone then imports no numerical library, so the ``audioad`` command starts at
once, while ``from audioad import AudioAE`` works as usual.
"""

import importlib


def lazy_names(package, namespace, where):
    """A package's ``__getattr__`` and ``__dir__`` that import each public name from its module when first used.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    namespace : dict
        Its ``globals()``: a name, once imported, is kept there and looked up no more.
    where : dict
        Public name -> the module it lives in, relative to the package (``".detectors"``).

    Returns
    -------
    getattr, dir : callable

    Examples
    --------
    >>> namespace = {}
    >>> getattr_, dir_ = lazy_names("audioad", namespace, {"auc": ".metrics"})
    >>> getattr_("auc").__module__, "auc" in namespace, dir_()
    ('audioad.metrics', True, ['auc'])
    """

    def __getattr__(name):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted({*namespace, *where})

    return __getattr__, __dir__
