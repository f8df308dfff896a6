"""``holopipe export-crate``: a run as a Workflow Run RO-Crate (Provenance Run Crate profile).

Built with the ``rocrate`` library (the optional extra ``holopipe[crate]``) from the run's
records only:

- the pipeline definition (stages, their classes, versions, inputs and outputs) as the
  crate's main ``ComputationalWorkflow``, each stage a ``SoftwareApplication`` with its
  ``HowToStep``;
- one ``CreateAction`` per stage run: ``instrument`` the stage, ``object`` its input files and
  the frozen config, ``result`` its output files, each ``File`` with its ``sha256`` (from the
  manifest: the crate states what the run recorded), start and end time, status, command;
- a ``CreateAction`` for the whole run and an ``OrganizeAction`` by holopipe that links the
  steps through ``ControlAction``\\ s.

Inputs from outside the run (``--input``, legacy roots) are listed by ``file://`` URI, not
copied.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from holopipe.artifacts.records import RunManifest, StageRecord
from holopipe.run.layout import RunLayout

__all__ = ["PROFILES", "CrateError", "export_crate"]

#: The profiles the crate conforms to.
PROFILES = (
    "https://w3id.org/ro/wfrun/process/0.5",
    "https://w3id.org/ro/wfrun/workflow/0.5",
    "https://w3id.org/ro/wfrun/provenance/0.5",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
)
WORKFLOW_FILE = "holopipe_pipeline.json"
INSTALL_HINT = "pip install 'holopipe[crate]'"


class CrateError(ValueError):
    """No run to export, or the rocrate library is missing (bad input, exit 2)."""


def _status(record: StageRecord) -> str:
    ok = record.status in ("OK", "WARNING")
    return (
        "http://schema.org/CompletedActionStatus" if ok else "http://schema.org/FailedActionStatus"
    )


def _pipeline_definition(stages: list[Any]) -> dict[str, Any]:
    return {
        "stages": [
            {
                "id": s.ID,
                "key": s.key(),
                "class": f"{s.__module__}:{s.__qualname__}",
                "version": s.VERSION,
                "inputs": [{"alias": i.alias, "schema": i.schema} for i in s.INPUTS],
                "outputs": [{"alias": o.alias, "schema": o.schema} for o in s.OUTPUTS],
            }
            for s in stages
        ]
    }


def export_crate(layout: RunLayout, stages: list[Any], output: Path) -> Path:
    """Write the crate of the run at ``layout`` to ``output`` (a folder, or ``*.zip``)."""
    try:
        from rocrate.model.contextentity import ContextEntity
        from rocrate.rocrate import ROCrate
    except ImportError:
        raise CrateError(f"export-crate needs the rocrate library: {INSTALL_HINT}") from None
    if not layout.manifest_path.is_file():
        raise CrateError(f"{layout.root}: no run here (no {layout.manifest_path.name})")
    report, manifest = RunManifest.read_with_report(layout.manifest_path)
    if manifest is None:
        raise CrateError(f"{layout.manifest_path}: {'; '.join(report.lines()[:1])}")
    output = Path(output)
    if output.exists() and (output.is_file() or any(output.iterdir())):
        raise CrateError(f"{output}: already exists; give a new --output")
    from holopipe import __version__

    crate = ROCrate()
    crate.name = f"holopipe run {layout.experiment}"
    crate.root_dataset["description"] = (
        f"Workflow Run RO-Crate of the holopipe experiment {layout.experiment!r}"
    )
    crate.root_dataset["conformsTo"] = [{"@id": p} for p in PROFILES]
    crate.root_dataset["license"] = "https://spdx.org/licenses/CC-BY-4.0"

    files: dict[str, Any] = {}

    def file_entity(path: str, sha256: str | None, properties: dict[str, Any]) -> Any:
        if path in files:
            return files[path]
        source = layout.root / path
        props = dict(properties)
        if sha256:
            props["sha256"] = sha256
        if path.startswith("/") or ".." in Path(path).parts:  # outside the run: by reference
            entity = crate.add(
                ContextEntity(crate, Path(path).absolute().as_uri(), {"@type": "File", **props})
            )
        else:
            props["contentSize"] = str(source.stat().st_size) if source.is_file() else None
            props = {k: v for k, v in props.items() if v is not None}
            entity = crate.add_file(source, dest_path=path, properties=props)
        files[path] = entity
        return entity

    config = None
    if layout.config_path.is_file():
        config = file_entity(
            layout.config_path.name,
            None,
            {"name": "resolved config (frozen)", "encodingFormat": "application/json"},
        )
    holopipe_app = crate.add(
        ContextEntity(
            crate,
            "#holopipe",
            {
                "@type": "SoftwareApplication",
                "name": "holopipe",
                "softwareVersion": manifest.holopipe_version or __version__,
                "url": "https://pypi.org/project/holopipe/",
            },
        )
    )
    tools, steps = {}, []
    for position, stage in enumerate(stages):
        key = stage.key()
        tools[key] = crate.add(
            ContextEntity(
                crate,
                f"#stage-{key}",
                {
                    "@type": "SoftwareApplication",
                    "name": f"{stage.__module__}:{stage.__qualname__}",
                    "softwareVersion": stage.VERSION,
                    "description": (stage.__doc__ or key).strip().splitlines()[0],
                },
            )
        )
        steps.append(
            crate.add(
                ContextEntity(
                    crate,
                    f"#step-{key}",
                    {
                        "@type": "HowToStep",
                        "position": str(position),
                        "workExample": tools[key],
                        "name": key,
                    },
                )
            )
        )
    with tempfile.TemporaryDirectory() as scratch:
        definition = Path(scratch) / WORKFLOW_FILE
        definition.write_text(json.dumps(_pipeline_definition(stages), indent=2, sort_keys=True))
        workflow = crate.add_file(
            definition,
            dest_path=WORKFLOW_FILE,
            properties={
                "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
                "name": "holopipe pipeline",
                "programmingLanguage": {"@id": "#holopipe"},
                "hasPart": list(tools.values()),
                "step": steps,
                "encodingFormat": "application/json",
            },
        )
        crate.root_dataset["mainEntity"] = workflow

        control_actions, all_results = [], []
        started, finished = [], []
        for key in sorted(manifest.stages):
            record = manifest.stages[key]
            if key not in tools:  # a stage no longer in the pipeline: still a recorded run
                tools[key] = crate.add(
                    ContextEntity(
                        crate, f"#stage-{key}", {"@type": "SoftwareApplication", "name": key}
                    )
                )
            inputs = [
                file_entity(i.path, i.sha256, {"name": i.name, "encodingFormat": i.schema})
                for i in record.inputs
            ]
            outputs = [
                file_entity(o.path, o.sha256, {"name": o.name, "encodingFormat": o.schema})
                for o in record.outputs
            ]
            summary = layout.root / key / "stage_summary.json"
            if summary.is_file():
                outputs.append(
                    file_entity(f"{key}/stage_summary.json", None, {"name": "stage summary"})
                )
            action = crate.add_action(
                tools[key],
                identifier=f"#run-{key}",
                object=inputs + ([config] if config is not None else []),
                result=outputs,
                properties={
                    "name": f"run of stage {key}",
                    "startTime": record.started_at,
                    "endTime": record.finished_at,
                    "actionStatus": {"@id": _status(record)},
                    "description": " ".join(record.command),
                },
            )
            started.append(record.started_at)
            finished.append(record.finished_at)
            all_results += [o for o in outputs if o not in all_results]
            step = next((s for s in steps if s.id == f"#step-{key}"), None)
            if step is not None:
                control_actions.append(
                    crate.add(
                        ContextEntity(
                            crate,
                            f"#control-{key}",
                            {
                                "@type": "ControlAction",
                                "name": f"orchestrate {key}",
                                "instrument": step,
                                "object": action,
                            },
                        )
                    )
                )
        run_action = crate.add_action(
            workflow,
            identifier=f"#run-{layout.experiment}",
            object=[config] if config is not None else None,
            result=all_results,
            properties={
                "name": f"holopipe run {layout.experiment}",
                "startTime": min(started, default=manifest.created_at),
                "endTime": max(finished, default=manifest.updated_at),
            },
        )
        crate.add_action(
            holopipe_app,
            identifier="#orchestration",
            object=control_actions,
            result=run_action,
            properties={"@type": "OrganizeAction", "name": "holopipe orchestration"},
        )
        for name in ("run_manifest.json", "pipeline_summary.json", "report.html"):
            if (layout.root / name).is_file():
                file_entity(name, None, {"name": name})
        if output.suffix == ".zip":
            output.parent.mkdir(parents=True, exist_ok=True)
            crate.write_zip(output)
        else:
            crate.write(output)
    return output


def recorded_hashes(layout: RunLayout) -> dict[str, str]:
    """path -> sha256 of every output the manifest records (what the crate must match)."""
    doc = RunManifest.read_document(layout.manifest_path)
    return {o["path"]: o["sha256"] for r in doc["stages"].values() for o in r["outputs"]}
