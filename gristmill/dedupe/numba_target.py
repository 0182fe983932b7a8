"""numba's CPU target in gristmill's own worker processes, loaded without scipy's BLAS.

The first call of any compiled function (even one loaded from numba's on-disk cache)
loads numba's CPU target. That imports ``numba.np.arraymath``, which imports
``scipy.linalg`` only to learn whether ``np.dot`` and ``np.linalg`` can be compiled
(numba 0.6x, ``numba.np.linalg.ensure_blas``). With scipy 1.17 installed that import costs
0.2–0.5 CPU s per process. No kernel of gristmill uses linear algebra.

:func:`prepare` therefore loads the target with that one scipy module hidden. numba then
records "no BLAS" for the process, and the module is visible again afterwards. It acts
only where :data:`WITHOUT_SCIPY_BLAS` is ``"1"``: the embedded cluster sets it in its
worker processes, which run gristmill's tasks only. A process of the user's (a notebook,
a cluster of their own) keeps numba's full linear algebra.
"""

from __future__ import annotations

import os
import sys

#: Environment variable: "1" where numba's target is loaded without scipy's BLAS.
WITHOUT_SCIPY_BLAS = "GRISTMILL_NUMBA_WITHOUT_SCIPY_BLAS"
_BLAS_MODULE = "scipy.linalg.cython_blas"


def prepare() -> None:
    """Load numba's array-math registry with scipy's BLAS hidden, where asked to (see the
    module docstring). Does nothing if the registry or scipy's BLAS is already loaded."""
    if os.environ.get(WITHOUT_SCIPY_BLAS) != "1":
        return
    if "numba.np.arraymath" in sys.modules or _BLAS_MODULE in sys.modules:
        return
    sys.modules[_BLAS_MODULE] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules[_BLAS_MODULE]
