"""The 06 -> 07 contract: stage 07 reads exactly EigenmodesDataset version 0.1.

Run: ``python examples/contract_06_07.py [WORK_DIR]`` (default: a temporary folder).

1. An EigenmodesDataset written from the closed form Delta_+- = d/2 +- nu (AdS, d = 3) goes
   through stage 07: OK, and the fit gives m^2 = Delta^2 - 3 Delta + 0.
2. The same dataset declaring a newer schema version, 3. a Dictionary passed where the
   eigenmodes are expected, 4. a dataset whose meta lacks a required field: each stops at the
   input gate with exit 2 and a line naming the file, the schema expected and the one found.

Exits 0 when all four behave as the contract says.
"""

import json
import math
from pathlib import Path

from _contract_demo import all_refused, main_in_work_dir

from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.eigenmodes import EigenmodeRow, EigenmodesDataset
from holopipe.pipeline import RunRequest, run_stage

ALIAS = "bulk_eigenmodes"


def closed_form_dataset(d: int = 3) -> EigenmodesDataset:
    rows = []
    for m2 in (-2.0, 0.0, 4.0):
        nu = math.sqrt(d * d / 4 + m2)
        for branch, delta in [("+", d / 2 + nu)] + ([("-", d / 2 - nu)] if nu < 1 else []):
            rows.append(
                EigenmodeRow(
                    system_id=f"ads_d{d}-000000000000",
                    family="ads",
                    d=d,
                    m2=m2,
                    Delta=delta,
                    branch=branch,
                    mode_id=0,
                    M2=1.0,
                    quality="ok",
                    bc_uv="boundary",
                    bc_ir="wall",
                    z_uv=0.0,
                    z_ir=1.0,
                    n_grid=192,
                    method="closed form",
                )
            )
    return EigenmodesDataset.from_rows(rows, source_stage="example", git_sha="0000000")


def run_07(work: Path, experiment: str, path: Path) -> int:
    code = run_stage(RunRequest(work / "runs", experiment, cli_inputs={ALIAS: path}), "07")
    print(f"  stage 07 on {path.name}: exit {code}")
    return code


def main(work: Path) -> int:
    good = closed_form_dataset().write(work / "good" / "bulk_modes_dataset.csv")
    ok = run_07(work, "good", good) == 0
    fit = Dictionary.read(next((work / "runs" / "good").glob("07_*/dictionary/dictionary.json")))
    c = fit.fits[0].coefficients
    print(f"  fit: m2 = {c.delta2:.6f} Delta^2 + {c.delta:.6f} Delta + {c.const:.2e}")

    newer = closed_form_dataset().write(work / "newer" / "bulk_modes_dataset.csv")
    meta = EigenmodesDataset.meta_path(newer)
    current = f'"schema_version": "{EigenmodesDataset.SCHEMA_VERSION}"'
    meta.write_text(meta.read_text().replace(current, '"schema_version": "9.0"'))
    wrong = Dictionary.example().write(work / "wrong" / "bulk_modes_dataset.json")
    missing = closed_form_dataset().write(work / "missing" / "bulk_modes_dataset.csv")
    doc = json.loads(EigenmodesDataset.meta_path(missing).read_text())
    del doc["n_rows"]
    EigenmodesDataset.meta_path(missing).write_text(json.dumps(doc))
    mismatches = {"newer": newer, "wrong": wrong, "missing": missing}
    refused = all_refused(lambda name, path: run_07(work, name, path), mismatches)
    return 0 if ok and abs(c.delta2 - 1) < 1e-4 and refused else 1


if __name__ == "__main__":
    main_in_work_dir(main)
