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

import json
import sys
import tempfile
from pathlib import Path

from holopipe.artifacts.atlas import HolographicAtlas
from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.pipeline import run_stage


def run_08(work: Path, experiment: str, predictions: Path, dictionary: Path) -> int:
    inputs = {"predictions": predictions, "dictionary": dictionary}
    code = run_stage(work / "runs", experiment, "08", cli_inputs=inputs)
    print(f"  stage 08 with dictionary {dictionary.parent.name}/{dictionary.name}: exit {code}")
    return code


def edited(path: Path, edit) -> Path:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def main(work: Path) -> int:
    predictions = work / "predictions"
    GeometryPrediction.example().write(predictions / "ads_d3_example_geometry.npz")
    good = Dictionary.example().write(work / "good" / "dictionary.json")
    ok = run_08(work, "good", predictions, good) == 0
    atlas = HolographicAtlas.read(work / "runs" / "good" / "atlas" / "atlas.json")
    [system] = atlas.systems
    print(f"  atlas: alpha_UV = {system.alpha_uv:.6f}, applicable = {system.applicable}")
    ok = ok and system.applicable and atlas.groups[0].dictionary_fit is not None

    newer = edited(
        Dictionary.example().write(work / "newer" / "dictionary.json"),
        lambda doc: doc.update(schema_version="9.0"),
    )
    wrong = HolographicAtlas.example().write(work / "wrong" / "dictionary.json")
    missing = edited(
        Dictionary.example().write(work / "missing" / "dictionary.json"),
        lambda doc: doc.pop("fits"),
    )
    refused = [
        run_08(work, name, predictions, path) == 2
        for name, path in (("newer", newer), ("wrong", wrong), ("missing", missing))
    ]
    return 0 if ok and all(refused) else 1


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    sys.exit(main(work))
