"""Compile a generated Triton program for the H200 (cuda sm_90) without a GPU, in a fresh process
(codegen/triton_aot.py): the interpreter forgives what the GPU compiler does not. The tests' script
prints, on its last line, the JSON of what it compiled; this runs it and returns that."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def compile_sm90(script: str, tmp_path, *args: str, autotune: bool = False, **env_extra: str):
    """Run ``script`` (python -c) with ``args`` outside the interpreter, with fresh symgrad and
    Triton caches under ``tmp_path``; ``autotune``: compile every autotuning candidate (else one
    config); ``env_extra``: more environment (SYMGRAD_TRITON_FUSE_ROWS="0"). The parsed last line."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    if autotune:
        env.pop("SYMGRAD_TRITON_AUTOTUNE", None)
    else:
        env["SYMGRAD_TRITON_AUTOTUNE"] = "0"
    env.update(TRITON_DEFAULT_FP_FUSION="1", SYMGRAD_CACHE=str(tmp_path / "sg"),
               TRITON_CACHE_DIR=str(tmp_path / "triton"), PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""),
               **env_extra)
    run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])
