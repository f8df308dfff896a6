"""Physics only: pure functions on numpy arrays (numpy and scipy, nothing of holopipe's infra).

Modules: :mod:`~holopipe.science.geometry` (families, temperature, curvature, Einstein
residuals, c-function), :mod:`~holopipe.science.boundary` (geodesic two-point functions),
:mod:`~holopipe.science.reconstruction` (stage 02's reference engine),
:mod:`~holopipe.science.contracts` (stage 04), :mod:`~holopipe.science.negative_controls`
(04c), :mod:`~holopipe.science.analysis` (model comparison, trends) and
:mod:`~holopipe.science.sturm_liouville` (the scalar eigenmode solver of stage 06);
:mod:`~holopipe.science.defaults` holds, without numpy, the numbers stage parameters default
to or are checked against (tolerances, the BF bound, the kinds of broken geometry).
Import the module you need; nothing is imported here so that scipy loads only when used.
"""
