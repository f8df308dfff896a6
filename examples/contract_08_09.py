"""The 08 -> 09 contract: stage 09 reads a HolographicAtlas of version 0.1 (and stage 04c's
negative controls, a GeometryContracts 0.1), and nothing else.

Run: ``python examples/contract_08_09.py [WORK_DIR]`` (default: a temporary folder).

1. The example atlas (an AdS system whose operator has m^2, an hvlf one where the dictionary
   does not apply) goes through stage 09: OK, with its dictionary contracts evaluated.
2. The same atlas declaring a newer schema version, 3. a Dictionary passed as the atlas,
   4. an atlas without its required ``systems``: each stops at the input gate with exit 2 and a
   line naming the file, the schema expected and the one found.

Exits 0 when all four behave as the contract says.
"""

from pathlib import Path

from _contract_demo import all_refused, json_mismatches, main_in_work_dir

from holopipe.artifacts.atlas import HolographicAtlas
from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.real_data import RealDataContracts
from holopipe.pipeline import RunRequest, run_stage


def run_09(work: Path, experiment: str, atlas: Path) -> int:
    code = run_stage(RunRequest(work / "runs", experiment, cli_inputs={"atlas": atlas}), "09")
    print(f"  stage 09 on {atlas.parent.name}/{atlas.name}: exit {code}")
    return code


def main(work: Path) -> int:
    good = HolographicAtlas.example().write(work / "good" / "atlas.json")
    ok = run_09(work, "good", good) == 0
    result = RealDataContracts.read(
        work / "runs" / "good" / "real_data_contracts" / "real_data_contracts.json"
    )
    evaluated = [c for c in result.checks if c.evaluated]
    print(f"  {len(evaluated)} contracts evaluated, verdict {result.verdict}")
    ok = ok and result.verdict == "PASS" and evaluated

    mismatches = json_mismatches(work, HolographicAtlas, "atlas.json", Dictionary, "systems")
    refused = all_refused(lambda name, path: run_09(work, name, path), mismatches)
    return 0 if ok and refused else 1


if __name__ == "__main__":
    main_in_work_dir(main)
