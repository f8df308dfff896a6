"""The 07 -> 08 contract: stage 08 reads a Dictionary of version 0.1 or 0.2 (0.1 through its
registered migration) beside the predictions, and nothing else.

Run: ``python examples/contract_07_08.py [WORK_DIR]`` (default: a temporary folder).

1. An AdS geometry (d = 3) and a Dictionary go through stage 08: OK; the atlas says the
   dictionary applies there (alpha_UV = 1) and carries the dictionary's fit for d = 3.
2. The same Dictionary declaring a newer schema version, 3. an atlas passed as the dictionary,
   4. a Dictionary without its required ``fits``: each stops at the input gate with exit 2 and
   a line naming the file, the schema expected and the one found.

Exits 0 when all four behave as the contract says.
"""

from pathlib import Path

from _contract_demo import all_refused, json_mismatches, main_in_work_dir

from holopipe.artifacts.atlas import HolographicAtlas
from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.pipeline import RunRequest, run_stage


def run_08(work: Path, experiment: str, predictions: Path, dictionary: Path) -> int:
    inputs = {"predictions": predictions, "dictionary": dictionary}
    code = run_stage(RunRequest(work / "runs", experiment, cli_inputs=inputs), "08")
    print(f"  stage 08 with dictionary {dictionary.parent.name}/{dictionary.name}: exit {code}")
    return code


def main(work: Path) -> int:
    predictions = work / "predictions"
    GeometryPrediction.example().write(predictions / "ads_d3_example_geometry.npz")
    good = Dictionary.example().write(work / "good" / "dictionary.json")
    ok = run_08(work, "good", predictions, good) == 0
    atlas = HolographicAtlas.read(work / "runs" / "good" / "atlas" / "atlas.json")
    [system] = atlas.systems
    print(f"  atlas: alpha_UV = {system.alpha_uv:.6f}, applicable = {system.applicable}")
    ok = ok and system.applicable and atlas.groups[0].dictionary_fit is not None

    mismatches = json_mismatches(work, Dictionary, "dictionary.json", HolographicAtlas, "fits")
    refused = all_refused(lambda name, path: run_08(work, name, predictions, path), mismatches)
    return 0 if ok and refused else 1


if __name__ == "__main__":
    main_in_work_dir(main)
