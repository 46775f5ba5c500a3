import os
import subprocess

env = dict(os.environ)
env["PYTHONPATH"] = "src"
subprocess.run(["pytest", "-q"], env=env, check=True)
