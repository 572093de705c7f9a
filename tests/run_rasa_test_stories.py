"""Runs the Rasa test stories in tests/stories/ against the trained model and fails on any
wrong intent or action prediction. (Rasa's open-source `rasa test core` checks what the
model predicts; the custom actions themselves are covered by tests/actions and
tests/test_conversations.py, which talk to a real action server.)

    .venv/bin/python tests/run_rasa_test_stories.py [--model models/tinsel.tar.gz]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = Path(sys.executable).parent / "rasa"


def count_stories(folder: Path) -> int:
    return sum(
        1
        for path in folder.glob("*.yml")
        for line in path.read_text().splitlines()
        if line.strip().startswith("- story:")
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ROOT / "models" / "tinsel.tar.gz"))
    parser.add_argument("--stories", default=str(ROOT / "tests" / "stories"))
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="tinsel-stories-"))
    result = subprocess.run(
        [str(RASA), "test", "core", "--model", args.model, "--stories", args.stories,
         "--out", str(out), "--no-plot"],
        cwd=ROOT,
    )
    failed_file = out / "failed_test_stories.yml"
    failed_text = failed_file.read_text() if failed_file.exists() else ""
    failed = failed_text.count("- story:")
    if failed:
        print(failed_text)
    report_file = out / "story_report.json"
    if report_file.exists():
        accuracy = json.loads(report_file.read_text()).get("accuracy")
        print(f"Action prediction accuracy on test stories: {accuracy}")
    total = count_stories(Path(args.stories))
    print(f"stories: {total - failed} passed, {failed} failed")
    return 1 if failed or result.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
