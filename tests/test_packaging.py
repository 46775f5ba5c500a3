"""The built wheel carries every subpackage and the rule packs (nothing is silently left out)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, cwd=build,
    )
    if proc.returncode != 0 and "setuptools" in proc.stderr and "No module named" in proc.stderr:
        pytest.skip("setuptools is not installed in this environment (pip install -e '.[test]' brings it)")
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("skillctl-*.whl")
    return whl


def test_wheel_has_every_package_folder(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.rsplit("/", 1)[0] for n in names if n.endswith(".py")}
    source = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "skillctl").rglob("*.py")
              if "__pycache__" not in p.parts}
    assert source <= shipped, f"missing from the wheel: {sorted(source - shipped)}"
    packs = {Path(n).name for n in names if n.startswith("skillctl/scan/packs/") and n.endswith(".yaml")}
    assert packs == {p.name for p in (ROOT / "skillctl" / "scan" / "packs").glob("*.yaml")}
    assert not any(n.startswith(("validators/", "tests/", "skills_repo/")) for n in names)


def test_installed_wheel_loads_its_rule_packs(wheel: Path, tmp_path: Path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("import skillctl, skillctl.scan.rules as r; "
            f"assert skillctl.__file__.startswith({str(target)!r}), skillctl.__file__; "
            "print(len(r.load_rules().rules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 40


def test_every_module_imports_first_in_a_fresh_interpreter():
    """A module that only imports after some other module was loaded first hides an import cycle."""
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for p in (ROOT / "skillctl").rglob("*.py") if p.name != "__main__.py")
    procs = {m: subprocess.Popen([sys.executable, "-c", f"import {m}"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True) for m in modules}
    failed = {m: p.communicate(timeout=120)[1].strip().splitlines()[-1:] for m, p in procs.items()}
    assert {m: err for m, err in failed.items() if procs[m].returncode != 0} == {}
