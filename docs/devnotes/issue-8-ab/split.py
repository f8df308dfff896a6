"""In-process full run + no-op: CPU of the orchestrator (self) and of the stage processes (children)."""
import json, os, resource, sys, tempfile, time
from pathlib import Path
systems = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
tag = os.environ["PYTHONPATH"].split("/")[-2]
def cpu():
    s = resource.getrusage(resource.RUSAGE_SELF); c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime, c.ru_utime, c.ru_stime, s.ru_utime
t_imp = cpu()
from holopipe.pipeline import run_pipeline
try:
    from holopipe.pipeline import RunRequest
    call = lambda *a, **k: run_pipeline(RunRequest(*a, **{x: y for x, y in k.items() if x != "echo"}), echo=k["echo"])
except ImportError:
    call = run_pipeline
tmp = Path(tempfile.mkdtemp(prefix="split.", dir=None)); os.chdir(tmp)
Path("config.json").write_text(json.dumps({"seed": 1, "pipeline": [f"holopipe.testing:Chain{i:02d}" for i in range(1, 10)], "stages": {"01": {"n_systems": systems}}}))
c0 = cpu(); t0 = time.perf_counter()
assert call(Path("runs"), "bench", Path("config.json"), echo=lambda l: None) == 0
c1 = cpu(); t1 = time.perf_counter()
from holopipe.run import manifest, provenance
getattr(manifest, "_LOADED", {}).clear()
assert call(Path("runs"), "bench", echo=lambda l: None) == 0
c2 = cpu(); t2 = time.perf_counter()
print(f"{tag} imports {t_imp[0]:.2f}  full: orchestrator {c1[0]-c0[0]:.2f} (user {c1[4]-c0[4]:.2f}) stages {c1[1]-c0[1]:.2f} (user {c1[2]-c0[2]:.2f} sys {c1[3]-c0[3]:.2f}) wall {t1-t0:.2f}  noop(in-process): {c2[0]-c1[0]:.2f} wall {t2-t1:.2f}")
print(f"{tag} USER full {c1[4]-c0[4]+c1[2]-c0[2]:.3f}")
import shutil; os.chdir("/"); shutil.rmtree(tmp)
