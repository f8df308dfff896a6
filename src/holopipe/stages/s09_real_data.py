"""Stage 09 ``real_data_and_dictionary_contracts``: the dictionary against real CFT data.

Reads the atlas of stage 08 (alias ``atlas/``) and the negative controls of stage 04c (alias
``negative_controls/``, optional); writes RealDataContracts (alias ``real_data_contracts/``).
The contracts are :mod:`holopipe.science.real_data`; the reference values come from the
package data files of :mod:`holopipe.data.cft` (one per theory, with citations), never from
code.

- real data: every atlas system whose boundary data belong to a theory with a shipped table
  (``theory`` recorded by stage 02, e.g. ``ising3d``), and every operator stage 02 measured
  there that the table lists: pull <= 3, unitarity, BF bound of m^2 = Delta (Delta - d), and
  quantisation consistency (the branch the measured Delta needs is the table's: sigma and
  epsilon of 3D Ising need Delta_-, epsilon' Delta_+). A table operator that was not measured
  is a contract not evaluated (counted, never a pass);
- dictionary: every atlas operator that was given an m^2 (systems where the AdS dictionary
  applies): unitarity, BF bound and the branch rule;
- negative controls: stage 04c's false-positive rate must be ``max_false_positive_rate`` (0)
  and its coverage at least ``min_coverage`` (0.7); without the input both are not evaluated.

``round_trip`` is set when a compared system's boundary data were synthesised from the
reference table itself (stage 02's ``boundary_method`` ``reference_table``): the summary then
says in words that the pulls test the measurement, not the theory.

Status: a failed contract is a warning (exit 1) naming it, with the verdict FAIL in the
artifact; zero evaluated contracts is INCOMPLETE (exit 2). No real-theory system in the run is
a note (the real-data contracts are not applicable there), not a failure.

Checks in the stage summary: every evaluated contract, ``<subject>.<contract>`` with its value
and tolerance, grouped by kind (real_data, dictionary, negative_controls).

Examples
--------
>>> RealDataAndDictionaryContracts.key()
'09_real_data_and_dictionary_contracts'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs

if TYPE_CHECKING:
    from holopipe.run.context import StageContext

__all__ = ["RealDataAndDictionaryContracts", "RealDataParams"]


@attrs.define
class RealDataParams:
    """Config section ``stages.09``."""

    max_false_positive_rate: float = attrs.field(
        default=0.0,
        validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)],
        metadata={"doc": "largest false-positive rate of stage 04c's negative controls"},
    )
    min_coverage: float = attrs.field(
        default=0.7,
        validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)],
        metadata={"doc": "smallest fraction of negative controls that must be evaluated"},
    )


class RealDataAndDictionaryContracts(Stage):
    """Stage 09: real-data, dictionary and negative-control contracts (module docstring)."""

    ID, SLUG = "09", "real_data_and_dictionary_contracts"
    VERSION = "1"
    INPUTS = (
        InputSpec("atlas", "HolographicAtlas", versions=("0.1",)),
        InputSpec("negative_controls", "GeometryContracts", required=False, versions=("0.1",)),
    )
    OUTPUTS = (OutputSpec("real_data_contracts", "RealDataContracts"),)
    Params = RealDataParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s09_real_data as work

        work.run(ctx, inputs)
